"""MLflow tracking: a real bundle logged to a tmp SQLite store, registered as 'candidate', served back by alias."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from tests.factories import flat_frame, train_bare_bundle, write_flat_dataset
from tests.model_cards.factories import make_card
from vroegsignaal.errors import ConfigError, NotFoundError
from vroegsignaal.model_cards import render_card
from vroegsignaal.scoring.bundle import load_bundle
from vroegsignaal.scoring.scorer import Scorer

pytestmark = [
    # Third-party warnings raised inside MLflow, not by our code: on importing mlflow.pyfunc (its own type hints),
    # from its SQLAlchemy store, and from its input-example check under pandas 3.
    pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning"),
    pytest.mark.filterwarnings(
        "ignore:The ``noload`` loader strategy is deprecated:sqlalchemy.exc.SADeprecationWarning"
    ),
    pytest.mark.filterwarnings("ignore:Operation with range is deprecated:pandas.errors.Pandas4Warning"),
]

MODEL_NAME = "vroegsignaal-flat-test"
OUTPUT_COLUMNS = ["score", "band", "intensity", "uncertain", "out_of_distribution", "flags", "reasons"]


@pytest.fixture(scope="module")
def tracking():
    """The module under test, imported here so the warning filters above cover mlflow's import."""
    from vroegsignaal import tracking as module

    return module


@pytest.fixture(scope="module")
def logged(tmp_path_factory, tracking):
    """One training run logged to a fresh SQLite store: (tracking_uri, bundle_dir, tracked run)."""
    base = tmp_path_factory.mktemp("tracking")
    config = write_flat_dataset(base / "data")
    bundle_dir = train_bare_bundle(config, base / "bundle")
    card = render_card(make_card(none_metrics=True, mitigation=False), base / "card", langs=("en",))
    uri = tracking.default_tracking_uri(base / "mlflow", environ={})
    # The example carries the id, the label and audit columns on purpose: none of them may reach MLflow.
    example = flat_frame(8, seed=5)
    tracked = tracking.log_training_run(
        tracking_uri=uri,
        experiment=config.name,
        run_name="flat-test-v1",
        params={"num_leaves": 8, "monotone": [1, 1, 0, 0]},
        metrics={"model.auc": 0.81, "rule.calibration_error": None, "scorecard.lift_at_k": float("nan")},
        bundle_dir=bundle_dir,
        card_dir=card.directory,
        input_example=example,
        registered_model_name=MODEL_NAME,
        tags={"model_version": "flat-test-v1", "promotable": "true"},
    )
    return uri, bundle_dir, tracked


def test_default_store_is_local_sqlite_with_artifacts_beside_it(tmp_path, tracking):
    uri = tracking.default_tracking_uri(tmp_path / "mlflow", environ={})
    assert uri == f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    assert tracking.local_sqlite_path(uri) == tmp_path / "mlflow" / "mlflow.db"
    assert tracking.artifact_location(uri, "demo") == (tmp_path / "mlflow" / "artifacts" / "demo").as_uri()


def test_tracking_uri_from_the_environment_wins(tmp_path, tracking):
    environ = {tracking.TRACKING_URI_ENV: "http://mlflow:5000"}
    assert tracking.default_tracking_uri(tmp_path, environ=environ) == "http://mlflow:5000"
    assert tracking.artifact_location("http://mlflow:5000", "demo") is None


@pytest.mark.slow
def test_run_holds_params_computable_metrics_tags_and_the_card(logged, tracking):
    uri, _, tracked = logged
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri)
    run = client.get_run(tracked.run_id)
    assert run.data.params == {"num_leaves": "8", "monotone": "[1, 1, 0, 0]"}
    assert run.data.metrics == {"model.auc": 0.81}
    assert run.data.tags["promotable"] == "true" and run.info.run_name == "flat-test-v1"
    card_files = {item.path for item in client.list_artifacts(tracked.run_id, tracking.CARD_ARTIFACT_PATH)}
    assert {"model_card/card.json", "model_card/card.en.html", "model_card/plots"} <= card_files


@pytest.mark.slow
def test_model_is_registered_as_candidate_with_its_tags(logged, tracking):
    uri, _, tracked = logged
    versions = tracking.list_versions(MODEL_NAME, tracking_uri=uri)
    assert [(v.version, v.aliases) for v in versions] == [(tracked.registered_version, ("candidate",))]
    assert versions[0].tags == {"model_version": "flat-test-v1", "promotable": "true"}
    assert versions[0].run_id == tracked.run_id
    assert tracked.model_uri == f"models:/{MODEL_NAME}/{tracked.registered_version}"


@pytest.mark.slow
def test_registered_model_scores_like_the_bundle_and_hides_audit_columns(logged, monkeypatch, tracking):
    uri, bundle_dir, _ = logged
    import mlflow

    monkeypatch.setenv(tracking.TRACKING_URI_ENV, uri)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@candidate")
    flavor = model.metadata.flavors["python_function"]
    assert flavor["model_code_path"].endswith("mlflow_model.py") and "python_model" not in flavor  # nothing pickled
    inputs = [spec.name for spec in model.metadata.get_input_schema().inputs]
    assert inputs == ["arrears_eur", "months_in_arrears", "region", "income_eur"]
    assert [spec.name for spec in model.metadata.get_output_schema().inputs] == OUTPUT_COLUMNS

    features = flat_frame(30, seed=9)
    served = model.predict(features[inputs])
    expected = Scorer(load_bundle(bundle_dir)).score_frame(features, explain=True)
    assert list(served.columns) == OUTPUT_COLUMNS
    pd.testing.assert_series_equal(served["score"], expected["score"], check_names=False)
    assert served["band"].tolist() == expected["band"].tolist()
    assert json.loads(served["reasons"].iloc[0]) == json.loads(json.dumps(expected["reasons"].iloc[0]))
    assert model.predict(features[inputs], params={"explain": "none"})["reasons"].isna().all()


