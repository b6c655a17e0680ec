"""Exponentiated gradient narrows a planted recall gap, reports every attribute and refuses bad input."""

from __future__ import annotations

import dataclasses
import json
import re

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from vroegsignaal.schemas.dataset_config import FairnessConfig
from vroegsignaal.training.fairness import (
    MSG_CATEGORICAL_MISMATCH,
    MSG_LENGTH_MISMATCH,
    MSG_NO_EARLY_STOPPING,
    MSG_NOT_BINARY,
    MSG_REPORTS_DIFFER,
    MSG_SINGLE_GROUP,
    MSG_UNKNOWN_ATTRIBUTE,
    MSG_UNKNOWN_CONSTRAINT,
    MSG_UNKNOWN_METHOD,
    FairnessReport,
    audit_fairness,
    compare_mitigation,
    fit_exponentiated_gradient,
    mixture_log_odds,
)

PARAMS = {"n_estimators": 40, "learning_rate": 0.1, "num_leaves": 7, "min_child_samples": 20, "n_jobs": 1}
CAPACITY_SHARE = 0.2


def make_biased(n: int, *, seed: int) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Households whose recorded arrears understate the need of group ``b``.

    A model that only sees arrears ranks ``b``'s households in need too low (lower recall for ``b``). A second
    feature is loosely related to the group, which is what a mitigation can use to correct the ranking.
    """
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], size=n, p=[0.7, 0.3])
    in_b = group == "b"
    need = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(2 * need - 2)))).astype(int)
    features = pd.DataFrame(
        {
            "arrears": need - 1.0 * in_b + rng.normal(scale=0.5, size=n),
            "district_index": in_b + rng.normal(scale=0.7, size=n),
            "household_type": pd.Categorical(rng.choice(["single", "couple"], size=n)),
        }
    )
    audit = pd.DataFrame({"group": group, "gender": rng.choice(["female", "male"], size=n)})
    return features, y, audit


def audit_scores(
    scores: np.ndarray, y: np.ndarray, audit: pd.DataFrame, features: pd.DataFrame
) -> FairnessReport:
    k = int(CAPACITY_SHARE * scores.size)
    selected = np.zeros(scores.size, dtype=bool)
    selected[np.argsort(-scores, kind="stable")[:k]] = True
    return audit_fairness(
        y_true=y,
        scores=scores,
        selected=selected,
        audit=audit,
        features=features,
        config=FairnessConfig(bootstrap_samples=30),
        intersections=[["group", "gender"]],
        capacity_k=k,
        seed=0,
    )


def recall_gap(report: FairnessReport) -> float:
    recall = {g.group: g.metrics["recall"].value for g in report.attribute("group").groups}
    return abs(recall["a"] - recall["b"])


@pytest.fixture(scope="module")
def mitigation():
    train_x, train_y, train_audit = make_biased(5000, seed=0)
    test_x, test_y, test_audit = make_biased(4000, seed=1)
    plain = lgb.LGBMClassifier(**PARAMS, random_state=0, verbose=-1).fit(train_x, train_y)
    mixture = fit_exponentiated_gradient(
        X=train_x,
        y=train_y,
        sensitive=train_audit["group"],
        estimator_params=PARAMS,
        categorical=["household_type"],
        constraint="true_positive_rate_parity",
        seed=0,
    )
    before = audit_scores(plain.predict_proba(test_x)[:, 1], test_y, test_audit, test_x)
    after_scores = 1 / (1 + np.exp(-mixture_log_odds(mixture, test_x)))
    after = audit_scores(after_scores, test_y, test_audit, test_x)
    return {"mixture": mixture, "before": before, "after": after, "train": (train_x, train_y, train_audit)}


def test_exponentiated_gradient_narrows_the_planted_recall_gap(mitigation):
    before, after = mitigation["before"], mitigation["after"]
    assert recall_gap(before) > 0.15, "the planted bias should show before mitigation"
    assert recall_gap(after) < recall_gap(before) / 2
    verdicts = [
        next(g.verdict for g in report.gates if g.attribute == "group" and g.metric == "recall_ratio")
        for report in (before, after)
    ]
    assert verdicts == ["fail", "pass"]


def test_mixture_is_a_set_of_weighted_boosters(mitigation):
    mixture = mitigation["mixture"]
    assert mixture
    assert all(weight > 0 and isinstance(booster, lgb.Booster) for weight, booster in mixture)
    assert sum(weight for weight, _ in mixture) == pytest.approx(1.0)
    # The sensitive attribute never became a feature: the boosters know only the three model features.
    features = ["arrears", "district_index", "household_type"]
    assert all(booster.feature_name() == features for _, booster in mixture)


def test_comparison_reports_every_attribute_and_gate_before_and_after(mitigation):
    section = compare_mitigation(
        mitigation["before"],
        mitigation["after"],
        method="exponentiated_gradient",
        constraint="true_positive_rate_parity",
        attribute="group",
    )
    names = ["group", "gender", "group × gender"]
    assert [a["name"] for a in section["before"]] == names
    assert [a["name"] for a in section["after"]] == names
    assert {g["attribute"] for g in section["gates_after"]} == {"group", "gender"}
    assert len(section["gates_before"]) == len(section["gates_after"])
    assert (section["method"], section["constraint"], section["attribute"]) == (
        "exponentiated_gradient", "true_positive_rate_parity", "group",
    )
    report = dataclasses.replace(mitigation["after"], mitigation=section)
    as_dict = report.to_dict()
    assert json.loads(json.dumps(as_dict, allow_nan=False)) == as_dict
    assert as_dict["mitigation"]["before"][0]["groups"][0]["group"] == "a"


def test_same_seed_gives_the_same_mixture(mitigation):
    train_x, train_y, train_audit = mitigation["train"]
    small = slice(0, 1500)
    fit = lambda: fit_exponentiated_gradient(  # noqa: E731
        X=train_x.iloc[small],
        y=train_y[small],
        sensitive=train_audit["group"].iloc[small],
        estimator_params=PARAMS,
        categorical=["household_type"],
        constraint="equalized_odds",
        seed=3,
        max_iter=5,
    )
    first, second = fit(), fit()
    assert [w for w, _ in first] == [w for w, _ in second]
    assert [b.model_to_string() for _, b in first] == [b.model_to_string() for _, b in second]


def test_integer_coded_categoricals_and_monotone_constraints_pass_through():
    features, y, audit = make_biased(1500, seed=2)
    coded = features.assign(household_type=features["household_type"].cat.codes.astype(float))
    mixture = fit_exponentiated_gradient(
        X=coded,
        y=y,
        sensitive=audit["group"],
        estimator_params={**PARAMS, "monotone_constraints": [1, 0, 0]},
        categorical=["household_type"],
        constraint="demographic_parity",
        seed=0,
        max_iter=5,
    )
    grid = pd.DataFrame(
        {"arrears": np.linspace(-3, 3, 50), "district_index": 0.0, "household_type": 1.0}
    )
    for _, booster in mixture:
        assert booster.dump_model()["feature_infos"]["household_type"]["values"], "split as a category"
        margins = booster.predict(grid, raw_score=True)
        assert np.all(np.diff(margins) >= 0), "more arrears never lowers the score"


def bad_fit(**overrides):
    features, y, audit = make_biased(200, seed=0)
    arguments = {
        "X": features,
        "y": y,
        "sensitive": audit["group"],
        "estimator_params": PARAMS,
        "categorical": ["household_type"],
        "constraint": "true_positive_rate_parity",
        "seed": 0,
        "max_iter": 2,
    }
    arguments.update(overrides)
    return fit_exponentiated_gradient(**arguments)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"constraint": "statistical_parity"}, MSG_UNKNOWN_CONSTRAINT),
        ({"categorical": []}, MSG_CATEGORICAL_MISMATCH),
        ({"categorical": ["household_type", "postcode"]}, MSG_CATEGORICAL_MISMATCH),
        ({"estimator_params": {**PARAMS, "early_stopping_rounds": 10}}, MSG_NO_EARLY_STOPPING),
        ({"sensitive": pd.Series(["a"] * 200)}, MSG_SINGLE_GROUP),
        ({"y": np.full(200, 3)}, MSG_NOT_BINARY),
        ({"sensitive": pd.Series(["a", "b"] * 50)}, MSG_LENGTH_MISMATCH),
    ],
)
def test_invalid_mitigation_input_is_refused(overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        bad_fit(**overrides)


def test_comparison_refuses_reports_of_different_data_and_unknown_choices(mitigation):
    before, after = mitigation["before"], mitigation["after"]
    other = dataclasses.replace(after, attributes=after.attributes[:1])
    valid = {"method": "exponentiated_gradient", "constraint": "equalized_odds", "attribute": "group"}
    with pytest.raises(ValueError, match=re.escape(MSG_REPORTS_DIFFER)):
        compare_mitigation(before, other, **valid)
    with pytest.raises(ValueError, match=re.escape(MSG_UNKNOWN_ATTRIBUTE)):
        compare_mitigation(before, after, **{**valid, "attribute": "age"})
    with pytest.raises(ValueError, match=re.escape(MSG_UNKNOWN_METHOD)):
        compare_mitigation(before, after, **{**valid, "method": "none"})
    with pytest.raises(ValueError, match=re.escape(MSG_UNKNOWN_CONSTRAINT)):
        compare_mitigation(before, after, **{**valid, "constraint": "parity"})
