"""Dutch dates from UTC moments (``service.clock``), checked against the time-zone database where there is one."""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vroegsignaal.service.clock import dutch_time, dutch_today, start_of_dutch_day, start_of_dutch_week

try:
    AMSTERDAM: zoneinfo.ZoneInfo | None = zoneinfo.ZoneInfo("Europe/Amsterdam")
except zoneinfo.ZoneInfoNotFoundError:  # the service does not need it; only this oracle does
    AMSTERDAM = None
# pandas brings the tzdata package, so the oracle is there wherever the project is installed; a local run without
# it may skip, CI may not (the comparison is the test).
needs_tz_database = pytest.mark.skipif(
    AMSTERDAM is None and os.environ.get("CI") != "true", reason="no time-zone database to compare with"
)

moments = st.datetimes(min_value=dt.datetime(1997, 1, 1), max_value=dt.datetime(2037, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=dt.UTC)
)


@pytest.mark.parametrize(
    ("moment", "expected_hour", "zone"),
    [
        (dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC), 13, "CET"),
        (dt.datetime(2026, 3, 29, 0, 59, tzinfo=dt.UTC), 1, "CET"),  # last Sunday of March, just before 01:00 UTC
        (dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC), 3, "CEST"),
        (dt.datetime(2026, 10, 25, 0, 59, tzinfo=dt.UTC), 2, "CEST"),  # last Sunday of October
        (dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC), 2, "CET"),
    ],
)
def test_dutch_time_follows_the_eu_summer_time_rule(moment, expected_hour, zone):
    local = dutch_time(moment)
    assert (local.hour, local.tzname()) == (expected_hour, zone)


@pytest.mark.parametrize(
    ("moment", "today"),
    [
        (dt.datetime(2026, 6, 10, 21, 59, tzinfo=dt.UTC), dt.date(2026, 6, 10)),  # 23:59 summer time
        (dt.datetime(2026, 6, 10, 22, 0, tzinfo=dt.UTC), dt.date(2026, 6, 11)),  # midnight: UTC says 10 June
        (dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC), dt.date(2027, 1, 1)),  # new year, winter time
        (dt.datetime(2026, 12, 31, 22, 59, tzinfo=dt.UTC), dt.date(2026, 12, 31)),
    ],
)
def test_today_is_the_dutch_date(moment, today):
    assert dutch_today(moment) == today


def test_the_week_starts_on_monday_midnight_dutch_time():
    # Sunday 29 March 2026 is the first day of summer time; its week began on Monday 23 March at 00:00 CET.
    assert start_of_dutch_week(dt.datetime(2026, 3, 29, 12, 0, tzinfo=dt.UTC)) == dt.datetime(
        2026, 3, 22, 23, 0, tzinfo=dt.UTC
    )
    # Monday 30 March, 00:30 CEST, is in the next week.
    assert start_of_dutch_week(dt.datetime(2026, 3, 29, 22, 30, tzinfo=dt.UTC)) == dt.datetime(
        2026, 3, 29, 22, 0, tzinfo=dt.UTC
    )


@needs_tz_database
@given(moments)
def test_dutch_time_agrees_with_the_time_zone_database(moment):
    expected = moment.astimezone(AMSTERDAM)
    local = dutch_time(moment)
    assert local.replace(tzinfo=None) == expected.replace(tzinfo=None)
    assert local.utcoffset() == expected.utcoffset()
    assert dutch_today(moment) == expected.date()


@needs_tz_database
@given(moments)
def test_start_of_week_agrees_with_the_time_zone_database(moment):
    local = moment.astimezone(AMSTERDAM)
    monday = dt.datetime.combine(local.date() - dt.timedelta(days=local.weekday()), dt.time(), tzinfo=AMSTERDAM)
    assert start_of_dutch_week(moment) == monday.astimezone(dt.UTC)


@needs_tz_database
@given(st.dates(min_value=dt.date(1997, 1, 1), max_value=dt.date(2037, 12, 31)))
def test_start_of_day_agrees_with_the_time_zone_database(day):
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=AMSTERDAM)
    assert start_of_dutch_day(day) == midnight.astimezone(dt.UTC)
