"""The training pipeline: load → validate → features → split → fit → calibrate → evaluate → fairness → explain →
model card → model bundle (→ MLflow).

Each step is a small function in its own module that takes artefacts and returns one; this module only wires them
together, reports progress and does the I/O at the ends. A failure in any step leaves no bundle behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vroegsignaal.errors import ConfigError
from vroegsignaal.model_cards import texts as card_texts
from vroegsignaal.model_cards.render import render_card
from vroegsignaal.schemas.card import ModelCard
from vroegsignaal.schemas.dataset_config import DatasetConfig
from vroegsignaal.scoring.bundle import feature_set_of, make_model_version, write_bundle
from vroegsignaal.scoring.model import TreeEnsemble
from vroegsignaal.training import fairness as fairness_audit
from vroegsignaal.training.card import build_model_card
from vroegsignaal.training.data import Dataset, load_dataset
from vroegsignaal.training.evaluate import (
    Evaluation,
    evaluate,
    fit_scorecard,
    rule_scores,
    scorecard_scores,
    select_top_k,
)
from vroegsignaal.training.explain import explain_globally
from vroegsignaal.training.fit import FittedModel, calibrate, choose_bands, fit_model
from vroegsignaal.training.split import DataSplit, split_dataset

Progress = Callable[[str], None]

STEPS = (
    "load and validate the data",
    "split",
    "fit the model",
    "calibrate",
    "evaluate against the rule and the scorecard",
    "audit fairness",
    "explain",
    "write the model card and bundle",
    "log to MLflow",
)


@dataclass(frozen=True)
class PipelineResult:
    """What a training run produced."""

    bundle_dir: Path
    model_version: str
    card: ModelCard
    evaluation: Evaluation
    fairness: dict[str, Any]
    tracked: Any | None = None

    @property
    def promotable(self) -> bool:
        return self.card.verdict.promotable

    @property
    def card_html(self) -> Path:
        return self.bundle_dir / "card" / "card.html"


def _periods(dataset: Dataset, rows: np.ndarray) -> np.ndarray | None:
    return None if dataset.times is None else dataset.times[rows]


def _rows_per_period(dataset: Dataset) -> float:
    if dataset.times is None:
        return float(dataset.rows)
    return float(pd.Series(dataset.times).value_counts().mean())


def _mitigate(
    dataset: Dataset, split: DataSplit, config: DatasetConfig, fitted: FittedModel
) -> TreeEnsemble:
    """Retrain under the configured fairness constraint; the sensitive attribute is used here only."""
    attribute = config.mitigation.sensitive or dataset.audit.columns[0]
    params = {
        key: value
        for key, value in fitted.params.items()
        if key not in ("metric", "first_metric_only", "objective", "verbosity")
    }
    params["n_estimators"] = max(fitted.best_iteration, 10)
    rows = np.concatenate([split.train, split.validation])
    matrix = pd.DataFrame(
        fitted.preprocessor.matrix(dataset.frame.iloc[rows]), columns=list(fitted.preprocessor.feature_names)
    )
    members = fairness_audit.fit_exponentiated_gradient(
        X=matrix,
        y=dataset.y[rows],
        sensitive=dataset.audit[attribute].iloc[rows].reset_index(drop=True),
        estimator_params=params,
        categorical=[fitted.preprocessor.feature_names[i] for i in fitted.preprocessor.categorical_indices],
        constraint=config.mitigation.constraint,
        seed=config.seed,
    )
    total = sum(weight for weight, _ in members)
    return TreeEnsemble(tuple(b for _, b in members), tuple(w / total for w, _ in members))


def _audit(
    dataset: Dataset, split: DataSplit, config: DatasetConfig, scores: np.ndarray, preprocessor_frame: pd.DataFrame
):  # noqa: ANN202 - FairnessReport
    selected = select_top_k(scores, _periods(dataset, split.test), config.capacity)
    return fairness_audit.audit_fairness(
        y_true=dataset.y[split.test],
        scores=scores,
        selected=selected,
        audit=dataset.audit.iloc[split.test].reset_index(drop=True),
        features=preprocessor_frame,
        config=config.fairness,
        intersections=config.intersections,
        capacity_k=int(selected.sum()),
        seed=config.seed,
        # A household with signals in several test months has a row in each: the bootstrap draws households,
        # and a group's size (whether a gate may judge it) counts households, not rows.
        households=dataset.ids[split.test],
    )


def _counting_unit(dataset: Dataset, split: DataSplit, config: DatasetConfig, scores: np.ndarray):  # noqa: ANN202
    """How many distinct households the model's selection at capacity and the positives are (the card's note)."""
    ids = dataset.ids[split.test]
    y = dataset.y[split.test].astype(bool)
    selected = select_top_k(scores, _periods(dataset, split.test), config.capacity)
    return card_texts.counting_unit(
        selected_rows=int(selected.sum()),
        selected_households=len(np.unique(ids[selected])),
        positive_rows=int(y.sum()),
        positive_households=len(np.unique(ids[y])),
    )


def _proxy_frame(dataset: Dataset, rows: np.ndarray) -> pd.DataFrame:
    frame = dataset.frame.iloc[rows].reset_index(drop=True).copy()
    for name in dataset.categorical:
        frame[name] = frame[name].astype("category")
    return frame


def run_pipeline(
    config: DatasetConfig,
    out_dir: Path,
    *,
    tracking_uri: str | None = None,
    progress: Progress | None = None,
    overwrite: bool = False,
    now: datetime | None = None,
) -> PipelineResult:
    """Train, evaluate, audit and explain a model and write its bundle (with card) to ``out_dir``.

    With ``tracking_uri`` the run is also logged to MLflow and the model registered with alias ``candidate``.
    """
    step = progress or (lambda _: None)
    created_at = (now or datetime.now(UTC)).replace(microsecond=0)

    step(STEPS[0])
    dataset = load_dataset(config)
    step(STEPS[1])
    label_table = "outcomes" if dataset.layout == "signals" else "data"
    split = split_dataset(dataset, config.split, seed=config.seed, label=(label_table, config.label))
    step(STEPS[2])
    fitted = fit_model(dataset, split, config)
    test_frame = dataset.frame.iloc[split.test]

    step(STEPS[3])
    calibration_rows = dataset.frame.iloc[split.calibration]
    calibration = calibrate(
        fitted.margin(calibration_rows), dataset.y[split.calibration], method=config.split.calibration_method, seed=config.seed
    )
    ensemble = fitted.ensemble
    mitigation_before = None
    if config.mitigation.method == "exponentiated_gradient":
        unmitigated_scores = calibration.apply(fitted.margin(test_frame))
        mitigation_before = _audit(dataset, split, config, unmitigated_scores, _proxy_frame(dataset, split.test))
        # What the unmitigated model reaches on the same test rows: the card sets the mitigation's cost beside it.
        model_before = evaluate(
            y=dataset.y[split.test], scores=unmitigated_scores, baselines={}, periods=_periods(dataset, split.test),
            capacity=config.capacity,
        ).models["model"].to_dict()
        model_before.pop("found_at_k")
        ensemble = _mitigate(dataset, split, config, fitted)
        matrix = fitted.preprocessor.matrix(calibration_rows)
        calibration = calibrate(
            ensemble.margin(matrix), dataset.y[split.calibration], method=config.split.calibration_method, seed=config.seed
        )

    def score(frame: pd.DataFrame) -> np.ndarray:
        return calibration.apply(ensemble.margin(fitted.preprocessor.matrix(frame)))

    step(STEPS[4])
    scores = score(test_frame)
    fit_rows = np.concatenate([split.train, split.validation])
    scorecard = fit_scorecard(
        dataset.frame.iloc[fit_rows], dataset.y[fit_rows], categorical=dataset.categorical, seed=config.seed
    )
    baselines = {"scorecard": scorecard_scores(scorecard, test_frame, categorical=dataset.categorical)}
    if config.baseline_rule:
        baselines = {"rule": rule_scores(test_frame, config.baseline_rule), **baselines}
    evaluation = evaluate(
        y=dataset.y[split.test],
        scores=scores,
        baselines=baselines,
        periods=_periods(dataset, split.test),
        capacity=config.capacity,
        true_risk=None if dataset.true_risk is None else dataset.true_risk[split.test],
        households=dataset.ids[split.test],
        cooldown_days=config.capacity.cooldown_days,
        audit=dataset.audit.iloc[split.test].reset_index(drop=True),
        min_in_need=config.fairness.min_group_positives,
    )

    step(STEPS[5])
    report = _audit(dataset, split, config, scores, _proxy_frame(dataset, split.test))
    fairness = report.to_dict()
    if mitigation_before is not None:
        fairness["mitigation"] = fairness_audit.compare_mitigation(
            mitigation_before,
            report,
            method=config.mitigation.method,
            constraint=config.mitigation.constraint,
            attribute=config.mitigation.sensitive or dataset.audit.columns[0],
        )
        fairness["mitigation"]["model_before"] = model_before

    step(STEPS[6])
    explanation = explain_globally(ensemble, fitted.preprocessor, test_frame, seed=config.seed)
    bands = choose_bands(score(calibration_rows), config, rows_per_period=_rows_per_period(dataset))

    step(STEPS[7])
    model_texts = [booster.model_to_string() for booster in ensemble.boosters]
    model_version = make_model_version(config.name, created_at, model_texts)
    feature_set = feature_set_of(dataset.feature_names)
    test_periods = _periods(dataset, split.test)
    per_period = (
        len(split.test) if test_periods is None else float(pd.Series(test_periods).value_counts().mean())
    )
    card = build_model_card(
        config=config,
        dataset=dataset,
        split=split,
        evaluation=evaluation,
        fairness=fairness,
        explanation=explanation,
        model_version=model_version,
        created_at=created_at,
        feature_set=feature_set,
        calibration_method=calibration.method,
        capacity_k=config.capacity.k(round(per_period)),
        synthetic=dataset.true_risk is not None,
        counting_unit=_counting_unit(dataset, split, config, scores),
    )
    metrics = {
        **evaluation.to_dict(),
        "split": split.to_dict(),
        "model": {**fitted.to_dict(), "ensemble_size": len(ensemble.boosters)},
        "calibration": calibration.to_dict(),
    }
    tracked_runs: list[Any] = []

    def track(bundle_dir: Path) -> None:
        """Log the run to MLflow and register the model; any failure there ends the run, and write_bundle then
        leaves no new bundle behind and puts a bundle it replaced back."""
        if tracking_uri is None:
            return
        step(STEPS[8])
        from vroegsignaal import tracking  # imported here: MLflow is slow to import and optional for a run

        try:
            tracked_runs.append(
                tracking.log_training_run(
                    tracking_uri=tracking_uri,
                    experiment=config.name,
                    run_name=model_version,
                    params={**{k: v for k, v in fitted.params.items() if k != "metric"},
                            "best_iteration": fitted.best_iteration},
                    metrics={**evaluation.flat_metrics(), "fairness.passed": float(bool(fairness.get("passed")))},
                    bundle_dir=bundle_dir,
                    card_dir=bundle_dir / "card",
                    input_example=test_frame.head(5).reset_index(drop=True),
                    registered_model_name=config.model_name,
                    tags={
                        "model_version": model_version,
                        "promotable": str(card.verdict.promotable).lower(),
                        "verdict": card.verdict.outcome,
                    },
                )
            )
        except Exception as error:  # noqa: BLE001 - MLflow is another system; any failure there ends the run alike
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
            raise ConfigError(
                f"--tracking-uri: MLflow at '{tracking_uri}' did not take the run ({type(error).__name__}: {reason}); "
                "no new bundle was kept (a bundle it would have replaced is as it was)"
            ) from None

    bundle_dir = write_bundle(
        Path(out_dir),
        model_version=model_version,
        created_at=created_at,
        ensemble=ensemble,
        preprocessor=fitted.preprocessor,
        calibration=calibration,
        bands=bands,
        config=config,
        metrics=metrics,
        fairness=fairness,
        input_example=test_frame.head(5),
        write_extras=lambda staging: render_card(card, staging / "card"),
        overwrite=overwrite,
        after_publish=track,
    )
    tracked = tracked_runs[0] if tracked_runs else None
    return PipelineResult(bundle_dir, model_version, card, evaluation, fairness, tracked)
