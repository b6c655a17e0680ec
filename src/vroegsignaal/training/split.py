"""Split the rows into train / validation (early stopping) / calibration / test.

With a time column the test set is the latest periods — the model is judged as it will be used, on months it has not
seen. A household's earlier rows whose label window (``label_horizon_days``) reaches into those months are left out
of training when the household is tested too: an event in the test months (entering debt assistance, say) would
otherwise be a label on both sides, as it can never be in use, where labels come a year late. Without a time column,
a stratified random split. Rows of the same id never straddle train, validation and calibration, so the model cannot
recognise a household it has already seen in those steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from vroegsignaal.errors import DataValidationError, ValidationFailure
from vroegsignaal.schemas.dataset_config import SplitConfig
from vroegsignaal.training.data import Dataset

MSG_TOO_FEW_ROWS = "enough rows of each class to split"
MIN_PER_CLASS = 5
#: Each part the model learns from (training, validation, calibration) needs both classes at all: early stopping and
#: calibration fail on one. A small municipality's parts may hold only a few positives (its households with many
#: signalled months go to one part whole); the card's verdict then judges whether the model is any good.
MIN_PER_CLASS_IN_PART = 1


@dataclass(frozen=True)
class DataSplit:
    """Row positions of each part, and how they were chosen."""

    kind: Literal["temporal", "stratified"]
    train: np.ndarray
    validation: np.ndarray
    calibration: np.ndarray
    test: np.ndarray
    train_periods: tuple[str, str] | None = None
    test_periods: tuple[str, str] | None = None
    #: Rows left out of every part: earlier rows of tested households whose label window reaches the test periods.
    left_out: int = 0

    def __post_init__(self) -> None:
        parts = [self.train, self.validation, self.calibration, self.test]
        joined = np.concatenate(parts)
        if len(np.unique(joined)) != len(joined):
            raise ValueError("split parts overlap")
        if any(len(p) == 0 for p in parts):
            raise ValueError("every split part needs rows")

    @property
    def description(self) -> str:
        if self.kind == "temporal" and self.test_periods and self.train_periods:
            left_out = (
                f" {self.left_out:,} earlier rows of tested households were left out of training: their label "
                "windows reach into the test periods."
                if self.left_out
                else ""
            )
            return (
                f"Temporal split: trained on {self.train_periods[0]} to {self.train_periods[1]}, "
                f"tested on the later periods {self.test_periods[0]} to {self.test_periods[1]}.{left_out}"
            )
        return "Stratified random split (the data has no time column)."

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "description": self.description,
            "rows": {
                "train": len(self.train),
                "validation": len(self.validation),
                "calibration": len(self.calibration),
                "test": len(self.test),
            },
            "train_periods": list(self.train_periods) if self.train_periods else None,
            "test_periods": list(self.test_periods) if self.test_periods else None,
        }


class _TooFewRows(Exception):
    """A part of the data lacks rows of a class; :func:`split_dataset` names the label's table and column."""

    def __init__(self, where: str, counts: np.ndarray, minimum: int) -> None:
        super().__init__(where)
        self.where, self.counts, self.minimum = where, counts, minimum


def _check_classes(y: np.ndarray, where: str, *, minimum: int = MIN_PER_CLASS) -> None:
    counts = np.bincount(y, minlength=2)
    if counts.min() < minimum:
        raise _TooFewRows(where, counts, minimum)