@pytest.mark.slow
@pytest.mark.parametrize("reference", ["@candidate", "/1"])
def test_download_bundle_resolves_alias_or_version_to_a_verified_bundle(logged, tmp_path, reference, tracking):
    uri, bundle_dir, _ = logged
    local = tracking.download_bundle(f"models:/{MODEL_NAME}{reference}", tmp_path / "cache", tracking_uri=uri)
    assert load_bundle(local).model_version == load_bundle(bundle_dir).model_version


@pytest.mark.slow
def test_aliases_and_version_tags_follow_the_review(logged, tracking):
    uri, _, tracked = logged
    version = tracked.registered_version
    tracking.set_alias(MODEL_NAME, "approved", version, tracking_uri=uri)
    tracking.set_version_tags(MODEL_NAME, version, {"approved_by": "reviewer-01"}, tracking_uri=uri)
    (current,) = tracking.list_versions(MODEL_NAME, tracking_uri=uri)
    assert current.aliases == ("approved", "candidate") and current.tags["approved_by"] == "reviewer-01"
    tracking.delete_alias(MODEL_NAME, "approved", tracking_uri=uri)
    (current,) = tracking.list_versions(MODEL_NAME, tracking_uri=uri)
    assert current.aliases == ("candidate",)


@pytest.mark.slow
def test_the_service_mirror_leaves_a_version_one_status_alias(logged, tracking):
    from vroegsignaal.schemas.enums import ModelStatus
    from vroegsignaal.service.registry import alias_mirror

    uri, _, tracked = logged
    version = tracked.registered_version
    mirror = alias_mirror(uri)
    try:
        mirror(MODEL_NAME, version, ModelStatus.APPROVED)
        (current,) = tracking.list_versions(MODEL_NAME, tracking_uri=uri)
        assert current.aliases == ("approved",)  # no longer a candidate
        mirror(MODEL_NAME, version, ModelStatus.REJECTED)
        (current,) = tracking.list_versions(MODEL_NAME, tracking_uri=uri)
        assert current.aliases == ("rejected",)  # a rejected version keeps no 'approved'
    finally:
        mirror(MODEL_NAME, version, ModelStatus.CANDIDATE)  # as the other tests of this module expect it


@pytest.mark.slow
def test_unknown_alias_or_version_is_not_found(logged, tmp_path, tracking):
    uri, _, _ = logged
    with pytest.raises(NotFoundError, match=tracking.MSG_NO_VERSION):
        tracking.download_bundle(f"models:/{MODEL_NAME}@champion", tmp_path, tracking_uri=uri)
    with pytest.raises(NotFoundError, match=f"model '{MODEL_NAME}' version 7"):
        tracking.set_alias(MODEL_NAME, "champion", "7", tracking_uri=uri)
    assert tracking.list_versions("no-such-model", tracking_uri=uri) == []


def test_download_bundle_refuses_a_uri_that_names_no_model(tmp_path, tracking):
    with pytest.raises(ConfigError, match=tracking.MSG_NOT_A_MODELS_URI):
        tracking.download_bundle("s3://bucket/model", tmp_path)


@pytest.mark.slow
def test_logging_leaves_the_callers_tracking_uri_alone(logged, tracking):
    import mlflow

    assert tracking.TRACKING_URI_ENV not in os.environ
    assert not mlflow.get_tracking_uri().startswith(logged[0])


def test_a_model_without_its_card_is_not_logged(tmp_path, tracking):
    with pytest.raises(ConfigError, match=tracking.MSG_NO_CARD):
        tracking.log_training_run(
            tracking_uri=tracking.default_tracking_uri(tmp_path, environ={}),
            experiment="flat-test",
            run_name="no-card",
            params={},
            metrics={},
            bundle_dir=tmp_path / "bundle",
            card_dir=tmp_path / "card",
            input_example=flat_frame(3),
            registered_model_name=MODEL_NAME,
            tags={},
        )
    assert list(tmp_path.iterdir()) == []


def test_input_example_keeps_only_model_features_as_plain_columns(tracking):
    frame = flat_frame(10)
    frame["region"] = frame["region"].astype("category")
    example = tracking.model_input_example(frame, ("arrears_eur", "region"))
    assert list(example.columns) == ["arrears_eur", "region"] and len(example) == 5
    assert example["region"].dtype == object


def test_input_example_declares_whole_numbers_as_floats_so_a_missing_value_fits(tracking):
    frame = flat_frame(10)
    frame["months_in_arrears"] = frame["months_in_arrears"].round().astype("int64")
    example = tracking.model_input_example(frame, ("months_in_arrears", "region"))
    assert example["months_in_arrears"].dtype == "float64"


def test_input_example_without_a_model_feature_names_it(tracking):
    with pytest.raises(ConfigError, match="'debt_eur'"):
        tracking.model_input_example(flat_frame(3), ("arrears_eur", "debt_eur"))
