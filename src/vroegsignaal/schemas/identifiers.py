"""Detection of direct identifiers that must never reach Vroegsignaal.

Households arrive as pseudonyms (a keyed hash of the BSN made by the municipality). A column that looks like a BSN
(9 digits passing the eleven-test), a name, an address, a postcode with house number, a date of birth, an e-mail
address or a phone number is refused before anything else touches the data. Reports name the column, the rule and
the rows, and never repeat the value itself: the report must not leak what it found.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from vroegsignaal.errors import IdentifierDetectedError, ValidationFailure

#: Share of a column's non-empty values that must look like an identifier before the column is refused. Random
#: 9-digit numbers pass the eleven-test about 1 in 11 times, so a single lucky amount does not trip it.
CONTENT_SHARE = 0.5
#: A column that mixes identifiers with other values (a reference column holding BSNs in a fifth of its rows) is
#: refused too once this share is reached by at least :data:`MIXED_MIN_HITS` values: random 9-digit numbers stay
#: near 1 in 11.
MIXED_SHARE = 0.2
MIXED_MIN_HITS = 20
MAX_EXAMPLE_ROWS = 5
#: Rows scanned per column, spread evenly over the whole table (an export sorted by source would hide a partner's
#: identifiers behind the first rows).
SCAN_ROWS = 20_000

CHECK_BSN = "bsn_eleven_test"
CHECK_NAME_COLUMN = "identifier_column_name"
CHECK_POSTCODE_HOUSE_NUMBER = "postcode_with_house_number"
CHECK_ADDRESS = "street_address"
CHECK_EMAIL = "email_address"
CHECK_PHONE = "phone_number"

_NAME_WORDS = {
    "bsn": "BSN",
    "burgerservicenummer": "BSN",
    "sofinummer": "BSN",
    "sofi": "BSN",
    "ssn": "BSN",
    "name": "name",
    "naam": "name",
    "voornaam": "name",
    "achternaam": "name",
    "firstname": "name",
    "lastname": "name",
    "surname": "name",
    "voorletters": "name",
    "initials": "name",
    "address": "address",
    "adres": "address",
    "straat": "address",
    "street": "address",
    "huisnummer": "address",
    "housenumber": "address",
    "postcode": "postcode",
    "zipcode": "postcode",
    "birth": "date of birth",
    "birthdate": "date of birth",
    "dob": "date of birth",
    "geboortedatum": "date of birth",
    "geboorte": "date of birth",
    "email": "e-mail address",
    "mail": "e-mail address",
    "phone": "phone number",
    "telefoon": "phone number",
    "telefoonnummer": "phone number",
    "iban": "bank account",
    "rekeningnummer": "bank account",
}

_POSTCODE_HOUSE = re.compile(r"^\s*[1-9]\d{3}\s?[A-Za-z]{2}\s*[-,]?\s*\d+", re.ASCII)
_ADDRESS = re.compile(
    r"[A-Za-z\u00C0-\u017F]+(straat|laan|weg|plein|gracht|kade|singel|dijk|hof|pad|dreef|steeg|park|markt)"
    r"\s+\d+",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^(\+31|0031|0)[\s-]?([1-9][\s-]?){1}(\d[\s-]?){7,8}$")


def passes_eleven_test(value: object) -> bool:
    """Whether a value is a 9-digit number (8 digits with a dropped leading zero) passing the BSN eleven-test.

    >>> passes_eleven_test("111222333")
    True
    >>> passes_eleven_test(123456789)
    False
    """
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not (text.isascii() and text.isdigit()) or len(text) not in (8, 9):  # isdigit() alone admits "²"
        return False
    digits = [int(d) for d in text.zfill(9)]
    if digits == [0] * 9:
        return False
    total = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - digits[8]
    return total % 11 == 0


#: A run of this many digits may be a BSN, a phone or an account number: never repeated in a message.
ECHO_MAX_DIGITS = 7


def looks_like_identifier(value: object) -> bool:
    """Whether ``value`` may identify a person, so a message must not repeat it: a BSN, any 8 or more digits in
    the text, a postcode with house number, a street address, an e-mail address or a phone number.

    >>> looks_like_identifier("bsn-123456782"), looks_like_identifier("1012 AB 5"), looks_like_identifier(1450.5)
    (True, True, False)
    """
    text = str(value)
    return (
        passes_eleven_test(text)
        or len(re.sub(r"\D", "", text)) > ECHO_MAX_DIGITS
        or bool(_POSTCODE_HOUSE.match(text) or _ADDRESS.search(text) or _EMAIL.match(text) or _PHONE.match(text))
    )


#: A value a message may repeat: one short code-like token ("rent", "A201", "2024-10-01", "GM0344"), not a
#: capitalised word (a surname) and nothing with spaces (a name, an address, a note).
_ECHOABLE = re.compile(r"^[A-Za-z0-9_.:/+-]{1,24}$")
_CAPITALISED_WORD = re.compile(r"^[A-Z][a-z]+$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HIDDEN = re.compile(r"^<hidden(?:: \d+ characters)?>$")
#: Capitalised words that are flags, not names.
_FLAG_WORDS = frozenset({"True", "False", "Yes", "No", "Ja", "Nee"})


def safe_example(value: object) -> object:
    """``value`` as a message may show it: numbers, flags and code-like text as they are; anything that may
    identify a person or that reads like a name or free text as ``<hidden: N characters>``.

    >>> safe_example("rent"), safe_example(12.5), safe_example("Jansen"), safe_example("fam. Jansen")
    ('rent', 12.5, '<hidden: 6 characters>', '<hidden: 11 characters>')
    """
    item = getattr(value, "item", None)  # a numpy scalar (np.bool_, np.int64): its plain value
    if callable(item) and not isinstance(value, (str, bytes)):
        try:
            value = item()
        except (TypeError, ValueError):
            pass
    if value is None or isinstance(value, (bool, int, float)):
        return "<hidden>" if looks_like_identifier(value) else value
    if str(value) in _FLAG_WORDS:
        return value
    if isinstance(value, (dt.date, pd.Timestamp)) or _ISO_DAY.match(str(value)):
        return value  # a date the rule is about (a signal's, an attempt's): not read as a phone number
    text = str(value)
    if _HIDDEN.match(text):  # hidden already (by this function, earlier on the way)
        return value
    if looks_like_identifier(text):
        return "<hidden>"
    if _ECHOABLE.match(text) and not _CAPITALISED_WORD.match(text):
        return value
    return f"<hidden: {len(text)} characters>"


def _words(column: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", column).lower()
    words = [w for w in re.split(r"[\s_\-.]+", spaced) if w]
    return [*words, "".join(words)]


def identifier_kind_of_name(column: str) -> str | None:
    """The identifier a column name suggests (``"BSN"``, ``"name"``, ...), or ``None``."""
    for word in _words(column):
        if word in _NAME_WORDS:
            return _NAME_WORDS[word]
    return None


def _rows_matching(values: pd.Series, predicate) -> pd.Series:  # noqa: ANN001
    return values.map(predicate).astype(bool)


def find_identifier_columns(
    frame: pd.DataFrame, *, table: str, allowed: Iterable[str] = ()
) -> list[ValidationFailure]:
    """Every column of ``frame`` that looks like a direct identifier, as validation failures.

    ``allowed`` columns (e.g. the pseudonym column) skip the name check but not the content checks: a pseudonym
    column full of valid BSNs is still refused. Rows are reported by position (0-based); values never are.
    """
    allowed = set(allowed)
    failures: list[ValidationFailure] = []
    sample = (
        frame
        if len(frame) <= SCAN_ROWS
        else frame.iloc[np.unique(np.linspace(0, len(frame) - 1, SCAN_ROWS).astype(np.int64))]
    )
    for column in frame.columns:
        name = str(column)
        kind = identifier_kind_of_name(name)
        if kind and name not in allowed:
            failures.append(
                ValidationFailure(table, name, f"{CHECK_NAME_COLUMN} (looks like a {kind})", int(frame[column].notna().sum()))
            )
            continue
        values = sample[column].dropna()
        if values.empty or pd.api.types.is_bool_dtype(values) or pd.api.types.is_float_dtype(values):
            # Floats with fractions are amounts; whole-number floats are checked below via their integer text.
            if values.empty or pd.api.types.is_bool_dtype(values):
                continue
            if not (values == values.round()).all():
                continue
        if pd.api.types.is_datetime64_any_dtype(values):
            continue
        text = values.astype(str)
        for check, predicate in (
            (CHECK_BSN, passes_eleven_test),
            (CHECK_POSTCODE_HOUSE_NUMBER, lambda v: bool(_POSTCODE_HOUSE.match(v))),
            (CHECK_ADDRESS, lambda v: bool(_ADDRESS.search(v))),
            (CHECK_EMAIL, lambda v: bool(_EMAIL.match(v))),
            (CHECK_PHONE, lambda v: bool(_PHONE.match(v))),
        ):
            hits = _rows_matching(text, predicate)
            if hits.any() and (
                hits.mean() >= CONTENT_SHARE or (hits.mean() >= MIXED_SHARE and hits.sum() >= MIXED_MIN_HITS)
            ):
                positions = [int(frame.index.get_loc(i)) for i in hits[hits].index[:MAX_EXAMPLE_ROWS]]
                failures.append(ValidationFailure(table, name, check, int(hits.sum()), rows=tuple(positions)))
                break
    return failures


MSG_IDENTIFIERS_REFUSED = (
    "refused: the data contains column(s) that look like direct identifiers; pseudonymise households before they "
    "reach Vroegsignaal and drop names, addresses and dates of birth"
)


def refuse_identifier_columns(tables: Mapping[str, pd.DataFrame], *, allowed: Iterable[str] = ()) -> None:
    """Raise :class:`IdentifierDetectedError` naming every column of ``tables`` (name → frame) that looks like a
    direct identifier (see :func:`find_identifier_columns`): for training data and for a table to score alike."""
    failures = [
        failure for name, frame in tables.items() for failure in find_identifier_columns(frame, table=name, allowed=allowed)
    ]
    if failures:
        raise IdentifierDetectedError(failures, summary=MSG_IDENTIFIERS_REFUSED)