def _split_rest(
    positions: np.ndarray, y: np.ndarray, ids: np.ndarray, config: SplitConfig, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train / validation / calibration from ``positions``: by id when ids repeat, stratified otherwise."""
    share_valid, share_calib = config.validation_fraction, config.calibration_fraction
    rest_ids = ids[positions]
    if len(np.unique(rest_ids)) < len(rest_ids):
        rng = np.random.default_rng(seed)
        unique = np.unique(rest_ids)
        draw = pd.Series(rng.random(len(unique)), index=unique)
        u = draw.reindex(rest_ids).to_numpy()
        valid = positions[u < share_valid]
        calib = positions[(u >= share_valid) & (u < share_valid + share_calib)]
        train = positions[u >= share_valid + share_calib]
        return train, valid, calib
    train, holdout = train_test_split(
        positions, test_size=share_valid + share_calib, stratify=y[positions], random_state=seed
    )
    # Split again by label below: each class needs a row for each part (scikit-learn would stop with a ValueError).
    _check_classes(y[holdout], "the validation and calibration rows", minimum=2 * MIN_PER_CLASS_IN_PART)
    valid, calib = train_test_split(
        holdout, test_size=share_calib / (share_valid + share_calib), stratify=y[holdout], random_state=seed
    )
    return np.sort(train), np.sort(valid), np.sort(calib)


def split_dataset(
    dataset: Dataset, config: SplitConfig, *, seed: int, label: tuple[str, str] = ("data", "label")
) -> DataSplit:
    """Temporal split when the data has at least two periods, else stratified random.

    Too few rows of a class for a part is a :class:`DataValidationError` naming ``label``, the table and column the
    label comes from."""
    try:
        return _split(dataset, config, seed=seed)
    except _TooFewRows as few:
        table, column = label
        raise DataValidationError(
            [ValidationFailure(table, column, MSG_TOO_FEW_ROWS, int(few.counts.min()))],
            summary=f"{few.where}: {few.counts[1]} positive and {few.counts[0]} negative row(s); at least "
            f"{few.minimum} of each are needed to train, calibrate and test",
        ) from None


def _split(dataset: Dataset, config: SplitConfig, *, seed: int) -> DataSplit:
    _check_classes(dataset.y, "the data")
    positions = np.arange(dataset.rows)
    if dataset.times is not None:
        periods = np.unique(dataset.times)
        if len(periods) >= 2:
            n_test = max(1, math.ceil(config.test_fraction * len(periods)))
            n_test = min(n_test, len(periods) - 1)
            first_test = periods[len(periods) - n_test]
            is_test = dataset.times >= first_test
            test, rest = positions[is_test], positions[~is_test]
            horizon = np.timedelta64(config.label_horizon_days, "D")
            # pandas hashes the ids; np.isin on an object array compares pairwise (8 s on a million households).
            tested = pd.Series(dataset.ids[rest]).isin(pd.unique(dataset.ids[test])).to_numpy()
            overlapping = tested & (dataset.times[rest] + horizon > first_test)
            rest = rest[~overlapping]
            _check_classes(dataset.y[test], "the test periods")
            _check_classes(dataset.y[rest], "the training periods")
            train, valid, calib = _split_rest(rest, dataset.y, dataset.ids, config, seed)
            _check_parts(dataset.y, train, valid, calib)
            fmt = lambda t: str(pd.Timestamp(t).date())  # noqa: E731
            return DataSplit(
                "temporal",
                train,
                valid,
                calib,
                test,
                train_periods=(fmt(periods[0]), fmt(periods[len(periods) - n_test - 1])),
                test_periods=(fmt(first_test), fmt(periods[-1])),
                left_out=int(overlapping.sum()),
            )
    rest, test = train_test_split(positions, test_size=config.test_fraction, stratify=dataset.y, random_state=seed)
    train, valid, calib = _split_rest(np.sort(rest), dataset.y, dataset.ids, config, seed)
    _check_parts(dataset.y, train, valid, calib)
    return DataSplit("stratified", train, valid, calib, np.sort(test))


def _check_parts(y: np.ndarray, train: np.ndarray, validation: np.ndarray, calibration: np.ndarray) -> None:
    """Each part the model learns from needs both classes (see :data:`MIN_PER_CLASS_IN_PART`)."""
    for rows, where in ((train, "the training rows"), (validation, "the validation rows"),
                        (calibration, "the calibration rows")):
        _check_classes(y[rows], where, minimum=MIN_PER_CLASS_IN_PART)
