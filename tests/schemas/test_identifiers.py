"""Direct identifiers are detected, and reports never repeat them."""

from __future__ import annotations

import pandas as pd
import pytest

from vroegsignaal.schemas.identifiers import (
    CHECK_BSN,
    CHECK_NAME_COLUMN,
    CHECK_POSTCODE_HOUSE_NUMBER,
    find_identifier_columns,
    looks_like_identifier,
    passes_eleven_test,
)

# Numbers made up to pass the eleven-test; they are not anybody's BSN.
ELEVEN_TEST_NUMBERS = ["111222333", "123456782", "010000008"]


@pytest.mark.parametrize("number", ELEVEN_TEST_NUMBERS)
def test_eleven_test_accepts_valid_numbers(number):
    assert passes_eleven_test(number)


@pytest.mark.parametrize("number", ["123456789", "12345678a", "1234567", "000000000", "", "11122233\u00b3"])
def test_eleven_test_rejects_other_values(number):
    assert not passes_eleven_test(number)


def test_bsn_like_column_is_reported_by_row_without_its_values():
    frame = pd.DataFrame({"client": ELEVEN_TEST_NUMBERS, "amount_eur": [10.5, 20.0, 30.25]})
    failures = find_identifier_columns(frame, table="signals")
    assert [(f.column, f.check, f.count) for f in failures] == [("client", CHECK_BSN, 3)]
    assert failures[0].rows == (0, 1, 2)
    assert not any(number in failures[0].describe() for number in ELEVEN_TEST_NUMBERS)


def test_integer_bsn_column_is_detected():
    frame = pd.DataFrame({"nummer": [111222333, 123456782]})
    assert find_identifier_columns(frame, table="t")[0].check == CHECK_BSN


@pytest.mark.parametrize("column", ["bsn", "Naam", "achternaam", "geboortedatum", "street_address", "email"])
def test_identifier_column_names_are_refused(column):
    frame = pd.DataFrame({column: ["x", "y"]})
    assert find_identifier_columns(frame, table="t")[0].check.startswith(CHECK_NAME_COLUMN)


def test_postcode_with_house_number_is_detected():
    frame = pd.DataFrame({"loc": ["3511 AB 12", "1234AB 5", "9999 ZZ-1"]})
    assert find_identifier_columns(frame, table="t")[0].check == CHECK_POSTCODE_HOUSE_NUMBER


def test_ordinary_columns_pass():
    frame = pd.DataFrame(
        {
            "household_id": ["a3f9c2d4e5b6a7c8", "b3f9c2d4e5b6a7c8"],
            "amount_eur": [1450.0, 99.5],
            "partner_type": ["rent", "energy"],
            "telephone": ["A191", "A192"],
        }
    )
    assert find_identifier_columns(frame, table="t", allowed=["household_id"]) == []


@pytest.mark.parametrize(
    "value",
    ["111222333", "bsn-123456782", "1234.56.782", "12345678901", "1012 AB 5", "Voorbeeldstraat 1", "iemand@example.com",
     "06-12345678", 111222333],
)
def test_values_that_may_identify_a_person_are_recognised(value):
    assert looks_like_identifier(value)


@pytest.mark.parametrize("value", ["700", 1450.5, "rent", "team-noord", "hh_0001", True, "2026-03"])
def test_ordinary_values_are_not_taken_for_identifiers(value):
    assert not looks_like_identifier(value)


def _nine_digit_numbers(count: int, *, seed: int, passing: bool) -> list[str]:
    """Made-up 9-digit numbers that pass (or fail) the eleven-test; nobody's BSN."""
    import random

    rng, numbers = random.Random(seed), []
    while len(numbers) < count:
        number = f"{rng.randrange(100_000_000, 999_999_999)}"
        if passes_eleven_test(number) is passing:
            numbers.append(number)
    return numbers


def test_identifiers_behind_the_first_rows_or_mixed_with_other_values_are_found():
    """Only the first 20,000 rows were scanned, and a column needed half its values to be BSN-like: a reference
    column with BSNs after row 20,000, or in a third of its rows, passed."""
    from vroegsignaal.schemas.identifiers import SCAN_ROWS

    late = _nine_digit_numbers(SCAN_ROWS, seed=1, passing=False) + _nine_digit_numbers(10_000, seed=2, passing=True)
    assert [f.check for f in find_identifier_columns(pd.DataFrame({"ref": late}), table="t")] == [CHECK_BSN]
    mixed = _nine_digit_numbers(200, seed=3, passing=False) + _nine_digit_numbers(100, seed=4, passing=True)
    assert [f.check for f in find_identifier_columns(pd.DataFrame({"ref": mixed}), table="t")] == [CHECK_BSN]
    # Random 9-digit ids pass the eleven-test about 1 in 11 times: not refused.
    import random

    rng = random.Random(5)
    ids = [f"{rng.randrange(100_000_000, 999_999_999)}" for _ in range(3_000)]
    assert find_identifier_columns(pd.DataFrame({"ref": ids}), table="t") == []
