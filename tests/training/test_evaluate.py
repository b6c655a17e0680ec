"""Evaluation at capacity against the rule and the scorecard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vroegsignaal.schemas.dataset_config import Capacity, RuleKey
from vroegsignaal.training.evaluate import calibration_error, evaluate, rule_scores, select_top_k


def test_top_k_is_chosen_per_period():
    scores = np.array([0.9, 0.1, 0.5, 0.8, 0.2, 0.3])
    periods = np.array([1, 1, 1, 2, 2, 2])
    selected = select_top_k(scores, periods, Capacity(count=1))
    assert selected.tolist() == [True, False, False, True, False, False]


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
