"""Benchmark: synthesis, training (with audit and card) and batch scoring on a large synthetic municipality.

Side by side in one run, on the same data and the same feature matrix:
  * ``vroegsignaal train`` (validate, features, fit, calibrate, evaluate vs rule and scorecard, fairness audit with
    bootstrap, explain, card, bundle) against a plain ``lightgbm.train`` with the same parameters and rounds;
  * ``Scorer.score_frame`` with reasons for every household that lands on a list or gets a flag, without reasons,
    and a plain ``Booster.predict`` on the same matrix.

Every stage runs in its own process and reports its own peak memory (max RSS). Timings on this
shared machine are noisy: the script repeats the scoring stages and reports medians.

Usage::

    .venv/bin/python bench/train.py --households 1000000 --results bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from results_file import replace_section  # bench/results_file.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def run_stage(name: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """Run ``bench/train.py --stage name args`` in a child process; return its JSON report plus wall time and RSS."""
    command = [PYTHON, str(Path(__file__).resolve()), "--stage", name, *args]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - start
    if process.returncode != 0:
        sys.stderr.write(stderr.decode())
        raise SystemExit(f"stage {name} failed with exit code {process.returncode}")
    report = json.loads(stdout.decode().strip().splitlines()[-1])
    report["wall_s"] = wall
    return report


# ----------------------------------------------------------------------------------------------- stages (children)


def _max_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_synth(households: int, out: Path) -> dict:
    from vroegsignaal.training.synth import generate_municipality, write_municipality

    start = time.perf_counter()
    result = generate_municipality(households=households, seed=42)
    generated = time.perf_counter() - start
    write_municipality(result, out)
    return {
        "seconds": time.perf_counter() - start,
        "generate_s": generated,
        "signals": len(result.signals),
        "label_rows": len(result.outcomes),
        "max_rss_mib": _max_rss_mib(),
    }


def stage_train(config: Path, out: Path) -> dict:
    from vroegsignaal.schemas.dataset_config import load_dataset_config
    from vroegsignaal.training.pipeline import run_pipeline

    steps: list[tuple[str, float]] = []
    start = time.perf_counter()
    result = run_pipeline(load_dataset_config(config), out, progress=lambda s: steps.append((s, time.perf_counter())), overwrite=True)
    end = time.perf_counter()
    marks = [t for _, t in steps] + [end]
    performance = result.card.performance
    return {
        "seconds": end - start,
        "steps": {name: marks[i + 1] - t for i, (name, t) in enumerate(steps)},
        "auc": performance.models["model"].auc,
        "bayes_auc": performance.bayes_auc,
        "share_of_bayes_auc": performance.share_of_bayes_auc,
        "lift_over_rule": performance.lift_over_rule,
        "rows": result.card.training_data.rows + result.card.evaluation_data.rows,
        "quality": {
            name: {key: getattr(metrics, key) for key in ("auc", "pr_auc", "precision_at_k", "recall_at_k")}
            for name, metrics in performance.models.items()
        },
        "capacity_k": result.card.capacity.k,
        "fairness_passed": bool(result.fairness.get("passed")),
        "max_rss_mib": _max_rss_mib(),
    }


def stage_plain(config: Path, bundle: Path) -> dict:
    """Plain LightGBM on the very matrix the pipeline trains on, same parameters, same number of rounds."""
    import lightgbm as lgb

    from vroegsignaal.schemas.dataset_config import load_dataset_config
    from vroegsignaal.scoring.bundle import load_bundle
    from vroegsignaal.training.data import load_dataset
    from vroegsignaal.training.fit import lightgbm_params, prepare_training
    from vroegsignaal.training.split import split_dataset

    dataset_config = load_dataset_config(config)
    start = time.perf_counter()
    dataset = load_dataset(dataset_config)
    split = split_dataset(dataset, dataset_config.split, seed=dataset_config.seed)
    preprocessor, monotone = prepare_training(dataset, dataset_config, training_rows=split.train)
    matrix = preprocessor.matrix(dataset.frame)
    prepared = time.perf_counter()
    rounds = load_bundle(bundle).ensemble.num_trees
    params = lightgbm_params(dataset_config, monotone)
    train = lgb.Dataset(matrix[split.train], dataset.y[split.train], categorical_feature=preprocessor.categorical_indices)
    fit_start = time.perf_counter()
    lgb.train(params, train, num_boost_round=rounds)
    fit_seconds = time.perf_counter() - fit_start
    return {
        "prepare_s": prepared - start,
        "fit_s": fit_seconds,
        "rounds": rounds,
        "train_rows": len(split.train),
        "max_rss_mib": _max_rss_mib(),
    }


def stage_features(data: Path, out: Path) -> dict:
    """The scoring input: every household of the municipality on the last reference date."""
    import pandas as pd

    from vroegsignaal.scoring.features import build_features

    signals = pd.read_parquet(data / "signals.parquet")
    households = pd.read_parquet(data / "households.parquet")
    reference_date = pd.read_parquet(data / "outcomes.parquet", columns=["reference_date"])["reference_date"].max()
    reference = pd.DataFrame({"household_id": households["household_id"], "reference_date": reference_date})
    start = time.perf_counter()
    features = build_features(signals, households, reference)
    seconds = time.perf_counter() - start
    features.to_parquet(out, index=False)
    return {"seconds": seconds, "rows": len(features), "max_rss_mib": _max_rss_mib()}


def stage_score(bundle: Path, features_path: Path, mode: str, repeats: int) -> dict:
    import pandas as pd

    from vroegsignaal.scoring.bundle import load_bundle
    from vroegsignaal.scoring.scorer import Scorer

    features = pd.read_parquet(features_path)
    scorer = Scorer(load_bundle(bundle))
    timings = []
    explained = 0
    for _ in range(repeats):
        start = time.perf_counter()
        if mode == "plain":
            matrix = scorer.bundle.preprocessor.matrix(features)
            booster = scorer.bundle.ensemble.boosters[0]
            booster.predict(matrix, raw_score=True)
        else:
            result = scorer.score_frame(features, explain="listed" if mode == "reasons" else False)
            explained = int(result["reasons"].notna().sum())
        timings.append(time.perf_counter() - start)
    median = statistics.median(timings)
    return {
        "median_s": median,
        "timings_s": timings,
        "rows": len(features),
        "rows_per_s": len(features) / median,
        "explained": explained,
        "max_rss_mib": _max_rss_mib(),
    }


# ------------------------------------------------------------------------------------------------------- the report


def write_results(results: dict, path: Path, command: str) -> None:
    synth, train, plain, features = results["synth"], results["train"], results["plain"], results["features"]
    scoring = results["scoring"]
    households = results["households"]
    lines = [
        f"## Training pipeline and batch scoring — {households:,} synthetic households",
        "",
        f"Measured {results['date']} on this machine ({os.cpu_count()} cores), command:",
        "",
        f"    {command}",
        "",
        "| stage | wall time | peak memory (max RSS) | notes |",
        "|---|---|---|---|",
        f"| synthesis (`vroegsignaal synth`) | {synth['wall_s']:.1f} s | {synth['max_rss_mib']:,.0f} MiB | "
        f"{synth['signals']:,} signals, {synth['label_rows']:,} label rows |",
        f"| train + audit + card (`run_pipeline`) | {train['seconds']:.1f} s | {train['max_rss_mib']:,.0f} MiB | "
        f"AUC {train['auc']:.3f}, Bayes limit {train['bayes_auc']:.3f} ({train['share_of_bayes_auc']:.1%}), "
        f"{train['lift_over_rule']:.2f}× the rule at capacity |",
        f"| plain `lightgbm.train`, same matrix and rounds | {plain['fit_s']:.1f} s (+{plain['prepare_s']:.1f} s to "
        f"load and build features) | {plain['max_rss_mib']:,.0f} MiB | {plain['rounds']} rounds on "
        f"{plain['train_rows']:,} rows |",
        f"| features for scoring (`build_features`) | {features['seconds']:.1f} s | {features['max_rss_mib']:,.0f} MiB | "
        f"{features['rows']:,} households, one reference date |",
        "",
        *_quality_lines(train),
        "Where the training time goes (seconds per pipeline step):",
        "",
        "| step | seconds |",
        "|---|---|",
        *[f"| {name} | {seconds:.1f} |" for name, seconds in train["steps"].items()],
        "",
        f"Batch scoring of {scoring['reasons']['rows']:,} households (median of {len(scoring['reasons']['timings_s'])} runs):",
        "",
        "| scorer | median | rows/s | ratio to plain LightGBM | reasons computed |",
        "|---|---|---|---|---|",
    ]
    plain_rate = scoring["plain"]["rows_per_s"]
    for name, label in (
        ("reasons", "`Scorer.score_frame`, reasons for listed/flagged households"),
        ("no_reasons", "`Scorer.score_frame`, no reasons"),
        ("plain", "plain `Booster.predict` (raw score only)"),
    ):
        entry = scoring[name]
        lines.append(
            f"| {label} | {entry['median_s']:.2f} s | {entry['rows_per_s']:,.0f} | {entry['rows_per_s'] / plain_rate:.2f} | "
            f"{entry['explained']:,} |"
        )
    train_ok = train["seconds"] <= 180 and train["max_rss_mib"] <= 4096
    score_ok = scoring["reasons"]["median_s"] <= 60
    lines += [
        "",
        "Targets (issue #2): train + audit + card within 3 minutes and 4 GiB; batch scoring of 1,000,000 households "
        "within 60 s including reasons for every household that lands on a list or gets a flag.",
        f"Verdict: training {'meets' if train_ok else 'MISSES'} its target ({train['seconds']:.0f} s, "
        f"{train['max_rss_mib'] / 1024:.1f} GiB); scoring {'meets' if score_ok else 'MISSES'} its target "
        f"({scoring['reasons']['median_s']:.0f} s, reasons for the {scoring['reasons']['explained']:,} households on a "
        "list or flagged; households without any signal in a year are on no list and get none).",
        "",
        "Reading the comparison: plain LightGBM trains a fixed number of rounds and does nothing else; the pipeline "
        "also validates every table (pandera, identifier checks), builds the features, early-stops, calibrates, "
        "compares with the rule and a scorecard, runs the fairness audit with bootstrap intervals and a proxy check, "
        "and writes the card with its plots. Exact TreeSHAP dominates scoring: computing reasons only where a person "
        "reads them is what keeps a million households within a minute.",
        "",
    ]
    section = "\n".join(lines)
    replace_section(path, section)


def _quality_lines(train: dict) -> list[str]:
    """Model quality on the temporal test set, beside the rule-based status quo and a logistic scorecard."""
    quality = train.get("quality")
    if not quality:
        return []
    lines = [
        f"Model quality on the test months (capacity k = {train['capacity_k']} households per month), same rows for "
        "all three:",
        "",
        "| ranking | AUC | PR-AUC | precision@k | recall@k |",
        "|---|---|---|---|---|",
    ]
    labels = {
        "model": "Vroegsignaal model",
        "rule": "rule (crisis, then partners, then arrears)",
        "scorecard": "logistic scorecard",
    }
    for name, metrics in quality.items():
        cells = [
            "—" if metrics[key] is None else f"{metrics[key]:.3f}"
            for key in ("auc", "pr_auc", "precision_at_k", "recall_at_k")
        ]
        lines.append(f"| {labels.get(name, name)} | {' | '.join(cells)} |")
    lines += ["", f"Bayes-limit AUC (the generator's true risk): {train['bayes_auc']:.3f}. Fairness gates passed: "
              f"{'yes' if train['fairness_passed'] else 'no'}.", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "train")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--results", type=Path, default=None, help="Append the results to this Markdown file.")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.stage:
        stages = {
            "synth": lambda a: stage_synth(int(a[0]), Path(a[1])),
            "train": lambda a: stage_train(Path(a[0]), Path(a[1])),
            "plain": lambda a: stage_plain(Path(a[0]), Path(a[1])),
            "features": lambda a: stage_features(Path(a[0]), Path(a[1])),
            "score": lambda a: stage_score(Path(a[0]), Path(a[1]), a[2], int(a[3])),
        }
        print(json.dumps(stages[options.stage](options.args)))
        return

    work = options.work
    work.mkdir(parents=True, exist_ok=True)
    data, bundle, features = work / "data", work / "model", work / "features.parquet"
    results: dict = {"households": options.households, "date": datetime.now(UTC).strftime("%Y-%m-%d")}
    print(f"synthesising {options.households:,} households ...", flush=True)
    results["synth"] = run_stage("synth", str(options.households), str(data))
    print(f"  {results['synth']['wall_s']:.1f} s; training ...", flush=True)
    results["train"] = run_stage("train", str(data / "dataset.yaml"), str(bundle))
    print(f"  {results['train']['seconds']:.1f} s; plain LightGBM ...", flush=True)
    results["plain"] = run_stage("plain", str(data / "dataset.yaml"), str(bundle))
    print("  building features for scoring ...", flush=True)
    results["features"] = run_stage("features", str(data), str(features))
    results["scoring"] = {}
    for mode in ("reasons", "no_reasons", "plain"):
        print(f"  scoring ({mode}) ...", flush=True)
        results["scoring"][mode] = run_stage("score", str(bundle), str(features), mode, str(options.repeats))
    (work / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    if options.results:
        command = "python bench/train.py " + " ".join(a for a in sys.argv[1:])
        write_results(results, options.results, command)
        print(f"results written to {options.results}")


if __name__ == "__main__":
    main()
