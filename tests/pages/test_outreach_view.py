"""The outreach list's filters, this week's capacity and the reasons as chips and sentences."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from vroegsignaal.errors import DataValidationError
from vroegsignaal.schemas.api import OutreachItemPublic, OutreachListResponse, Reason
from vroegsignaal.schemas.enums import ContactIntensity, PartnerType, RiskBand
from vroegsignaal.service.pages.forms import FieldError
from vroegsignaal.service.pages.outreach_view import (
    FILTER_ERROR_KEY,
    MSG_BAD_FILTER,
    OVERDUE_ON,
    OutreachFilters,
    filter_form,
    filter_items,
    neighbourhoods_of,
    parse_filters,
    reason_chips,
    sentences,
    week_capacity,
)

DAY = dt.date(2026, 3, 4)


def item(
    rank: int, *, band: RiskBand | None = RiskBand.HIGH, partners: tuple[PartnerType, ...] = (PartnerType.RENT,),
    overdue: bool = False, neighbourhood: str | None = "WK034401", reasons: int = 0,
) -> OutreachItemPublic:
    return OutreachItemPublic(
        rank=rank, review_item_id=rank, household_id=f"hh_view_{rank:09d}", team="team-noord",
        neighbourhood=neighbourhood, partners=list(partners), approach="model" if band else "standard",
        standard_reason=None if band else "control_sample", score=0.5 if band else None, risk_band=band,
        suggested_intensity=ContactIntensity.PHONE,
        reasons=[Reason(feature="total_arrears_eur", value=1.0, contribution=0.1, text_nl=f"reden {i}",
                        text_en=f"reason {i}") for i in range(reasons)],
        review_flags=[], urgent=False, received_on=DAY, first_signal_date=DAY, deadline=DAY, overdue=overdue,
        updated_at=dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC),
    )


def listing(*items: OutreachItemPublic, standard: tuple[OutreachItemPublic, ...] = (), decided: int = 0,
            capacity: int = 5) -> OutreachListResponse:
    return OutreachListResponse(
        municipality_code="GM0344", team="team-noord", ordering="model", today=DAY, items=list(items),
        standard_approach=list(standard), held_back_count=0, overdue_count=0, capacity_per_week=capacity,
        decided_this_week=decided,
    )


def test_empty_query_means_no_filter():
    filters = parse_filters(band="", partner=None, overdue=None, neighbourhood="")
    assert filters == OutreachFilters() and not filters.active


def test_the_filter_form_shows_the_filters_in_use():
    form = filter_form(parse_filters(band="high", partner=None, overdue=OVERDUE_ON, neighbourhood="WK034401"))
    assert form.values == {"band": "high", "partner": "", "neighbourhood": "WK034401", "overdue": OVERDUE_ON}
    assert not form.has_errors


def test_a_refused_filter_has_its_message_at_its_field_and_the_form_shows_no_filter():
    # The list then shows every line, so no field may look as if it still filters.
    with pytest.raises(DataValidationError) as refused:
        parse_filters(band="extreme", partner="landlord", overdue="7", neighbourhood="WK<1>")
    form = filter_form(OutreachFilters(), refused.value)
    assert set(form.errors) == set(form.values)  # every filter the list can refuse has a field on the form
    assert form.error("band") == FieldError(FILTER_ERROR_KEY, {"value": "extreme", "rule": "high, medium, low"})
    assert set(form.values.values()) == {""}


def test_filters_combine_and_keep_each_line_at_its_place_in_the_whole_list():
    lines = [
        item(1, band=RiskBand.HIGH, partners=(PartnerType.RENT, PartnerType.ENERGY), overdue=True),
        item(2, band=RiskBand.MEDIUM, partners=(PartnerType.ENERGY,), overdue=True),
        item(3, band=RiskBand.HIGH, partners=(PartnerType.ENERGY,), overdue=False),
        item(4, band=RiskBand.HIGH, partners=(PartnerType.ENERGY,), overdue=True, neighbourhood="WK034409"),
    ]
    filters = parse_filters(band="high", partner="energy", overdue="1", neighbourhood="WK034401")
    assert [line.rank for line in filter_items(lines, filters)] == [1]
    assert [line.rank for line in filter_items(lines, parse_filters(band=None, partner="energy", overdue=None,
                                                                       neighbourhood=None))] == [1, 2, 3, 4]


def test_band_filter_leaves_out_lines_handled_the_standard_way():
    lines = [item(1, band=None), item(2, band=RiskBand.LOW)]
    assert [line.rank for line in filter_items(lines, OutreachFilters(band=RiskBand.LOW))] == [2]


def test_unknown_filter_values_are_named_with_the_values_allowed():
    with pytest.raises(DataValidationError, match=re.escape(MSG_BAD_FILTER)) as refused:
        parse_filters(band="extreme", partner="bank", overdue="yes", neighbourhood="Kerkstraat 1, Utrecht")
    failures = {failure.column: failure for failure in refused.value.failures}
    assert set(failures) == {"band", "partner", "overdue", "neighbourhood"}
    assert failures["band"].examples == ("extreme",) and "high, medium, low" in failures["band"].check
    assert "rent" in failures["partner"].check


def test_an_all_teams_list_marks_each_teams_lines_against_that_teams_own_capacity():
    """An admin's list mixes teams: the whole list's rank against all teams' capacity marked three lines of a team
    whose capacity is two."""
    lines = [item(rank).model_copy(update={"team": team}) for rank, team in
             enumerate(["team-noord", "team-noord", "team-noord", "team-zuid"], start=1)]
    listing_all = listing(*lines, capacity=4).model_copy(update={"team": "*", "decided_this_week": 1,
                                                                   "decided_this_week_by_team": {"team-zuid": 1}})
    capacity = week_capacity(listing_all, per_team=2)
    assert [capacity.this_week(line) for line in lines] == [True, True, False, True]
    capacity = week_capacity(listing_all.model_copy(update={"decided_this_week_by_team": {"team-zuid": 2}}),
                             per_team=2)
    assert capacity.this_week(lines[3]) is False  # team-zuid's week is full
    # What is left is summed per team: a team past its capacity leaves nothing for another.
    over = listing_all.model_copy(update={"decided_this_week": 5, "decided_this_week_by_team": {"team-noord": 5}})
    capacity = week_capacity(over, per_team=2)
    assert capacity.remaining == 2 and [capacity.this_week(line) for line in lines] == [False, False, False, True]


def test_capacity_marks_what_still_fits_in_this_week():
    capacity = week_capacity(listing(item(1), item(2), item(3), decided=3, capacity=5))
    assert capacity.remaining == 2
    assert [capacity.this_week(line) for line in (item(1), item(2), item(3))] == [True, True, False]
    assert week_capacity(listing(decided=9, capacity=5)).remaining == 0


def test_neighbourhoods_for_the_filter_come_from_both_lists_once_sorted():
    outreach = listing(item(1, neighbourhood="WK034405"), item(2, neighbourhood=None),
                       standard=(item(3, neighbourhood="WK034401"), item(4, neighbourhood="WK034405")))
    assert neighbourhoods_of(outreach) == ["WK034401", "WK034405"]


def test_chips_are_the_top_reasons_in_the_readers_language():
    line = item(1, reasons=4)
    assert reason_chips(line, lang="nl") == ["reden 0", "reden 1", "reden 2"]
    assert reason_chips(line, lang="en", limit=1) == ["reason 0"]


def test_reasons_become_full_sentences():
    assert sentences(["huurachterstand sinds 3 maanden, € 1.450", "Al goed.", " "]) == [
        "Huurachterstand sinds 3 maanden, € 1.450.", "Al goed."
    ]
