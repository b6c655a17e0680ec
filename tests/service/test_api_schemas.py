"""The API's request models agree with the pandera tables and the feature catalogue: same fields, enums and ranges."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from vroegsignaal.schemas.api import HouseholdFactsCreate, SignalCreate
from vroegsignaal.schemas.catalogue import FEATURE_CATALOGUE
from vroegsignaal.schemas.tables import HouseholdSchema, SignalSchema

#: Columns carried outside the per-signal / per-household model (the batch or the household level), or set by the
#: service itself (the day a signal was received).
OUTSIDE_MODEL = {"household_id", "municipality_code", "known_date"}
#: Fields of a request that are about the message, not the data: a correction names the signal it replaces (the
#: table holds the signals that count; the export leaves replaced ones out).
SERVICE_ONLY = {"replaces_signal_id"}
PAIRS = [(SignalCreate, SignalSchema), (HouseholdFactsCreate, HouseholdSchema)]


def _checks(schema, column: str) -> dict:  # noqa: ANN001
    return {check.name: check.statistics for check in schema.to_schema().columns[column].checks}


def _json_schema(model: type[BaseModel], field: str) -> dict:
    properties = model.model_json_schema()["properties"][field]
    if "$ref" in properties:
        name = properties["$ref"].rsplit("/", 1)[-1]
        return model.model_json_schema()["$defs"][name]
    return properties


@pytest.mark.parametrize(("model", "schema"), PAIRS, ids=["signals", "households"])
def test_request_fields_are_the_table_columns(model, schema):
    assert set(model.model_fields) - SERVICE_ONLY == set(schema.to_schema().columns) - OUTSIDE_MODEL


@pytest.mark.parametrize(("model", "schema"), PAIRS, ids=["signals", "households"])
def test_enumerations_and_ranges_agree(model, schema):
    for field in set(model.model_fields) - SERVICE_ONLY:
        checks = _checks(schema, field)
        json_schema = _json_schema(model, field)
        if "isin" in checks:
            assert set(json_schema["enum"]) == set(checks["isin"]["allowed_values"]), field
        if "greater_than_or_equal_to" in checks:
            assert json_schema["minimum"] == checks["greater_than_or_equal_to"]["min_value"], field
        if "less_than_or_equal_to" in checks:
            assert json_schema["maximum"] == checks["less_than_or_equal_to"]["max_value"], field


@pytest.mark.parametrize("field", ["household_type", "benefit_type"])
def test_household_categories_are_the_catalogue_categories(field):
    assert set(_json_schema(HouseholdFactsCreate, field)["enum"]) == set(FEATURE_CATALOGUE[field].categories.values())


def test_every_request_field_is_described():
    for model in (SignalCreate, HouseholdFactsCreate):
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name}"


@pytest.mark.parametrize(
    ("overrides", "pages"),
    [({}, False), ({"demo_mode": True}, True), ({"api_docs_pages": True}, True),
     ({"demo_mode": True, "api_docs_pages": False}, False)],
)
def test_the_interactive_api_pages_load_third_party_scripts_only_where_chosen(make_client, overrides, pages):
    # /docs and /redoc load Swagger UI and ReDoc from a CDN into the origin where caseworkers are signed in.
    client = make_client(**overrides)
    assert client.get("/openapi.json").status_code == 200
    for path in ("/docs", "/redoc"):
        assert client.get(path).status_code == (200 if pages else 404)
