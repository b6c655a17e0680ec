"""The proxy check finds a feature that stands in for an audit attribute and stays quiet on noise."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from vroegsignaal.schemas.dataset_config import FairnessGates
from vroegsignaal.training.fairness import MSG_FEATURE_DTYPE, MSG_INDEX_MISMATCH, check_proxies
from vroegsignaal.training.fairness_gates import proxy_gate
from vroegsignaal.training.fairness_proxy import capped_sample


def make_households(n: int = 1500, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features with a planted proxy of ``origin`` (a neighbourhood-like score); ``gender`` is pure noise."""
    rng = np.random.default_rng(seed)
    origin = rng.choice(["dutch", "europe", "outside_europe"], size=n, p=[0.6, 0.2, 0.2])
    gender = rng.choice(["female", "male"], size=n)
    planted = {"dutch": 0.0, "europe": 2.0, "outside_europe": 4.0}
    features = pd.DataFrame(
        {
            "district_score": np.vectorize(planted.get)(origin) + rng.normal(scale=0.5, size=n),
            "arrears_eur": rng.gamma(2.0, 300.0, size=n),
            "signals_12m": rng.poisson(2, size=n),
            "household_type": pd.Categorical(rng.choice(["single", "couple", "single_parent"], size=n)),
            "recent_move": rng.random(n) < 0.1,
        }
    )
    return features, pd.DataFrame({"origin": origin, "gender": gender})


@pytest.fixture(scope="module")
def proxies():
    features, audit = make_households()
    results = check_proxies(features=features, audit=audit, gates=FairnessGates(), seed=1)
    return {result.attribute: result for result in results}


def test_planted_proxy_is_found_and_fails_the_gate(proxies):
    origin = proxies["origin"]
    assert origin.auc > 0.9
    assert origin.verdict == "fail"
    assert origin.top_features[0].feature == "district_score"
    assert origin.top_features[0].importance > 0.5
    assert origin.strongest_group in {"dutch", "outside_europe"}  # the two ends of the planted scale


def test_attribute_the_features_know_nothing_about_stays_near_one_half(proxies):
    gender = proxies["gender"]
    assert gender.auc == pytest.approx(0.5, abs=0.06)
    assert gender.verdict == "pass"


def test_proxy_gate_reason_names_the_attribute_the_auc_and_the_feature(proxies):
    gate = proxy_gate(proxies["origin"], confidence=0.95)
    assert gate is not None and gate.verdict == "fail" and gate.comparison == "<="
    auc = proxies["origin"].auc
    expected = f"The model's features predict origin with a cross-validated AUC of {auc:.2f}"
    assert gate.reason.startswith(expected)
    assert "district_score" in gate.reason and "so it fails" in gate.reason


def test_proxy_result_dict_has_exactly_the_contract_keys(proxies):
    assert set(proxies["origin"].to_dict()) == {
        "attribute", "auc", "ci_low", "ci_high", "threshold", "verdict", "top_features", "strongest_group",
        "strongest_group_auc", "groups_left_out",
    }


def test_same_seed_gives_the_same_proxy_result():
    features, audit = make_households(600)
    first = check_proxies(features=features, audit=audit, gates=FairnessGates(), seed=4)
    second = check_proxies(features=features, audit=audit, gates=FairnessGates(), seed=4)
    assert [r.to_dict() for r in first] == [r.to_dict() for r in second]


def test_groups_too_rare_to_cross_validate_are_named_not_dropped_silently():
    features, audit = make_households(600)
    audit.loc[:3, "origin"] = "rare"  # four rows cannot fill three folds twice
    result = check_proxies(features=features, audit=audit[["origin"]], gates=FairnessGates(), seed=0)[0]
    assert result.groups_left_out == ("rare",)
    assert result.auc is not None
    assert "too rare to check: rare" in proxy_gate(result, confidence=0.95).reason


def test_attribute_with_a_single_group_cannot_be_checked_and_says_so():
    features, audit = make_households(300)
    audit["origin"] = "dutch"
    result = check_proxies(features=features, audit=audit[["origin"]], gates=FairnessGates(), seed=0)[0]
    assert result.auc is None and result.verdict == "insufficient_data"
    assert proxy_gate(result, confidence=0.95).verdict == "insufficient_data"


def test_switched_off_proxy_gate_still_reports_the_auc():
    features, audit = make_households(600)
    result = check_proxies(features=features, audit=audit, gates=FairnessGates(proxy_auc_max=None), seed=0)[0]
    assert result.verdict == "not_gated" and result.auc > 0.9
    assert proxy_gate(result, confidence=0.95) is None


