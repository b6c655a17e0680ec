"""Dates, times, money and shares as Dutch and English readers expect them."""

from __future__ import annotations

import datetime as dt

import pytest

from vroegsignaal.service.pages.formatting import (
    EMPTY,
    format_date,
    format_chance,
    format_datetime,
    format_estimate,
    format_money,
    format_number,
    format_percent,
    short_id,
)
from vroegsignaal.service.pages.i18n import Translator

NL, EN = Translator("nl"), Translator("en")


def test_dates_use_the_month_names_of_the_language():
    day = dt.date(2026, 3, 4)
    assert format_date(day, NL) == "4 maart 2026"
    assert format_date(day, EN) == "4 March 2026"
    assert format_date(None, NL) == EMPTY


def test_times_are_shown_in_dutch_time():
    moment = dt.datetime(2026, 7, 1, 10, 30, tzinfo=dt.UTC)
    assert format_datetime(moment, NL) == "1 juli 2026, 12:30 uur"
    assert format_datetime(moment, EN) == "1 July 2026, 12:30"


@pytest.mark.parametrize(
    ("value", "dutch", "english"),
    [
        (1450.0, "€ 1.450", "€1,450"),
        (1450.37, "€ 1.450,37", "€1,450.37"),
        (1234567.5, "€ 1.234.567,50", "€1,234,567.50"),
        (0.0, "€ 0", "€0"),
        (None, EMPTY, EMPTY),
    ],
)
def test_money(value, dutch, english):
    assert (format_money(value, NL), format_money(value, EN)) == (dutch, english)


def test_numbers_and_shares():
    assert format_number(0.8123, NL, decimals=2) == "0,81"
    assert format_number(-0.001, EN, decimals=2) == "0.00"
    assert format_percent(0.125, NL, decimals=1) == "12,5%"
    assert format_percent(0.125, EN) == "12%"  # round half to even
    assert format_estimate(0.81, 0.72, 0.88, NL) == "0,81 (0,72–0,88)"
    assert format_estimate(0.81, None, None, EN) == "0.81"
    assert format_estimate(None, 0.1, 0.2, EN) == EMPTY


@pytest.mark.parametrize(("value", "text"), [(0.001, "<1%"), (0.344, "34%"), (0.996, ">99%"), (None, EMPTY)])
def test_a_chance_never_reads_as_certain(value, text):
    assert format_chance(value, EN) == text


def test_short_ids_keep_short_pseudonyms_whole_and_cut_long_ones():
    assert short_id("hh_page_000000001") == "hh_page_000000001"
    assert short_id("a" * 64) == "a" * 12 + "…"
