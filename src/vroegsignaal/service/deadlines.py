"""Deadlines for the first conversation: calendar days normally, working days when the situation is threatening.

A working day is Monday to Friday and not a Dutch public holiday. The holidays are the fixed national list (New
Year's Day, Easter Monday, King's Day, Ascension Day, Whit Monday, Christmas and Boxing Day) plus Liberation Day and
Good Friday, which many municipalities observe; Easter is computed (Gregorian computus), so no table to maintain.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday of ``year`` (anonymous Gregorian algorithm).

    >>> easter_sunday(2026)
    datetime.date(2026, 4, 5)
    """
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@lru_cache(maxsize=64)
def dutch_public_holidays(year: int) -> frozenset[dt.date]:
    """Dutch public holidays of ``year`` that fall on any weekday (weekends are non-working anyway)."""
    easter = easter_sunday(year)
    kings_day = dt.date(year, 4, 27)
    if kings_day.weekday() == 6:  # moved to Saturday when the 27th is a Sunday
        kings_day = dt.date(year, 4, 26)
    return frozenset(
        {
            dt.date(year, 1, 1),
            easter - dt.timedelta(days=2),  # Good Friday
            easter + dt.timedelta(days=1),  # Easter Monday
            kings_day,
            dt.date(year, 5, 5),  # Liberation Day
            easter + dt.timedelta(days=39),  # Ascension Day
            easter + dt.timedelta(days=50),  # Whit Monday
            dt.date(year, 12, 25),
            dt.date(year, 12, 26),
        }
    )


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in dutch_public_holidays(day.year)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (``start`` itself does not count).

    >>> add_working_days(dt.date(2026, 4, 2), 3)  # Thursday before Easter: Good Friday and Easter Monday skipped
    datetime.date(2026, 4, 9)
    """
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    day = start
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def first_contact_deadline(
    received_on: dt.date, *, urgent: bool, calendar_days: int, urgent_working_days: int
) -> dt.date:
    """When the first conversation is due: ``urgent_working_days`` working days if urgent, else calendar days."""
    if urgent:
        return add_working_days(received_on, urgent_working_days)
    return received_on + dt.timedelta(days=calendar_days)
