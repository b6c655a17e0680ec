"""The report artefacts are frozen, JSON-safe and derive ``passed`` from their gates."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from vroegsignaal.training.fairness_report import (
    MSG_HOUSEHOLDS_EXCEED_ROWS,
    AttributeAudit,
    Estimate,
    FairnessReport,
    GateResult,
    GroupAudit,
)


def make_gate(verdict: str) -> GateResult:
    return GateResult(
        attribute="origin",
        metric="recall_ratio",
        threshold=0.8,
        comparison=">=",
        value=np.float64(0.7) if verdict == "fail" else None,
        ci_low=float("nan"),
        ci_high=None,
        verdict=verdict,  # type: ignore[arg-type]
        reason="A sentence.",
    )


def make_report(*verdicts: str, mitigation=None) -> FairnessReport:
    group = GroupAudit(
        group="dutch",
        size=np.int64(120),
        positives=np.int64(0),
        households=np.int64(40),
        positive_households=np.int64(0),
        judgeable=False,
        metrics={"recall": Estimate(float("nan"), float("nan"), float("inf"))},
    )
    attribute = AttributeAudit(
        name="origin",
        columns=["origin"],
        kind="single",
        groups=[group],
        differences={"recall": Estimate(None)},
        ratios={"recall": Estimate(np.float32(0.5), 0.25, 0.75)},
    )
    return FairnessReport(
        capacity_k=10,
        confidence=0.95,
        bootstrap_samples=200,
        attributes=[attribute],
        gates=[make_gate(v) for v in verdicts],
        mitigation=mitigation,
    )


def test_estimate_turns_nan_and_numpy_values_into_plain_json_values():
    estimate = Estimate(np.float64(np.nan), np.float32(0.25), float("inf"))
    assert estimate.to_dict() == {"value": None, "ci_low": 0.25, "ci_high": None}
    assert type(estimate.ci_low) is float


def test_report_passes_unless_a_gate_fails():
    assert make_report().passed
    assert make_report("pass", "insufficient_data").passed
    assert not make_report("pass", "fail").passed


def test_report_dict_is_strict_json_with_plain_types():
    section = {"method": "exponentiated_gradient", "before": [{"x": float("nan")}]}
    report = make_report("fail", mitigation=section)
    as_dict = report.to_dict()
    assert json.loads(json.dumps(as_dict, allow_nan=False)) == as_dict
    assert as_dict["passed"] is False
    recall = as_dict["attributes"][0]["groups"][0]["metrics"]["recall"]
    assert recall == {"value": None, "ci_low": None, "ci_high": None}
    assert as_dict["attributes"][0]["ratios"]["recall"] == {"value": 0.5, "ci_low": 0.25, "ci_high": 0.75}
    assert as_dict["gates"][0]["value"] == 0.7 and as_dict["gates"][0]["ci_low"] is None
    assert as_dict["mitigation"] == {"method": "exponentiated_gradient", "before": [{"x": None}]}


def test_report_and_its_parts_cannot_be_changed():
    report = make_report("pass")
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.capacity_k = 11  # type: ignore[misc]
    with pytest.raises(TypeError):
        report.attributes[0].groups[0].metrics["recall"] = Estimate(1.0)  # type: ignore[index]
    assert isinstance(report.attributes, tuple) and isinstance(report.gates, tuple)


def test_unknown_attribute_or_group_lookup_names_what_exists():
    report = make_report()
    with pytest.raises(KeyError, match="attributes: origin"):
        report.attribute("gender")
    with pytest.raises(KeyError, match="groups: dutch"):
        report.attribute("origin").group("europe")


@pytest.mark.parametrize(("households", "positive_households"), [(121, 0), (40, 1)])
def test_group_refuses_more_households_than_rows(households, positive_households):
    with pytest.raises(ValueError, match=MSG_HOUSEHOLDS_EXCEED_ROWS):
        GroupAudit(
            group="dutch",
            size=120,
            positives=0,
            households=households,
            positive_households=positive_households,
            judgeable=False,
            metrics={},
        )