def weak_proxy(n: int, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A feature that tells gender apart a little (AUC about 0.68) beside one that knows nothing about it."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(["female", "male"], size=n)
    features = pd.DataFrame(
        {"hours_worked": (gender == "male") * 0.8 + rng.normal(size=n), "arrears_eur": rng.gamma(2.0, 300.0, size=n)}
    )
    return features, pd.DataFrame({"gender": gender})


def test_proxy_auc_just_over_the_threshold_on_few_households_is_inconclusive_not_failed():
    # 200 households: the AUC's interval is wide. The gate judged the point estimate alone and failed the model
    # although the data do not show that the features predict gender better than the threshold allows.
    features, audit = weak_proxy(200)
    auc = check_proxies(features=features, audit=audit, gates=FairnessGates(proxy_auc_max=None), seed=0)[0].auc
    threshold = round(auc - 0.02, 2)
    result = check_proxies(features=features, audit=audit, gates=FairnessGates(proxy_auc_max=threshold), seed=0)[0]
    assert result.auc == auc and result.verdict == "inconclusive"
    assert result.ci_low < threshold < auc < result.ci_high
    gate = proxy_gate(result, confidence=0.95)
    assert gate.verdict == "inconclusive" and (gate.ci_low, gate.ci_high) == (result.ci_low, result.ci_high)
    assert f"cross-validated AUC of {auc:.2f} (95% CI {result.ci_low:.2f}–{result.ci_high:.2f})" in gate.reason
    assert "so it is inconclusive" in gate.reason and "The interval crosses the threshold" in gate.reason


def test_proxy_fails_only_when_its_whole_interval_is_over_the_threshold():
    features, audit = weak_proxy(3000)
    result = check_proxies(features=features, audit=audit, gates=FairnessGates(proxy_auc_max=0.6), seed=0)[0]
    assert 0.6 < result.ci_low < result.auc < result.ci_high and result.verdict == "fail"
    passing = check_proxies(features=features, audit=audit, gates=FairnessGates(proxy_auc_max=0.75), seed=0)[0]
    assert passing.verdict == "pass" and passing.ci_high < 0.75


def test_proxy_without_bootstrap_draws_has_no_interval_and_judges_the_value():
    features, audit = weak_proxy(200)
    result = check_proxies(
        features=features, audit=audit, gates=FairnessGates(proxy_auc_max=0.6), seed=0, bootstrap_samples=0
    )[0]
    assert (result.ci_low, result.ci_high) == (None, None) and result.verdict == "fail"


def test_proxy_interval_resamples_households_not_rows():
    # 60 households in 25 rows each: drawing rows would treat 1,500 rows as 1,500 independent households.
    features, audit, households = repeated_households()
    by_household = check_proxies(features=features, audit=audit, gates=FairnessGates(), seed=0, households=households)
    width = by_household[0].ci_high - by_household[0].ci_low
    assert width > 0.2  # 60 households pin an AUC down no better than this


def test_capped_sample_keeps_every_row_of_small_groups_and_fills_up_from_the_large_ones():
    labels = pd.Series(["big"] * 5000 + ["mid"] * 300 + ["small"] * 40 + ["left_out"] * 2)
    keep = (labels != "left_out").to_numpy()
    rows = capped_sample(labels, keep=keep, max_rows=1000, rng=np.random.default_rng(0))
    sampled = labels.iloc[rows].value_counts()
    assert len(rows) == 1000 and len(set(rows)) == 1000
    assert sampled["small"] == 40 and sampled["mid"] == 300 and sampled["big"] == 660
    assert "left_out" not in sampled


def test_capped_check_still_finds_the_proxy():
    features, audit = make_households(3000)
    result = check_proxies(features=features, audit=audit, gates=FairnessGates(), seed=0, max_rows=900)[0]
    assert result.auc > 0.9


def test_text_feature_is_refused_with_its_name():
    features, audit = make_households(100)
    features["street"] = "some street"
    with pytest.raises(ValueError, match=re.escape(MSG_FEATURE_DTYPE)) as error:
        check_proxies(features=features, audit=audit, gates=FairnessGates(), seed=0)
    assert "street (" in str(error.value)


def test_differently_indexed_audit_is_refused():
    features, audit = make_households(100)
    with pytest.raises(ValueError, match=re.escape(MSG_INDEX_MISMATCH)):
        reversed_audit = audit.set_axis(audit.index[::-1])
        check_proxies(features=features, audit=reversed_audit, gates=FairnessGates(), seed=0)


def repeated_households(*, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """60 households in 25 monthly rows each; a feature that recognises the household, no proxy of gender.

    Gender is drawn per household, independent of every feature; ``household_score`` is constant within a
    household (a fingerprint), so a model that has seen some of a household's rows knows its gender.
    """
    rng = np.random.default_rng(seed)
    households = np.repeat(np.arange(60), 25)
    gender = rng.choice(["female", "male"], size=60)[households]
    features = pd.DataFrame(
        {
            "household_score": rng.random(60)[households] + rng.normal(scale=0.001, size=households.size),
            "arrears_eur": rng.gamma(2.0, 300.0, size=households.size),
        }
    )
    return features, pd.DataFrame({"gender": gender}), households


def test_rows_of_one_household_stay_in_one_fold_so_recognising_a_household_is_no_proxy():
    features, audit, households = repeated_households()
    grouped = check_proxies(features=features, audit=audit, gates=FairnessGates(), seed=0, households=households)
    assert grouped[0].auc < 0.7 and grouped[0].verdict == "pass"
    # Folding rows instead lets the model meet each household in training: the 'proxy' is memory.
    by_rows = check_proxies(features=features, audit=audit, gates=FairnessGates(), seed=0)
    assert by_rows[0].auc > 0.8


def test_group_of_few_households_with_many_rows_is_too_rare_to_check():
    features, audit = make_households(600)
    households = np.arange(600)
    households[:10] = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]  # ten rows, but only two households
    audit.loc[:9, "origin"] = "rare"
    result = check_proxies(
        features=features, audit=audit[["origin"]], gates=FairnessGates(), seed=0, households=households
    )[0]
    assert result.groups_left_out == ("rare",)
    assert result.auc is not None


def test_one_row_per_household_gives_the_result_of_folding_rows():
    features, audit = make_households(600)
    ids = np.array([f"hh-{i}" for i in range(600)])
    with_ids = check_proxies(features=features, audit=audit, gates=FairnessGates(), seed=4, households=ids)
    without = check_proxies(features=features, audit=audit, gates=FairnessGates(), seed=4)
    assert [r.to_dict() for r in with_ids] == [r.to_dict() for r in without]
