"""Dutch dates from UTC moments: what "today", "this week" and "not in the future" mean in the service.

Moments are kept in UTC (``now``, every ``*_at`` column), but a day is a Dutch day: today, a deadline and its working
days, this week's decisions, a signal or contact date that must not lie in the future. Between midnight and 01:00
(02:00 in summer) Dutch time the UTC date is still yesterday; a night batch of today's signals would be refused as
dated in the future, and its deadlines would count from the day before.

The EU rule for summer time is fixed (from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
October), so it is computed here instead of depending on a time-zone database that a slim container may not ship.
"""

from __future__ import annotations

import datetime as dt
import functools

CET = dt.timezone(dt.timedelta(hours=1), "CET")
CEST = dt.timezone(dt.timedelta(hours=2), "CEST")


def _last_sunday(year: int, month: int) -> dt.date:
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    last = first_of_next - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() + 1) % 7)


def dutch_time(moment: dt.datetime) -> dt.datetime:
    """``moment`` (timezone-aware) in Dutch time: CEST in summer time, CET otherwise.

    >>> dutch_time(dt.datetime(2026, 3, 29, 0, 59, tzinfo=dt.UTC)).strftime("%H:%M %Z")
    '01:59 CET'
    >>> dutch_time(dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC)).strftime("%H:%M %Z")
    '03:00 CEST'
    """
    utc = moment.astimezone(dt.UTC)
    start, end = _summer_time(utc.year)
    return utc.astimezone(CEST if start <= utc < end else CET)


@functools.lru_cache(maxsize=16)
def _summer_time(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The UTC moments summer time starts and ends in ``year`` (cached: every scoring request asks, and working them
    out cost ~5 µs a time)."""
    start = dt.datetime.combine(_last_sunday(year, 3), dt.time(1), tzinfo=dt.UTC)
    end = dt.datetime.combine(_last_sunday(year, 10), dt.time(1), tzinfo=dt.UTC)
    return start, end


def dutch_today(moment: dt.datetime) -> dt.date:
    """The date in the Netherlands at ``moment``.

    >>> dutch_today(dt.datetime(2026, 6, 10, 22, 30, tzinfo=dt.UTC))  # 00:30 on 11 June in Amsterdam
    datetime.date(2026, 6, 11)
    """
    return dutch_time(moment).date()


def start_of_dutch_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the Netherlands, as a UTC moment.

    >>> start_of_dutch_day(dt.date(2026, 6, 11))
    datetime.datetime(2026, 6, 10, 22, 0, tzinfo=datetime.timezone.utc)
    """
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    # Summer time starts and ends on a Sunday at 01:00 UTC, never between midnight Dutch time and midnight UTC of
    # the same day, so the offset at the latter is the one at the Dutch midnight.
    offset = dutch_time(midnight).utcoffset() or dt.timedelta()
    return midnight - offset


def start_of_dutch_week(moment: dt.datetime) -> dt.datetime:
    """Monday 00:00 Dutch time of the week of ``moment``, as a UTC moment.

    >>> start_of_dutch_week(dt.datetime(2026, 6, 14, 23, 0, tzinfo=dt.UTC))  # Monday 15 June, 01:00 in Amsterdam
    datetime.datetime(2026, 6, 14, 22, 0, tzinfo=datetime.timezone.utc)
    """
    today = dutch_today(moment)
    return start_of_dutch_day(today - dt.timedelta(days=today.weekday()))
