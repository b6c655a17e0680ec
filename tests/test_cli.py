"""The command line as a data scientist uses it: readable output, non-zero exit codes on bad input."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.factories import flat_frame, write_flat_dataset
from tests.model_cards.factories import make_card
from vroegsignaal.cli import EXIT_INPUT_ERROR, app, print_training_summary

runner = CliRunner()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    write_flat_dataset(folder / "data", flat_frame(1_500))
    result = runner.invoke(
        app, ["train", "--config", str(folder / "data" / "dataset.yaml"), "--out", str(folder / "model"), "--no-track"]
    )
    assert result.exit_code == 0, result.output
    return folder, result


def test_train_prints_metrics_verdict_and_where_the_card_is(trained):
    folder, result = trained
    assert "AUC" in result.output and "Model card:" in result.output
    assert "Verdict: promotable\n" in result.output
    assert (folder / "model" / "card" / "card.html").is_file()


def test_training_summary_says_when_the_ethics_reviewer_must_decide(capsys, tmp_path):
    # The card's neighbourhood has too few households in need to judge recall parity.
    card = make_card(failing_gate=False)
    print_training_summary(
        SimpleNamespace(card=card, model_version="3", bundle_dir=tmp_path, card_html=tmp_path / "card.html", tracked=None)
    )
    printed = " ".join(capsys.readouterr().out.split())
    assert "Verdict: promotable, but the ethics reviewer must decide" in printed
    assert "Recall parity, the leading fairness criterion, could not be established for 'neighbourhood'" in printed


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_score_writes_one_row_per_input_row_with_reasons(trained, tmp_path, suffix):
    folder, _ = trained
    rows = flat_frame(120, seed=9).drop(columns=["at_risk", "gender", "age"])
    rows.to_csv(tmp_path / "input.csv", index=False)
    target = tmp_path / f"scored{suffix}"
    result = runner.invoke(
        app, ["score", "--model", str(folder / "model"), "--input", str(tmp_path / "input.csv"), "--out", str(target),
              "--explain", "all", "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(target) if suffix == ".csv" else pd.read_parquet(target)
    assert len(scored) == 120
    assert scored["case_id"].tolist() == rows["case_id"].tolist()
    assert {"score", "band", "intensity", "flags", "reason_1", "model_version"} <= set(scored.columns)
    assert scored["reason_1"].notna().any()


def test_score_names_a_missing_feature_and_writes_nothing(trained, tmp_path):
    folder, _ = trained
    flat_frame(10).drop(columns=["income_eur"]).to_csv(tmp_path / "input.csv", index=False)
    result = runner.invoke(
        app, ["score", "--model", str(folder / "model"), "--input", str(tmp_path / "input.csv"), "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == EXIT_INPUT_ERROR
    assert "income_eur" in result.output
    assert not (tmp_path / "o.csv").exists()


def test_score_refuses_a_table_with_a_bsn_or_name_column_and_writes_nothing(trained, tmp_path):
    """A table to score is checked like training data: a BSN or name column scored silently and would have been
    copied beside the scores."""
    folder, _ = trained
    rows = flat_frame(10, seed=9).drop(columns=["at_risk", "gender", "age"])
    rows["naam"] = "x"
    rows.to_csv(tmp_path / "input.csv", index=False)
    result = runner.invoke(
        app, ["score", "--model", str(folder / "model"), "--input", str(tmp_path / "input.csv"), "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == EXIT_INPUT_ERROR and "naam" in result.output and "identifier" in result.output
    assert not (tmp_path / "o.csv").exists()


def test_validate_lists_every_problem_and_fails(tmp_path):
    frame = flat_frame(100).astype({"arrears_eur": object}).assign(at_risk="no")
    frame.loc[2, "arrears_eur"] = "lots"
    write_flat_dataset(tmp_path, frame)
    result = runner.invoke(app, ["validate", "--config", str(tmp_path / "dataset.yaml")])
    assert result.exit_code == EXIT_INPUT_ERROR
    assert "arrears_eur" in result.output and "at_risk" in result.output
    # Not a terminal (a job's log): whole lines, nothing cut off at 80 columns.
    line = next(line for line in result.output.splitlines() if "arrears_eur" in line)
    assert "…" not in result.output and "fails 'numeric' in 1 row(s); rows 2; e.g. 'lots'" in line


def test_validate_accepts_good_data(tmp_path):
    write_flat_dataset(tmp_path)
    result = runner.invoke(app, ["validate", "--config", str(tmp_path / "dataset.yaml")])
    assert result.exit_code == 0, result.output
    assert "OK: 2,000 rows" in result.output


def test_train_refuses_a_sensitive_feature(tmp_path):
    write_flat_dataset(tmp_path / "data")
    config = tmp_path / "data" / "dataset.yaml"
    config.write_text(config.read_text() + "features: [arrears_eur, gender]\n")
    result = runner.invoke(app, ["train", "--config", str(config), "--out", str(tmp_path / "m"), "--no-track"])
    assert result.exit_code == EXIT_INPUT_ERROR
    assert "gender" in result.output and "never be a model feature" in result.output
    assert not (tmp_path / "m").exists()


def test_card_is_rendered_again_from_a_bundle(trained, tmp_path):
    folder, _ = trained
    result = runner.invoke(app, ["card", "--model", str(folder / "model"), "--out", str(tmp_path / "card")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "card" / "card.html").is_file() and (tmp_path / "card" / "card.en.html").is_file()


def test_missing_config_file_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["train", "--config", str(tmp_path / "none.yaml"), "--out", str(tmp_path / "m")])
    assert result.exit_code == EXIT_INPUT_ERROR
    assert "does not exist" in result.output


# Third-party warnings raised inside MLflow (see tests/test_tracking.py), not by our code.
IGNORE_MLFLOW_WARNINGS = pytest.mark.filterwarnings(
    "ignore:.*Any type hint is inferred as AnyType:UserWarning",
    "ignore:The ``noload`` loader strategy is deprecated",
    "ignore:Operation with range is deprecated:pandas.errors.Pandas4Warning",
)


@pytest.mark.slow
@IGNORE_MLFLOW_WARNINGS
def test_train_registers_a_candidate_that_score_can_use_by_alias(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    write_flat_dataset(tmp_path / "data", flat_frame(800))
    trained = runner.invoke(
        app, ["train", "--config", str(tmp_path / "data" / "dataset.yaml"), "--out", str(tmp_path / "m")]
    )
    assert trained.exit_code == 0, trained.output
    assert "models:/vroegsignaal-flat-test/1 (alias candidate)" in trained.output
    rows = flat_frame(20, seed=2).drop(columns=["at_risk", "gender", "age"])
    rows.to_csv(tmp_path / "input.csv", index=False)
    scored = runner.invoke(
        app,
        ["score", "--model", "models:/vroegsignaal-flat-test@candidate", "--input", str(tmp_path / "input.csv"),
         "--out", str(tmp_path / "scored.csv")],
    )
    assert scored.exit_code == 0, scored.output
    assert len(pd.read_csv(tmp_path / "scored.csv")) == 20


def test_card_never_replaces_a_folder_that_holds_no_card(trained, tmp_path):
    folder, _ = trained
    bundle = folder / "model"
    data = tmp_path / "data"
    data.mkdir()
    (data / "signals.csv").write_text("household_id\n", encoding="utf-8")
    for target in (data, bundle, bundle / "card"):
        result = runner.invoke(app, ["card", "--model", str(bundle), "--out", str(target)])
        assert result.exit_code == EXIT_INPUT_ERROR and "--out" in result.output, result.output
    assert (data / "signals.csv").is_file() and (bundle / "manifest.json").is_file()
    assert runner.invoke(app, ["score", "--model", str(bundle), "--input", str(folder / "data" / "data.csv"),
                               "--out", str(tmp_path / "scores.csv")]).exit_code == 0  # the bundle still verifies


def test_train_overwrite_replaces_a_bundle_only(trained, tmp_path):
    folder, _ = trained
    data = tmp_path / "data"
    write_flat_dataset(data, flat_frame(300))
    result = runner.invoke(app, ["train", "--config", str(folder / "data" / "dataset.yaml"), "--out", str(data),
                                 "--overwrite", "--no-track"])
    assert result.exit_code == EXIT_INPUT_ERROR and "not a model bundle" in result.output, result.output
    assert (data / "dataset.yaml").is_file()


def test_synth_into_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    for out in (tmp_path / "a-file", tmp_path / "a-file" / "data"):
        result = runner.invoke(app, ["synth", "--out", str(out), "--households", "200"])
        assert result.exit_code == EXIT_INPUT_ERROR and "is a file, not a folder" in result.output, result.output
