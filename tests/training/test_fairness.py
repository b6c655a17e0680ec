"""The fairness audit: gates pass for a fair scorer and fail, naming the group, for a biased one; a small
group never looks fair; intervals behave; the report is strict JSON."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from vroegsignaal.schemas.card import FairnessSection
from vroegsignaal.schemas.dataset_config import FairnessConfig, FairnessGates
from vroegsignaal.training.fairness import (
    GROUP_METRICS,
    INTERSECTION_SEPARATOR,
    MSG_CAPACITY_NEGATIVE,
    MSG_INDEX_MISMATCH,
    MSG_INTERSECTION_TOO_SHORT,
    MSG_LENGTH_MISMATCH,
    MSG_NO_AUDIT_COLUMNS,
    MSG_NOT_BINARY,
    MSG_SCORES_OUT_OF_RANGE,
    MSG_SELECTED_NOT_BOOLEAN,
    MSG_UNKNOWN_ATTRIBUTE,
    FairnessReport,
    audit_fairness,
    compare_mitigation,
)

CAPACITY_SHARE = 0.2


def make_scored(
    sizes: dict[str, int],
    *,
    seed: int = 0,
    miss_half_of: str | None = None,
    contact_negatives_of: str | None = None,
) -> dict:
    """A calibrated scorer on simulated households of groups ``sizes``, with an optional planted bias.

    ``miss_half_of`` pushes half of that group's positives to the bottom of the ranking (a model that misses
    them); ``contact_negatives_of`` lifts a third of that group's negatives to the top (needless contact).
    """
    rng = np.random.default_rng(seed)
    origin = np.concatenate([[group] * size for group, size in sizes.items()])
    n = origin.size
    scores = rng.beta(2, 6, size=n)
    y = (rng.random(n) < scores).astype(int)
    if miss_half_of is not None:
        positives = np.flatnonzero((origin == miss_half_of) & (y == 1))
        missed = rng.choice(positives, size=positives.size // 2, replace=False)
        scores[missed] = rng.uniform(0.0, 0.02, size=missed.size)
    if contact_negatives_of is not None:
        negatives = np.flatnonzero((origin == contact_negatives_of) & (y == 0))
        lifted = rng.choice(negatives, size=negatives.size // 3, replace=False)
        scores[lifted] = rng.uniform(0.9, 1.0, size=lifted.size)
    k = int(CAPACITY_SHARE * n)
    selected = np.zeros(n, dtype=bool)
    selected[np.argsort(-scores, kind="stable")[:k]] = True
    index = pd.RangeIndex(n, name="row")
    audit = pd.DataFrame(
        {"origin": origin, "gender": rng.choice(["female", "male"], size=n)}, index=index
    )
    features = pd.DataFrame(
        {
            "arrears_eur": rng.gamma(2.0, 300.0, size=n),
            "signals_12m": rng.poisson(2, size=n),
            "household_type": pd.Categorical(rng.choice(["single", "couple", "single_parent"], size=n)),
        },
        index=index,
    )
    return {
        "y_true": y,
        "scores": scores,
        "selected": selected,
        "audit": audit,
        "features": features,
        "capacity_k": k,
    }


def run_audit(
    data: dict, *, config: FairnessConfig | None = None, intersections=(), seed: int = 7
) -> FairnessReport:
    return audit_fairness(
        **data,
        config=config or FairnessConfig(bootstrap_samples=100),
        intersections=[list(combo) for combo in intersections],
        seed=seed,
    )


def gate(report: FairnessReport, attribute: str, metric: str):
    matches = [g for g in report.gates if g.attribute == attribute and g.metric == metric]
    assert len(matches) == 1, f"expected one {metric} gate for {attribute}, got {matches}"
    return matches[0]


@pytest.fixture(scope="module")
def fair_report() -> FairnessReport:
    data = make_scored({"dutch": 3000, "outside_europe": 3000})
    return run_audit(data, intersections=[("origin", "gender")])


def test_fair_scorer_passes_every_gate(fair_report):
    assert fair_report.passed
    assert {g.verdict for g in fair_report.gates} == {"pass"}
    gated = {(g.attribute, g.metric) for g in fair_report.gates}
    for attribute in ("origin", "gender"):
        for metric in ("recall_ratio", "calibration_error_max", "proxy_auc"):
            assert (attribute, metric) in gated


def test_scorer_missing_half_of_one_groups_positives_fails_recall_gate_naming_that_group():
    report = run_audit(make_scored({"dutch": 3000, "outside_europe": 3000}, miss_half_of="outside_europe"))

    recall = gate(report, "origin", "recall_ratio")
    assert recall.verdict == "fail"
    assert not report.passed
    assert recall.value == pytest.approx(0.5, abs=0.12)
    assert recall.ci_low is not None and recall.ci_high is not None and recall.ci_high < recall.threshold
    assert recall.reason.startswith("Recall of outside_europe (n=3,000")
    assert "× that of dutch (n=3,000" in recall.reason
    assert "so it fails" in recall.reason
    # Gender was not biased: its gate is unaffected.
    assert gate(report, "gender", "recall_ratio").verdict == "pass"


def test_a_small_group_with_a_wide_interval_does_not_hide_a_breach_a_large_group_shows():
    # The gate compared only the lowest and highest group: small group A (lowest recall, wide interval) against C was
    # inconclusive, and the clear breach of large group B (whole interval below 0.8 × C's recall) passed unjudged.
    rng = np.random.default_rng(0)

    def group(name: str, size: int, positives: int, recall: float) -> pd.DataFrame:
        y = np.zeros(size, dtype=int)
        y[:positives] = 1
        selected = np.zeros(size, dtype=bool)
        selected[: round(recall * positives)] = True
        return pd.DataFrame({"origin": name, "y": y, "selected": selected})

    rows = pd.concat(
        [group("A", 150, 20, 0.60), group("B", 4000, 1000, 0.62), group("C", 4000, 1000, 0.90)], ignore_index=True
    )
    scores = np.clip(0.2 + 0.5 * rows["selected"].to_numpy() + rng.normal(0, 0.05, len(rows)), 0, 1)
    report = audit_fairness(
        y_true=rows["y"].to_numpy(), scores=scores, selected=rows["selected"].to_numpy(), audit=rows[["origin"]],
        features=pd.DataFrame({"x": rng.normal(size=len(rows))}),
        config=FairnessConfig(gates=FairnessGates(recall_ratio_min=0.8, calibration_error_max=None,
                                                  proxy_auc_max=None)),
        intersections=[], capacity_k=int(rows["selected"].sum()), seed=1,
    )
    recall = gate(report, "origin", "recall_ratio")
    assert recall.verdict == "fail" and not report.passed
    assert recall.value == pytest.approx(0.62 / 0.90, abs=0.01) and recall.ci_high < 0.8
    assert recall.reason.startswith("Recall of B (n=4,000")
    assert "The lowest and highest groups, A and C, differ more" in recall.reason
    # The report's comparison still names the widest pair.
    attribute = report.attributes[0]
    assert attribute.ratios["recall"].value == pytest.approx(0.60 / 0.90, abs=0.01)


def test_false_positive_gate_names_the_group_with_more_needless_contact():
    config = FairnessConfig(bootstrap_samples=50, gates=FairnessGates(false_positive_rate_ratio_min=0.8))
    data = make_scored({"dutch": 2000, "europe": 2000}, contact_negatives_of="europe")
    report = run_audit(data, config=config)

    fpr = gate(report, "origin", "false_positive_rate_ratio")
    assert fpr.verdict == "fail"
    assert fpr.reason.startswith("False-positive rate of europe (n=2,000")
    assert "households in europe without the outcome get needless contact" in fpr.reason


def test_group_below_minimum_size_is_named_in_the_reason_and_not_judged():
    report = run_audit(make_scored({"dutch": 3000, "outside_europe": 3000, "other": 40}))

    origin = report.attribute("origin")
    assert not origin.group("other").judgeable
    assert origin.group("other").size == 40
    assert origin.group("dutch").judgeable and origin.group("outside_europe").judgeable
    recall = gate(report, "origin", "recall_ratio")
    assert recall.verdict == "pass"
    assert "Too small to judge" in recall.reason
    assert "other (n=40," in recall.reason


def test_only_one_judgeable_group_gives_insufficient_data_not_pass():
    report = run_audit(make_scored({"dutch": 3000, "other": 60}))

    recall = gate(report, "origin", "recall_ratio")
    assert recall.verdict == "insufficient_data"
    assert recall.value is None
    assert "other (n=60," in recall.reason
    assert "Only dutch (n=3,000" in recall.reason
    assert report.passed, "insufficient data is reported, it does not fail the model"
    # Calibration is judged per group, so one large group is enough for that gate.
    assert gate(report, "origin", "calibration_error_max").verdict == "pass"


def test_every_group_metric_has_a_value_and_an_interval(fair_report):
    for group in fair_report.attribute("origin").groups:
        assert set(group.metrics) == set(GROUP_METRICS)
        for name, estimate in group.metrics.items():
            assert estimate.value is not None, name
            assert estimate.ci_low is not None and estimate.ci_high is not None, name


def widths_and_containment(report: FairnessReport, metrics) -> tuple[dict, list]:
    widths, outside = {}, []
    for group in report.attribute("origin").groups:
        for name in metrics:
            estimate = group.metrics[name]
            widths[(group.group, name)] = estimate.ci_high - estimate.ci_low
            if not estimate.ci_low <= estimate.value <= estimate.ci_high:
                outside.append((group.group, name, estimate))
    return widths, outside


def test_bootstrap_intervals_contain_the_estimate_and_shrink_with_more_data():
    metrics = [m for m in GROUP_METRICS if m != "calibration_error"]
    config = FairnessConfig(bootstrap_samples=100, min_group_size=50, min_group_positives=10)
    small = run_audit(make_scored({"dutch": 400, "europe": 400}, seed=3), config=config)
    large = run_audit(make_scored({"dutch": 6400, "europe": 6400}, seed=3), config=config)

    small_widths, small_outside = widths_and_containment(small, metrics)
    large_widths, large_outside = widths_and_containment(large, metrics)
    assert small_outside == [] and large_outside == []
    # The calibration error, corrected for its bias, lies in its (shifted) interval too; the plain estimate lay
    # below the plain interval in small groups.
    for report in (small, large):
        assert widths_and_containment(report, ["calibration_error"])[1] == []
    for key, width in large_widths.items():
        # 16 times the rows: the interval should be about 4 times narrower; demand at least 2.5 times.
        assert width < small_widths[key] / 2.5, key
    for report in (small, large):
        ratio = report.attribute("origin").ratios["recall"]
        assert ratio.ci_low <= ratio.value <= ratio.ci_high


def test_intersections_produce_the_cross_groups_and_are_not_gated_by_default(fair_report):
    name = f"origin{INTERSECTION_SEPARATOR}gender"
    cross = fair_report.attribute(name)
    assert cross.kind == "intersection"
    assert cross.columns == ("origin", "gender")
    assert {g.group for g in cross.groups} == {
        f"{origin}{INTERSECTION_SEPARATOR}{gender}"
        for origin in ("dutch", "outside_europe")
        for gender in ("female", "male")
    }
    assert sum(g.size for g in cross.groups) == 6000
    assert not [g for g in fair_report.gates if g.attribute == name]


def test_intersections_are_gated_when_the_config_says_so():
    config = FairnessConfig(bootstrap_samples=20, gate_intersections=True)
    report = run_audit(
        make_scored({"dutch": 2000, "europe": 2000}), config=config, intersections=[("origin", "gender")]
    )
    name = f"origin{INTERSECTION_SEPARATOR}gender"
    gated = {g.metric for g in report.gates if g.attribute == name}
    assert gated == {"recall_ratio", "calibration_error_max"}


def test_report_to_dict_survives_strict_json_and_uses_null_for_undefined_values():
    data = make_scored({"dutch": 1500, "europe": 1500})
    # A small group with no positives at all: recall and AUC cannot be computed there.
    data["y_true"][-30:] = 0
    data["audit"].iloc[-30:, data["audit"].columns.get_loc("origin")] = "rare"
    config = FairnessConfig(bootstrap_samples=30)
    report = run_audit(data, config=config, intersections=[("origin", "gender")])

    as_dict = report.to_dict()
    text = json.dumps(as_dict, allow_nan=False)
    assert json.loads(text) == as_dict
    assert set(as_dict) == {
        "primary_metric", "capacity_k", "confidence", "bootstrap_samples", "calibration_bias_corrected",
        "attributes", "gates", "proxy", "passed", "mitigation",
    }
    rare = next(g for g in as_dict["attributes"][0]["groups"] if g["group"] == "rare")
    assert rare["positives"] == 0 and rare["judgeable"] is False
    assert rare["metrics"]["recall"] == {"value": None, "ci_low": None, "ci_high": None}
    assert as_dict["primary_metric"] == "recall"
    assert as_dict["mitigation"] is None
    assert set(as_dict["gates"][0]) == {
        "attribute", "metric", "threshold", "comparison", "value", "ci_low", "ci_high", "verdict", "reason",
    }


def test_report_dict_is_accepted_by_the_model_cards_fairness_section(fair_report):
    as_dict = fair_report.to_dict()
    as_dict["mitigation"] = compare_mitigation(
        fair_report,
        fair_report,
        method="exponentiated_gradient",
        constraint="true_positive_rate_parity",
        attribute="origin",
    )
    section = FairnessSection.model_validate(as_dict)
    assert section.passed is fair_report.passed


def test_missing_audit_values_form_their_own_group():
    data = make_scored({"dutch": 1000, "europe": 1000})
    data["audit"].iloc[:5, data["audit"].columns.get_loc("origin")] = None
    report = run_audit(data, config=FairnessConfig(bootstrap_samples=10))
    assert report.attribute("origin").group("missing").size == 5


def test_same_seed_gives_the_same_report_and_no_bootstrap_gives_no_intervals():
    data = make_scored({"dutch": 800, "europe": 800})
    config = FairnessConfig(bootstrap_samples=20)
    assert run_audit(data, config=config).to_dict() == run_audit(data, config=config).to_dict()

    without = run_audit(data, config=FairnessConfig(bootstrap_samples=0))
    recall = without.attribute("origin").group("dutch").metrics["recall"]
    assert recall.value is not None and recall.ci_low is None and recall.ci_high is None


def test_switched_off_gates_leave_only_the_ungated_proxy_report():
    gates = FairnessGates(recall_ratio_min=None, calibration_error_max=None, proxy_auc_max=None)
    config = FairnessConfig(bootstrap_samples=0, gates=gates)
    report = run_audit(make_scored({"dutch": 500, "europe": 500}), config=config)
    assert report.gates == ()
    assert report.passed
    assert {p.verdict for p in report.proxy} == {"not_gated"}


def corrupt(field: str):
    def apply(data: dict) -> dict:
        data = dict(data)
        if field == "length":
            data["scores"] = data["scores"][:-1]
        elif field == "y_true":
            data["y_true"] = data["y_true"].copy()
            data["y_true"][3] = 2
        elif field == "scores":
            data["scores"] = data["scores"].copy()
            data["scores"][4] = 1.5
        elif field == "selected":
            data["selected"] = np.where(data["selected"], "yes", "no")
        elif field == "index":
            data["features"] = data["features"].set_axis(data["features"].index + 1)
        elif field == "audit":
            data["audit"] = data["audit"].iloc[:, :0]
        elif field == "capacity":
            data["capacity_k"] = -1
        return data

    return apply


@pytest.mark.parametrize(
    ("field", "intersections", "message"),
    [
        ("length", (), MSG_LENGTH_MISMATCH),
        ("y_true", (), MSG_NOT_BINARY),
        ("scores", (), MSG_SCORES_OUT_OF_RANGE),
        ("selected", (), MSG_SELECTED_NOT_BOOLEAN),
        ("index", (), MSG_INDEX_MISMATCH),
        ("audit", (), MSG_NO_AUDIT_COLUMNS),
        ("capacity", (), MSG_CAPACITY_NEGATIVE),
        (None, (("origin", "religion"),), MSG_UNKNOWN_ATTRIBUTE),
        (None, (("origin", "origin"),), MSG_INTERSECTION_TOO_SHORT),
    ],
)
def test_invalid_input_is_refused_with_a_message_naming_the_problem(field, intersections, message):
    data = make_scored({"dutch": 20, "europe": 20})
    if field is not None:
        data = corrupt(field)(data)
    with pytest.raises(ValueError, match=re.escape(message)):
        run_audit(data, config=FairnessConfig(bootstrap_samples=0), intersections=intersections)


def test_invalid_values_are_reported_with_their_rows():
    data = corrupt("y_true")(make_scored({"dutch": 20, "europe": 20}))
    with pytest.raises(ValueError, match=r"y_true .* found 2 in rows 3$"):
        run_audit(data, config=FairnessConfig(bootstrap_samples=0))
    data = corrupt("scores")(make_scored({"dutch": 20, "europe": 20}))
    with pytest.raises(ValueError, match=r"scores .* found 1\.5 in rows 4$"):
        run_audit(data, config=FairnessConfig(bootstrap_samples=0))


# --- households, not rows: a household seen in several test months counts once ---------------------------------

#: Small thresholds so a tiny, hand-made frame can be judged; no proxy gate (it needs realistic features).
SMALL_GROUPS = FairnessConfig(
    bootstrap_samples=20,
    min_group_size=10,
    min_group_positives=3,
    gates=FairnessGates(recall_ratio_min=0.8, calibration_error_max=0.5, proxy_auc_max=None),
)


def household_months() -> dict:
    """20 'dutch' households with one row each, and 4 'other' households with five monthly rows each.

    Both groups have 20 rows and 10 positive rows; 'other' is only 4 households (2 of them positive), below
    ``min_group_size`` = 10 households.
    """
    dutch = [f"nl-{i}" for i in range(20)]
    other = [f"ot-{i}" for i in range(4) for _ in range(5)]
    households = np.array(dutch + other)
    y = np.array([i % 2 for i in range(20)] + [1 if i < 2 else 0 for i in range(4) for _ in range(5)])
    scores = np.where(y == 1, 0.7, 0.2) + np.linspace(0.0, 0.05, y.size)
    selected = scores >= 0.7
    index = pd.RangeIndex(y.size)
    audit = pd.DataFrame(
        {"origin": ["dutch"] * 20 + ["other"] * 20, "gender": (["female", "male"] * 20)}, index=index
    )
    features = pd.DataFrame({"arrears_eur": np.linspace(0, 1000, y.size)}, index=index)
    data = {"y_true": y, "scores": scores, "selected": selected, "audit": audit, "features": features}
    return {**data, "capacity_k": int(selected.sum()), "households": households}


def test_group_of_few_households_with_many_rows_is_too_small_and_its_gate_reports_insufficient_data():
    report = run_audit(household_months(), config=SMALL_GROUPS)

    other = report.attribute("origin").group("other")
    assert (other.size, other.positives) == (20, 10)
    assert (other.households, other.positive_households) == (4, 2)
    assert not other.judgeable
    recall = gate(report, "origin", "recall_ratio")
    assert recall.verdict == "insufficient_data"
    assert "at least 10 households and 3 positives" in recall.reason
    assert "other (n=4 households in 20 rows, 2 positives in 10 rows)" in recall.reason
    assert "Only dutch (n=20 households in 20 rows, 10 positives in 10 rows" in recall.reason


def test_counting_rows_would_have_judged_the_same_group():
    """The defect this guards against: without households, 4 households in 20 rows pass for 20."""
    data = household_months()
    del data["households"]
    report = run_audit(data, config=SMALL_GROUPS)
    assert report.attribute("origin").group("other").judgeable
    assert gate(report, "origin", "recall_ratio").verdict != "insufficient_data"


def test_intersections_count_households_too():
    config = SMALL_GROUPS.model_copy(update={"gate_intersections": True, "min_group_size": 3})
    report = run_audit(household_months(), config=config, intersections=[("origin", "gender")])

    cross = report.attribute(f"origin{INTERSECTION_SEPARATOR}gender")
    # Each 'other' household has rows of both genders here (the attribute can differ per row): it counts in both.
    other_female = cross.group(f"other{INTERSECTION_SEPARATOR}female")
    assert (other_female.size, other_female.households) == (10, 4)
    assert cross.group(f"dutch{INTERSECTION_SEPARATOR}female").households == 10
    # 2 positive households < min_group_positives 3: reported, not judged, however many positive rows.
    assert other_female.positive_households == 2 and not other_female.judgeable


def test_positive_rows_of_few_households_do_not_make_recall_judgeable():
    data = household_months()
    config = SMALL_GROUPS.model_copy(update={"min_group_size": 4})
    report = run_audit(data, config=config)

    other = report.attribute("origin").group("other")
    assert other.households == 4 and other.positives == 10 and other.positive_households == 2
    assert not other.judgeable, "recall needs 3 positive households; 10 positive rows of 2 households are not"
    # The calibration gate needs households only: 'other' is judged there.
    calibration = gate(report, "origin", "calibration_error_max")
    assert "Too small to judge" not in calibration.reason


@pytest.mark.parametrize("ids", [None, "row numbers", "pseudonyms"])
def test_one_row_per_household_gives_the_report_counting_rows_gave(ids):
    data = make_scored({"dutch": 1000, "europe": 1000, "other": 60}, seed=5)
    config = FairnessConfig(bootstrap_samples=30)
    expected = run_audit(data, config=config).to_dict()
    n = len(data["y_true"])
    households = {"row numbers": np.arange(n), "pseudonyms": np.array([f"hh-{i:05d}" for i in range(n)][::-1])}
    report = run_audit({**data, "households": households.get(ids)}, config=config)

    assert report.to_dict() == expected
    for group in report.attribute("origin").groups:
        assert (group.households, group.positive_households) == (group.size, group.positives)
    assert "other (n=60," in gate(report, "origin", "recall_ratio").reason


def test_the_report_gives_each_groups_calibration_error_without_the_estimators_bias():
    from vroegsignaal.training.fairness_metrics import calibration_bins, calibration_error

    data = make_scored({"dutch": 3000, "other": 150})
    report = run_audit(data)
    bins = calibration_bins(data["scores"])
    reduction = {}
    for group in report.attribute("origin").groups:
        rows = data["audit"]["origin"].to_numpy() == group.group
        plain = calibration_error(data["y_true"][rows].astype(float), data["scores"][rows], bins=bins[rows])
        estimate = group.metrics["calibration_error"]
        # The bootstrap's draws lie above the plain value by about its own bias; the report takes that off and
        # keeps the interval around the corrected value.
        assert 0 <= estimate.value < plain
        assert estimate.ci_low <= estimate.value <= estimate.ci_high
        reduction[group.group] = plain - estimate.value
    assert reduction["other"] > 2 * reduction["dutch"]  # chance weighs most in the small group
    # Groups are compared by the difference of their calibration errors; a ratio of errors that can be 0 is not
    # reported.
    origin = report.attribute("origin")
    assert origin.differences["calibration_error"].value is not None
    assert origin.ratios["calibration_error"].value is None
    assert origin.ratios["recall"].value is not None


def test_too_few_bootstrap_draws_leave_the_calibration_error_as_estimated():
    data = make_scored({"dutch": 3000, "other": 150})
    few = run_audit(data, config=FairnessConfig(bootstrap_samples=20))
    none = run_audit(data, config=FairnessConfig(bootstrap_samples=0))
    enough = run_audit(data, config=FairnessConfig(bootstrap_samples=50))
    # The card says which kind of value it holds (old cards, without the field, hold plain ones).
    assert [report.to_dict()["calibration_bias_corrected"] for report in (few, none, enough)] == [False, False, True]
    assert FairnessSection.model_validate(enough.to_dict()).calibration_bias_corrected
    for name in ("dutch", "other"):
        assert (
            few.attribute("origin").group(name).metrics["calibration_error"].value
            == none.attribute("origin").group(name).metrics["calibration_error"].value
        )
