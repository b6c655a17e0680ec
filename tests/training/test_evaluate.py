"""Evaluation at capacity against the rule and the scorecard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vroegsignaal.schemas.dataset_config import Capacity, RuleKey
from vroegsignaal.training.evaluate import (
    calibration_error,
    evaluate,
    in_use_metrics,
    reach_by_group,
    rule_scores,
    select_in_use,
    select_top_k,
)


def test_top_k_is_chosen_per_period():
    scores = np.array([0.9, 0.1, 0.5, 0.8, 0.2, 0.3])
    periods = np.array([1, 1, 1, 2, 2, 2])
    selected = select_top_k(scores, periods, Capacity(count=1))
    assert selected.tolist() == [True, False, False, True, False, False]


MONTHS = pd.to_datetime(["2025-01-31", "2025-02-28", "2025-03-31", "2025-08-31"]).to_numpy()


def _monthly(scores_per_month: list[dict[str, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of (household, month) with their scores, from one {household: score} mapping per month."""
    households, periods, scores = [], [], []
    for month, scored in zip(MONTHS, scores_per_month, strict=False):
        for household, score in scored.items():
            households.append(household)
            periods.append(month)
            scores.append(score)
    return np.array(scores), np.array(periods), np.array(households, dtype=object)


def test_the_list_in_use_holds_a_contacted_household_back_and_gives_its_slot_to_the_next():
    # "a" ranks first every month: per period it takes the one slot each time; in use it is contacted in January,
    # waits, and is back in August (more than 182 days later). February and March go to "b" and then "c".
    month = {"a": 0.9, "b": 0.6, "c": 0.3}
    scores, periods, households = _monthly([month, month, month, month])
    per_period = select_top_k(scores, periods, Capacity(count=1))
    in_use = select_in_use(scores, periods, households, Capacity(count=1), cooldown_days=182)
    assert households[per_period].tolist() == ["a", "a", "a", "a"]
    assert households[in_use].tolist() == ["a", "b", "c", "a"]
    assert periods[in_use].tolist() == MONTHS.tolist()
    # Without a cooldown the list is the per-period top k.
    assert (select_in_use(scores, periods, households, Capacity(count=1), cooldown_days=0) == per_period).all()


def test_in_use_metrics_count_households_not_rows():
    households = np.array(["a", "a", "b", "b", "c", "d"], dtype=object)
    y = np.array([1, 1, 0, 1, 0, 1])
    selected = np.array([True, True, True, False, False, True])
    metrics = in_use_metrics(y, households, selected)
    # 4 contacts of 3 households; 3 contacts met a household in need (a twice, d); of a, b and d, a and d reached.
    assert (metrics.contacts, metrics.households, metrics.found) == (4, 3, 3)
    assert (metrics.households_helped, metrics.households_in_need) == (2, 3)
    assert metrics.precision == 0.75 and metrics.household_recall == pytest.approx(2 / 3)


def test_evaluation_replays_each_list_in_use_when_it_has_periods_and_households():
    # The model ranks "a" (in need every month) first, the rule ranks "b" (never in need) first.
    scores, periods, households = _monthly([{"a": 0.9, "b": 0.5, "c": 0.1}] * 4)
    y = np.array([1 if h == "a" else 0 for h in households])
    rule = np.where(households == "b", 0.9, np.where(households == "a", 0.5, 0.1))
    evaluation = evaluate(
        y=y, scores=scores, baselines={"rule": rule}, periods=periods, capacity=Capacity(count=1),
        households=households, cooldown_days=182,
    )
    in_use = evaluation.in_use
    assert in_use is not None and in_use.cooldown_days == 182
    # Per period the model finds "a" 4 times and the rule never; in use the model reaches "a" in January and
    # August, and the rule's list reaches "a" only when "b" waits (February).
    assert evaluation.models["model"].found_at_k == 4 and evaluation.models["rule"].found_at_k == 0
    assert in_use.orderings["model"].found == 2 and in_use.orderings["rule"].found == 1
    # The lift counts households in need reached, not contacts: both lists reached "a", the only one.
    assert in_use.orderings["model"].households_helped == in_use.orderings["rule"].households_helped == 1
    assert in_use.lift_over("rule") == 1.0
    flat = evaluation.flat_metrics()
    assert flat["in_use.lift_over_rule"] == 1.0 and flat["in_use.model.precision"] == 0.5
    assert evaluation.to_dict()["in_use"]["orderings"]["rule"]["households"] == 3
    without = evaluate(y=y, scores=scores, baselines={}, periods=None, capacity=Capacity(count=1),
                       households=households, cooldown_days=182)
    assert without.in_use is None and without.to_dict()["in_use"] is None


