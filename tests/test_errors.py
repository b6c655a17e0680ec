"""Errors keep their content across process boundaries (a worker of a multiprocessing pool sends them back)."""

from __future__ import annotations

import pickle

import pytest

from vroegsignaal.errors import DataValidationError, IdentifierDetectedError, ValidationFailure


@pytest.mark.parametrize("cls", [DataValidationError, IdentifierDetectedError])
def test_a_data_validation_error_pickles_whole(cls):
    error = cls([ValidationFailure("data", "label", "enough rows of each class to split", 4)], summary="too few rows")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls and str(copy) == str(error) and list(copy.failures) == list(error.failures)
