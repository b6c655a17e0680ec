"""Numbers, money, dates and times the way a Dutch (or English) reader expects them; pure functions.

Times are stored in UTC and shown in Dutch time (``service.clock``).
"""

from __future__ import annotations

import datetime as dt

from vroegsignaal import number_format
from vroegsignaal.service.clock import dutch_time
from vroegsignaal.service.pages.i18n import Translator

EMPTY = "–"


def format_date(value: dt.date | None, t: Translator) -> str:
    """``4 maart 2026`` / ``4 March 2026``."""
    if value is None:
        return EMPTY
    return t("format.date", day=value.day, month=t(f"month.{value.month}"), year=value.year)


def format_datetime(value: dt.datetime | None, t: Translator) -> str:
    """``4 maart 2026, 13:00`` in Dutch time."""
    if value is None:
        return EMPTY
    local = dutch_time(value)
    return t("format.datetime", date=format_date(local.date(), t), time=local.strftime("%H:%M"))


def format_number(value: float | None, t: Translator, *, decimals: int = 0) -> str:
    """``1.450,5`` in Dutch, ``1,450.5`` in English."""
    return EMPTY if value is None else number_format.format_decimal(value, t.lang, digits=decimals)


def format_money(value: float | None, t: Translator) -> str:
    """``€ 1.450`` (whole euros) or ``€ 1.450,37`` in Dutch; ``€1,450`` / ``€1,450.37`` in English."""
    if value is None:
        return EMPTY
    decimals = 0 if round(value, 2) == round(value) else 2
    amount = format_number(value, t, decimals=decimals)
    return f"€ {amount}" if t.lang == "nl" else f"€{amount}"


def format_percent(value: float | None, t: Translator, *, decimals: int = 0) -> str:
    """A share as a percentage: ``12,5%`` / ``12.5%``."""
    if value is None:
        return EMPTY
    return f"{format_number(value * 100, t, decimals=decimals)}%"


def format_chance(value: float | None, t: Translator) -> str:
    """A calibrated probability as a whole percentage that never reads as certain: ``<1%``, ``34%``, ``>99%``."""
    if value is None:
        return EMPTY
    if value < 0.005:
        return f"<{format_percent(0.01, t)}"
    if value >= 0.995:
        return f">{format_percent(0.99, t)}"
    return format_percent(value, t)


def format_estimate(value: float | None, low: float | None, high: float | None, t: Translator) -> str:
    """A value with its interval: ``0,81 (0,72–0,88)``, as the model card writes it."""
    return number_format.format_estimate(value, low, high, t.lang, missing=EMPTY)


def short_id(pseudonym: str, *, longest: int = 20, keep: int = 12) -> str:
    """A pseudonym short enough for a table: whole up to ``longest`` characters, else its first ``keep`` and "…".

    Pseudonyms are keyed hashes, so their first characters already tell households apart.
    """
    return pseudonym if len(pseudonym) <= longest else pseudonym[:keep] + "…"
