"""Fitting refuses what must never be learnt from, respects monotone constraints, and calibrates."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tests.factories import flat_frame, write_flat_dataset
from vroegsignaal.errors import ConfigError, SensitiveFeatureError
from vroegsignaal.training.data import load_dataset
from vroegsignaal.training.evaluate import calibration_error
from vroegsignaal.training.fit import (
    MSG_COPY_OF_AUDIT,
    MSG_MONOTONE_CATEGORICAL,
    calibrate,
    choose_bands,
    fit_model,
    lightgbm_params,
    prepare_training,
)
from vroegsignaal.training.split import split_dataset


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    config = write_flat_dataset(tmp_path_factory.mktemp("fit"), flat_frame(3_000))
    dataset = load_dataset(config)
    split = split_dataset(dataset, config.split, seed=config.seed)
    return config, dataset, split, fit_model(dataset, split, config)


def test_model_learns_the_planted_signal(trained):
    _, dataset, split, fitted = trained
    auc = roc_auc_score(dataset.y[split.test], fitted.margin(dataset.frame.iloc[split.test]))
    assert auc > 0.75
    assert fitted.best_iteration >= 1
    assert fitted.ensemble.num_trees == fitted.best_iteration


def test_monotone_feature_never_lowers_the_margin(trained):
    _, dataset, _, fitted = trained
    frame = dataset.frame.head(300)
    for step in (1.0, 250.0, 5_000.0):
        raised = frame.assign(arrears_eur=frame["arrears_eur"] + step, months_in_arrears=frame["months_in_arrears"] + 1)
        assert (fitted.margin(raised) >= fitted.margin(frame) - 1e-12).all()


def test_calibrated_scores_are_close_to_observed_rates(trained):
    config, dataset, split, fitted = trained
    rows = dataset.frame.iloc[split.calibration]
    calibration = calibrate(fitted.margin(rows), dataset.y[split.calibration], method="sigmoid", seed=1)
    test_scores = calibration.apply(fitted.margin(dataset.frame.iloc[split.test]))
    assert calibration_error(dataset.y[split.test], test_scores) < 0.06
    isotonic = calibrate(fitted.margin(rows), dataset.y[split.calibration], method="isotonic", seed=1)
    assert np.all(np.diff(isotonic.apply(np.linspace(-5, 5, 50))) >= 0)


def test_bands_hold_the_capacity_share(trained):
    config, dataset, split, fitted = trained
    scores = 1 / (1 + np.exp(-fitted.margin(dataset.frame)))
    bands = choose_bands(scores, config, rows_per_period=dataset.rows)
    assert np.mean(scores >= bands.high) == pytest.approx(config.capacity.fraction, abs=0.02)
    assert bands.medium <= bands.high


def test_feature_that_relabels_an_audit_attribute_is_refused(tmp_path):
    frame = flat_frame(400)
    frame["segment"] = frame["gender"].map({"female": "s1", "male": "s2"})
    config = write_flat_dataset(tmp_path, frame, categorical=["region", "segment"])
    dataset = load_dataset(config)
    with pytest.raises(SensitiveFeatureError, match=f"'segment' {MSG_COPY_OF_AUDIT} 'gender'"):
        fit_model(dataset, split_dataset(dataset, config.split, seed=1), config)


@pytest.mark.parametrize(
    ("copy", "attribute"),
    [
        ("codes", "gender"),  # finer codes that a map turns into the groups (A91-A95 style)
        ("years", "age_band"),  # the age in years that the bands are cut from
    ],
)
def test_feature_whose_value_fixes_an_audit_group_is_refused(tmp_path, copy, attribute):
    frame = flat_frame(1_000)
    if copy == "codes":
        female, third = frame["gender"] == "female", frame.index % 3 == 0
        frame["codes"] = np.select([female & third, female, third], ["A95", "A92", "A91"], default="A93")
    else:
        frame["years"] = frame["age"]
    config = write_flat_dataset(tmp_path, frame, categorical=["region", "codes"] if copy == "codes" else ["region"])
    dataset = load_dataset(config)
    with pytest.raises(SensitiveFeatureError, match=f"'{copy}' {MSG_COPY_OF_AUDIT} '{attribute}'"):
        fit_model(dataset, split_dataset(dataset, config.split, seed=1), config)


def test_amounts_that_happen_to_be_unique_are_no_copies(trained):
    # Nearly every income occurs once, so each fixes one group trivially: the model still trained on it.
    _, dataset, _, fitted = trained
    assert "income_eur" in fitted.preprocessor.feature_names
    assert dataset.frame["income_eur"].nunique() > len(dataset.frame) / 2


def test_the_training_range_is_the_training_rows_range(trained):
    _, dataset, split, fitted = trained
    for name, bounds in fitted.preprocessor.numeric_ranges.items():
        training = dataset.frame[name].iloc[split.train]
        assert (bounds.minimum, bounds.maximum) == (training.min(), training.max()), name


def test_monotone_categorical_is_refused(tmp_path):
    config = write_flat_dataset(tmp_path, monotone_increasing=["arrears_eur", "region"])
    dataset = load_dataset(config)
    with pytest.raises(ConfigError, match=MSG_MONOTONE_CATEGORICAL):
        fit_model(dataset, split_dataset(dataset, config.split, seed=1), config)


def test_same_seed_same_model(tmp_path):
    config = write_flat_dataset(tmp_path, flat_frame(800))
    dataset = load_dataset(config)
    split = split_dataset(dataset, config.split, seed=config.seed)
    first, second = fit_model(dataset, split, config), fit_model(dataset, split, config)
    assert first.ensemble.boosters[0].model_to_string() == second.ensemble.boosters[0].model_to_string()


def test_early_stopping_follows_the_validation_log_loss(tmp_path):
    """The trees kept are those with the lowest validation log-loss (the first metric). LightGBM's early-stopping
    callback watches every metric unless told otherwise, so a validation AUC that peaks at the first tree (common on
    a small municipality's few positive rows) used to leave a one-tree model."""
    config = write_flat_dataset(tmp_path, flat_frame(3_000))
    dataset = load_dataset(config)
    split = split_dataset(dataset, config.split, seed=config.seed)
    fitted = fit_model(dataset, split, config)

    preprocessor, monotone = prepare_training(dataset, config, training_rows=split.train)
    matrix = preprocessor.matrix(dataset.frame)
    train = lgb.Dataset(matrix[split.train], dataset.y[split.train], categorical_feature=preprocessor.categorical_indices)
    valid = lgb.Dataset(matrix[split.validation], dataset.y[split.validation], reference=train)
    history: dict = {}
    rounds = fitted.best_iteration + config.model.early_stopping_rounds
    lgb.train(
        lightgbm_params(config, monotone), train, num_boost_round=rounds, valid_sets=[valid],
        callbacks=[lgb.record_evaluation(history)],
    )
    log_loss = history["valid_0"]["binary_logloss"]
    auc = history["valid_0"]["auc"]
    assert np.argmax(auc) != np.argmin(log_loss), "the two metrics must peak apart here, or the test proves nothing"
    assert fitted.best_iteration == int(np.argmin(log_loss)) + 1
