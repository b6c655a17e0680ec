"""The model-card schema (``vroegsignaal.schemas.card``): complete, strict, documented, and NaN-free."""

from __future__ import annotations

import json
import math
import typing

import pytest
from pydantic import BaseModel, ValidationError

from tests.model_cards.factories import approvals, card_dict, make_card
from vroegsignaal.errors import ValidationFailure
from vroegsignaal.schemas.card import (
    CARD_SCHEMA_VERSION,
    MAX_CURVE_POINTS,
    MSG_CALIBRATION_LENGTHS,
    MSG_CI_ORDER,
    MSG_CURVE_LENGTHS,
    MSG_EDGES_NOT_INCREASING,
    MSG_HISTOGRAM_EDGES,
    MSG_HOUSEHOLDS_EXCEED_ROWS,
    MSG_MODEL_METRICS_MISSING,
    MSG_OUTCOME_MISMATCH,
    MSG_POSITIVES_EXCEED_ROWS,
    MSG_TOO_MANY_POINTS,
    CalibrationCurve,
    Curve,
    DataValidationFailure,
    Estimate,
    ModelCard,
    ScoreHistogram,
    card_json_schema,
)


def _card_models() -> set[type[BaseModel]]:
    """ModelCard and every pydantic model reachable from its fields."""
    seen: set[type[BaseModel]] = set()
    pending: list[type[BaseModel]] = [ModelCard]
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for field in model.model_fields.values():
            stack = [field.annotation]
            while stack:
                annotation = stack.pop()
                if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                    pending.append(annotation)
                stack.extend(typing.get_args(annotation))
    return seen


@pytest.mark.parametrize("model", sorted(_card_models(), key=lambda m: m.__name__), ids=lambda m: m.__name__)
def test_every_card_field_has_a_description(model):
    undocumented = [name for name, field in model.model_fields.items() if not field.description]
    assert undocumented == []


@pytest.mark.parametrize("model", sorted(_card_models(), key=lambda m: m.__name__), ids=lambda m: m.__name__)
def test_every_card_part_is_frozen_and_forbids_unknown_fields(model):
    assert model.model_config.get("frozen") is True
    assert model.model_config.get("extra") == "forbid"


def test_schema_version_default_is_the_module_constant():
    assert make_card().schema_version == CARD_SCHEMA_VERSION
    assert card_json_schema()["properties"]["schema_version"]["const"] == CARD_SCHEMA_VERSION


def test_card_round_trips_through_json():
    card = make_card()
    assert ModelCard.model_validate_json(card.model_dump_json()) == card


def test_card_with_unknown_metrics_is_valid_and_serialises_them_as_null():
    data = card_dict(none_metrics=True)
    assert data["performance"]["models"]["model"]["auc"] is None
    assert data["performance"]["lift_over_rule"] is None
    assert data["performance"]["curves"]["calibration"] is None
    assert "NaN" not in json.dumps(data)


def test_card_refuses_an_unknown_field():
    data = card_dict()
    data["model_details"]["nationality_used"] = False
    with pytest.raises(ValidationError, match="model_details.nationality_used"):
        ModelCard.model_validate(data)


def test_card_refuses_nan_where_a_number_cannot_be_computed():
    data = card_dict()
    data["performance"]["models"]["rule"]["auc"] = math.nan
    with pytest.raises(ValidationError, match="finite number"):
        ModelCard.model_validate(data)


def test_card_is_immutable():
    card = make_card()
    with pytest.raises(ValidationError, match="frozen"):
        card.verdict.promotable = True  # type: ignore[misc]


def test_card_refuses_more_positives_than_rows():
    data = card_dict()
    data["evaluation_data"]["positives"] = data["evaluation_data"]["rows"] + 1
    with pytest.raises(ValidationError, match=MSG_POSITIVES_EXCEED_ROWS):
        ModelCard.model_validate(data)


@pytest.mark.parametrize(("field", "rows"), [("households", "size"), ("positive_households", "positives")])
def test_card_refuses_more_households_than_rows_in_a_group(field, rows):
    data = card_dict()
    group = data["fairness"]["attributes"][0]["groups"][0]
    group[field] = group[rows] + 1
    with pytest.raises(ValidationError, match=MSG_HOUSEHOLDS_EXCEED_ROWS):
        ModelCard.model_validate(data)


