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


@pytest.mark.parametrize(
    ("example", "shown"),
    [
        ("rent", "rent"), ("A201", "A201"), (12.5, 12.5), ("2024-10-01", "2024-10-01"),
        ("Jansen", "<hidden: 6 characters>"), ("fam. Jansen", "<hidden: 11 characters>"),
        ("Piet Jansen", "<hidden: 11 characters>"), ("111222333", "<hidden>"), ("Dorpsstraat 12", "<hidden>"),
        ("<hidden> Jansen", "<hidden: 15 characters>"),  # only the marker itself passes as hidden already
    ],
)
def test_examples_in_a_failure_never_repeat_a_name_or_an_address(example, shown):
    """A name put in a category column ("fam. Jansen" as a neighbourhood, "Jansen" as a gender) was repeated in the
    message; only numbers, dates and code-like values are shown now."""
    failure = ValidationFailure("households", "neighbourhood", "isin", 1, examples=(example,))
    assert failure.examples == (shown,)
    assert "Jansen" not in failure.describe()
