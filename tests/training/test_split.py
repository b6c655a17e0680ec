"""Temporal and stratified splits."""

from __future__ import annotations

import numpy as np
import pytest

from tests.factories import flat_frame, write_flat_dataset
from vroegsignaal.errors import DataValidationError
from vroegsignaal.training.data import load_dataset
from vroegsignaal.training.split import MSG_TOO_FEW_ROWS, split_dataset


def test_time_column_gives_a_temporal_split_testing_on_the_latest_periods(tmp_path):
    config = write_flat_dataset(tmp_path, flat_frame(1_200, with_time=True).drop(columns=["case_id"]), time="period", id=None)
    dataset = load_dataset(config)
    split = split_dataset(dataset, config.split, seed=1)
    assert split.kind == "temporal"
    assert dataset.times[split.test].min() > dataset.times[split.train].max()
    assert split.test_periods[0] > split.train_periods[1]
    assert "later periods" in split.description


def test_no_time_column_gives_a_stratified_split_of_disjoint_parts(tmp_path):
    config = write_flat_dataset(tmp_path)
    dataset = load_dataset(config)
    split = split_dataset(dataset, config.split, seed=1)
    parts = [split.train, split.validation, split.calibration, split.test]
    assert split.kind == "stratified"
    assert sum(len(p) for p in parts) == dataset.rows
    assert len(np.unique(np.concatenate(parts))) == dataset.rows
    rates = [dataset.y[p].mean() for p in parts]
    assert max(rates) - min(rates) < 0.03


def test_repeated_ids_never_straddle_train_validation_and_calibration(tmp_path):
    frame = flat_frame(1_200, with_time=True)
    frame["case_id"] = [f"case{i % 300:04d}" for i in range(len(frame))]
    frame = frame.drop_duplicates(["case_id", "period"])
    config = write_flat_dataset(tmp_path, frame, time="period")
    dataset = load_dataset(config)
    split = split_dataset(dataset, config.split, seed=1)
    train, valid, calib = (set(dataset.ids[p]) for p in (split.train, split.validation, split.calibration))
    assert not (train & valid) and not (train & calib) and not (valid & calib)


@pytest.mark.parametrize("horizon_days", [365, 60, 0])
def test_earlier_rows_of_tested_households_whose_label_reaches_the_test_periods_are_left_out(tmp_path, horizon_days):
    frame = flat_frame(1_200, with_time=True)
    frame["case_id"] = [f"case{i % 300:04d}" for i in range(len(frame))]
    frame = frame.drop_duplicates(["case_id", "period"])
    config = write_flat_dataset(tmp_path, frame, time="period", split={"label_horizon_days": horizon_days})
    dataset = load_dataset(config)
    split = split_dataset(dataset, config.split, seed=1)
    first_test = dataset.times[split.test].min()
    tested = set(dataset.ids[split.test])
    fitting = np.concatenate([split.train, split.validation, split.calibration])
    reaching = (dataset.times[fitting] + np.timedelta64(horizon_days, "D") > first_test) & np.isin(
        dataset.ids[fitting], list(tested)
    )
    assert not reaching.any()  # no tested household's label window reaches the test periods from training
    assert len(fitting) + len(split.test) + split.left_out == dataset.rows
    assert (split.left_out > 0) == (horizon_days > 0)


def test_split_is_deterministic_per_seed(tmp_path):
    config = write_flat_dataset(tmp_path)
    dataset = load_dataset(config)
    first, second = split_dataset(dataset, config.split, seed=5), split_dataset(dataset, config.split, seed=5)
    assert all(np.array_equal(getattr(first, p), getattr(second, p)) for p in ("train", "validation", "calibration", "test"))


def test_too_few_positives_is_a_clear_error(tmp_path):
    frame = flat_frame(300).assign(at_risk="no")
    frame.loc[:2, "at_risk"] = "yes"
    config = write_flat_dataset(tmp_path, frame)
    with pytest.raises(DataValidationError, match=MSG_TOO_FEW_ROWS):
        split_dataset(load_dataset(config), config.split, seed=1)


def test_too_few_rows_of_a_class_names_the_labels_table_and_column(tmp_path):
    frame = flat_frame(300).assign(at_risk="no")
    frame.loc[:2, "at_risk"] = "yes"
    config = write_flat_dataset(tmp_path, frame)
    with pytest.raises(DataValidationError) as raised:
        split_dataset(load_dataset(config), config.split, seed=1, label=("outcomes", "problematic_debt_12m"))
    failure = raised.value.failures[0]
    assert (failure.table, failure.column, failure.check) == ("outcomes", "problematic_debt_12m", MSG_TOO_FEW_ROWS)


def test_a_validation_or_calibration_part_with_too_few_positives_is_a_clear_error(tmp_path):
    # 7 positives among 1,000 rows: enough for the whole data and the test rows, too few to give each part the model
    # learns from (early stopping and calibration need both classes) one; a clear error, not scikit-learn's.
    frame = flat_frame(1_000).assign(at_risk="no")
    frame.loc[frame.index[::150], "at_risk"] = "yes"
    config = write_flat_dataset(tmp_path, frame)
    with pytest.raises(DataValidationError, match=r"the validation and calibration rows: 1 positive"):
        split_dataset(load_dataset(config), config.split, seed=1)
