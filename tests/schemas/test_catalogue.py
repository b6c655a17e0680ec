"""The feature catalogue, the pandera feature schema and the enumerations agree."""

from __future__ import annotations

import pytest

from vroegsignaal.schemas.catalogue import (
    CATEGORICAL_FEATURES,
    FEATURE_CATALOGUE,
    FEATURE_NAMES,
    MONOTONE_INCREASING,
    format_value,
    render_reason,
)
from vroegsignaal.schemas.tables import FeatureSchema

KEY_COLUMNS = {"household_id", "reference_date"}


def test_feature_schema_has_exactly_the_catalogue_features():
    columns = set(FeatureSchema.to_schema().columns)
    assert columns - KEY_COLUMNS == set(FEATURE_NAMES)


@pytest.mark.parametrize("name", [n for n in FEATURE_NAMES if FEATURE_CATALOGUE[n].kind != "category"])
def test_feature_schema_range_matches_catalogue(name):
    spec = FEATURE_CATALOGUE[name]
    checks = {check.name: check.statistics for check in FeatureSchema.to_schema().columns[name].checks}
    if spec.kind == "flag":
        assert set(checks["isin"]["allowed_values"]) == {0, 1}
    else:
        assert checks["greater_than_or_equal_to"]["min_value"] == spec.minimum
        assert checks["less_than_or_equal_to"]["max_value"] == spec.maximum


@pytest.mark.parametrize("name", CATEGORICAL_FEATURES)
def test_categorical_feature_levels_match_enum(name):
    spec = FEATURE_CATALOGUE[name]
    checks = {check.name: check.statistics for check in FeatureSchema.to_schema().columns[name].checks}
    assert set(checks["isin"]["allowed_values"]) == set(spec.categories.values())


def test_every_arrears_feature_is_monotone_increasing():
    arrears = [n for n in FEATURE_NAMES if n.endswith("_arrears_eur") or n.endswith("_signals_12m")]
    assert arrears and set(arrears) <= set(MONOTONE_INCREASING)


@pytest.mark.parametrize("name", [n for n in FEATURE_NAMES if FEATURE_CATALOGUE[n].reason_allowed])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_reason_templates_only_name_catalogue_features(name, lang):
    values = dict.fromkeys(FEATURE_NAMES, 2)
    kinds = {feature: FEATURE_CATALOGUE[feature].kind for feature in FEATURE_NAMES}
    sentence = render_reason(FEATURE_CATALOGUE[name].reason_template(lang), values, kinds, lang)
    assert "{" not in sentence and sentence


@pytest.mark.parametrize(
    ("template", "value", "kind", "lang", "expected"),
    [
        ("{x:signaal|signalen}", 1, "count", "nl", "1 signaal"),
        ("{x:signaal|signalen}", 3, "count", "nl", "3 signalen"),
        ("{x:month|months} ago", 0.2, "months", "en", "less than a month ago"),
        ("sinds {x:maand|maanden}", 0.2, "months", "nl", "sinds minder dan een maand"),
        ("sinds {x:maand|maanden}", 2.6, "months", "nl", "sinds 3 maanden"),
        ("{x}", 1450.0, "amount", "nl", "€ 1.450"),
    ],
)
def test_reason_nouns_follow_the_number(template, value, kind, lang, expected):
    assert render_reason(template, {"x": value}, {"x": kind}, lang) == expected


def test_sensitive_attributes_are_not_in_the_catalogue():
    assert not {"age_band", "gender", "origin", "neighbourhood"} & set(FEATURE_NAMES)


@pytest.mark.parametrize(
    ("value", "kind", "lang", "expected"),
    [
        (1450.0, "amount", "nl", "€ 1.450"),
        (1450.0, "amount", "en", "€1,450"),
        (-120.4, "trend", "nl", "-€ 120"),
        (2.6, "months", "nl", "3"),
        (float("nan"), "amount", "en", "unknown"),
    ],
)
def test_format_value(value, kind, lang, expected):
    assert format_value(value, kind, lang) == expected