def test_reach_per_group_counts_households_in_need_and_those_the_list_reached():
    households = np.array(["a", "a", "b", "c", "d", "e"], dtype=object)
    y = np.array([1, 1, 1, 0, 1, 1])
    selected = np.array([False, True, False, True, True, False])
    audit = pd.DataFrame({"gender": ["female", "female", "male", "male", "male", "female"]})
    reach = {g.group: g for g in reach_by_group(y, households, selected, audit, min_in_need=2)}
    # female: a (reached in its second month) and e (not reached); male: b (not), d (reached); c needed no help.
    assert (reach["female"].households_in_need, reach["female"].households_helped) == (2, 1)
    assert (reach["male"].households_in_need, reach["male"].households_helped) == (2, 1)
    assert reach["female"].share == 0.5 and reach["male"].judgeable
    assert not reach_by_group(y, households, selected, audit, min_in_need=3)[0].judgeable


def test_rule_orders_crisis_first_then_partners_then_arrears():
    frame = pd.DataFrame(
        {"crisis": [0, 1, 0, 0], "partners": [3, 1, 3, 1], "arrears": [100.0, 50.0, 900.0, 5000.0]}
    )
    rule = [RuleKey(column="crisis"), RuleKey(column="partners"), RuleKey(column="arrears")]
    scores = rule_scores(frame, rule)
    assert np.argsort(-scores).tolist() == [1, 2, 0, 3]


def test_rule_gives_ties_the_same_score():
    frame = pd.DataFrame({"crisis": [1, 1, 0, 0]})
    scores = rule_scores(frame, [RuleKey(column="crisis")])
    assert scores[0] == scores[1] and scores[2] == scores[3] and scores[0] > scores[2]


def test_metrics_at_capacity_and_lift_over_baselines():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    model = np.array([0.9, 0.8, 0.1, 0.2, 0.1, 0.3, 0.2, 0.1, 0.1, 0.7])
    rule = np.array([0.9, 0.1, 0.8, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    evaluation = evaluate(
        y=y, scores=model, baselines={"rule": rule}, periods=None, capacity=Capacity(count=3), true_risk=model
    )
    assert evaluation.models["model"].precision_at_k == 1.0
    assert evaluation.models["model"].recall_at_k == 1.0
    assert evaluation.models["model"].lift_at_k == pytest.approx(1 / 0.3)
    assert evaluation.models["rule"].found_at_k == 1
    assert evaluation.lift_over("rule") == 3.0
    assert evaluation.models["rule"].brier is None
    assert evaluation.share_of_bayes_auc == pytest.approx(1.0)
    data = evaluation.to_dict()
    assert set(data["curves"]) == {"roc", "pr", "calibration", "score_histogram"}
    assert len(data["curves"]["roc"]["model"]["x"]) <= 200


def test_calibration_error_is_zero_for_perfect_probabilities():
    rng = np.random.default_rng(0)
    p = rng.random(200_000)
    y = (rng.random(p.size) < p).astype(int)
    assert calibration_error(y, p) < 0.01
    assert calibration_error(y, np.clip(p + 0.2, 0, 1)) > 0.1


def test_score_length_mismatch_is_refused():
    with pytest.raises(ValueError, match="scores for 3 test rows"):
        evaluate(y=np.array([0, 1, 0]), scores=np.array([0.1, 0.2]), baselines={}, periods=None, capacity=Capacity(count=1))
