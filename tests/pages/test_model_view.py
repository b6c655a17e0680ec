"""A version's card read as data, and two versions side by side."""

from __future__ import annotations

import pytest

from tests.model_cards.factories import card_dict, make_card
from vroegsignaal.schemas.enums import ModelStatus, Role
from vroegsignaal.service.pages.model_view import (
    can_approve,
    can_promote,
    can_review,
    fairness_lines,
    gate_lines,
    metric_lines,
    primary_metric,
    read_card,
    single_attributes,
)


def test_a_stored_card_is_read_and_a_broken_one_is_none():
    assert read_card(card_dict()) == make_card()
    assert read_card({"schema_version": "1.0.0"}) is None
    assert read_card(None) is None


def test_fairness_lines_give_every_group_of_either_card_with_interval_and_size():
    before, after = make_card(), make_card(failing_gate=False)
    lines = fairness_lines([before, None, after], metric="recall")
    origin = {line.group: line for line in lines if line.attribute == "origin"}
    assert set(origin) == {"dutch", "europe", "outside_europe"}
    first, missing, last = origin["outside_europe"].cells
    assert missing is None and first is not None and last is not None
    # The group's households (1,295 rows at 2.4 a household): the size that decides whether it can be judged.
    assert (first.value, first.size, first.counts, first.judgeable) == (0.46, 540, "households", True)
    assert first.ci_low < first.value < first.ci_high
    assert all(line.attribute != "gender×origin" for line in lines)  # intersections stay in the full card


def test_a_card_made_before_households_were_counted_shows_its_rows():
    (line,) = [line for line in fairness_lines([make_card(rows_per_household=None)], metric="recall")
               if line.group == "outside_europe"]
    assert (line.cells[0].size, line.cells[0].counts) == (1295, "rows")


def test_a_group_too_small_to_judge_says_so():
    lines = fairness_lines([make_card()], metric="recall")
    small = next(line for line in lines if line.group == "65+")
    assert small.cells[0].judgeable is False and small.cells[0].value is None


def test_metrics_side_by_side_include_lift_and_capacity_and_say_which_way_is_better():
    lines = {line.key: line for line in metric_lines([make_card(), make_card(none_metrics=True)])}
    assert lines["metric.auc"].values == (0.81, None) and lines["metric.auc"].better == "higher"
    assert lines["metric.brier"].better == "lower"
    assert lines["metric.capacity_k"].display == "count"
    assert {"metric.lift_over_rule", "metric.lift_over_scorecard"} <= set(lines)


def test_gate_lines_pair_the_same_gate_of_both_versions():
    lines = gate_lines([make_card(failing_gate=True), make_card(failing_gate=False)])
    origin = next(line for line in lines if (line.attribute, line.metric) == ("origin", "recall_ratio"))
    assert [gate.verdict for gate in origin.gates] == ["fail", "pass"]


def test_primary_metric_comes_from_the_cards():
    assert primary_metric([None, make_card()]) == "recall"
    assert primary_metric([None]) == "recall"
    assert [a.name for a in single_attributes(make_card())] == ["age_band", "gender", "origin"]


@pytest.mark.parametrize(
    ("role", "status", "review", "promote"),
    [
        (Role.ETHICS_REVIEWER, ModelStatus.CANDIDATE, True, False),
        (Role.ETHICS_REVIEWER, ModelStatus.APPROVED, True, False),
        (Role.ETHICS_REVIEWER, ModelStatus.CHAMPION, True, False),
        (Role.ETHICS_REVIEWER, ModelStatus.RETIRED, True, False),
        (Role.ETHICS_REVIEWER, ModelStatus.REJECTED, False, False),
        (Role.ADMIN, ModelStatus.APPROVED, False, True),
        (Role.ADMIN, ModelStatus.RETIRED, False, True),
        (Role.ADMIN, ModelStatus.CANDIDATE, False, False),
        (Role.DATA_SCIENTIST, ModelStatus.CANDIDATE, False, False),
        (Role.CASEWORKER, ModelStatus.APPROVED, False, False),
    ],
)
def test_forms_are_offered_to_the_role_that_may_make_the_move(role, status, review, promote):
    assert (can_review(role, status), can_promote(role, status, gates_passed=True)) == (review, promote)


def test_only_a_candidate_can_be_approved():
    assert [status for status in ModelStatus if can_approve(status, gates_passed=True)] == [ModelStatus.CANDIDATE]


def test_a_version_that_failed_its_gates_is_neither_approved_nor_promoted():
    assert not any(can_approve(status, gates_passed=False) for status in ModelStatus)
    assert not any(can_promote(Role.ADMIN, status, gates_passed=False) for status in ModelStatus)