def test_card_made_before_households_were_counted_still_loads():
    data = card_dict()
    for attribute in data["fairness"]["attributes"]:
        for group in attribute["groups"]:
            del group["households"], group["positive_households"]
    group = ModelCard.model_validate(data).fairness.attributes[0].groups[0]
    assert group.households is None and group.group_size == group.size


@pytest.mark.parametrize(("failing_gate", "outcome"), [(True, "not_promotable"), (False, "promotable")])
def test_card_made_before_the_verdict_had_an_outcome_reads_it_from_promotable(failing_gate, outcome):
    data = card_dict(failing_gate=failing_gate)
    del data["verdict"]["outcome"]
    assert ModelCard.model_validate(data).verdict.outcome == outcome


@pytest.mark.parametrize(("promotable", "outcome"), [(True, "not_promotable"), (False, "reviewer_decides")])
def test_card_refuses_an_outcome_that_contradicts_promotable(promotable, outcome):
    data = card_dict()
    data["verdict"].update(promotable=promotable, outcome=outcome)
    with pytest.raises(ValidationError, match=MSG_OUTCOME_MISMATCH):
        ModelCard.model_validate(data)


def test_card_made_before_the_proxy_check_had_an_interval_still_loads():
    data = card_dict()
    for check in data["fairness"]["proxy"]:
        del check["ci_low"], check["ci_high"]
    check = ModelCard.model_validate(data).fairness.proxy[0]
    assert check.auc == 0.68 and (check.ci_low, check.ci_high) == (None, None)


def test_performance_needs_the_model_itself():
    data = card_dict()
    del data["performance"]["models"]["model"]
    with pytest.raises(ValidationError, match=MSG_MODEL_METRICS_MISSING):
        ModelCard.model_validate(data)


def test_card_refuses_a_metric_outside_its_range():
    data = card_dict()
    data["performance"]["models"]["model"]["recall_at_k"] = 1.2
    with pytest.raises(ValidationError, match="performance.models.model.recall_at_k"):
        ModelCard.model_validate(data)


def test_curve_with_unequal_coordinates_is_refused():
    with pytest.raises(ValidationError, match=MSG_CURVE_LENGTHS):
        Curve(x=[0.0, 0.5, 1.0], y=[0.0, 1.0])


def test_curve_with_too_many_points_is_refused():
    points = [i / MAX_CURVE_POINTS for i in range(MAX_CURVE_POINTS + 1)]
    with pytest.raises(ValidationError, match=MSG_TOO_MANY_POINTS):
        Curve(x=points, y=points)


def test_calibration_bins_must_line_up():
    with pytest.raises(ValidationError, match=MSG_CALIBRATION_LENGTHS):
        CalibrationCurve(mean_predicted=[0.1, 0.2], observed=[0.1], count=[5, 5])


@pytest.mark.parametrize(
    ("edges", "message"),
    [([0.0, 0.5, 1.0], MSG_HISTOGRAM_EDGES), ([0.0, 0.6, 0.5, 1.0], MSG_EDGES_NOT_INCREASING)],
)
def test_score_histogram_needs_increasing_edges_one_more_than_bins(edges, message):
    with pytest.raises(ValidationError, match=message):
        ScoreHistogram(edges=edges, positives=[1, 2, 3], negatives=[4, 5, 6])


def test_estimate_interval_must_be_ordered():
    with pytest.raises(ValidationError, match=MSG_CI_ORDER):
        Estimate(value=0.5, ci_low=0.6, ci_high=0.4)


def test_published_validation_failure_drops_examples_and_rows():
    failure = ValidationFailure(
        table="households", column="household_id", check="str_matches", count=2, examples=("x1", "x2"), rows=(4, 9)
    )
    published = DataValidationFailure.from_failure(failure)
    assert published.model_dump() == {"table": "households", "column": "household_id", "check": "str_matches", "count": 2}


def test_approval_history_is_added_to_a_copy_of_the_card():
    card = make_card(failing_gate=False, approval_history=[])
    approved = card.with_approval_history(approvals())
    assert [event.to_status for event in approved.approval_history] == ["candidate", "approved", "champion"]
    assert card.approval_history == [] and approved.model_details == card.model_details
