"""The dataset config refuses what must never happen and explains what is wrong."""

from __future__ import annotations

import re

import pytest

from vroegsignaal.errors import ConfigError, SensitiveFeatureError
from vroegsignaal.schemas.catalogue import FEATURE_CATALOGUE
from vroegsignaal.schemas.dataset_config import (
    MSG_DENYLISTED_AS_FEATURE,
    MSG_EXTRACTED_ON_FLAT,
    MSG_SENSITIVE_AS_FEATURE,
    MSG_SIGNAL_TABLES_WITHOUT_HEADER,
    Capacity,
    denylisted_reason,
    load_dataset_config,
    parse_dataset_config,
)


def make_raw(**overrides):
    raw = {
        "name": "flat-example",
        "data": {"path": "data.csv"},
        "id": "id",
        "label": "y",
        "sensitive": [{"column": "age", "bins": [18, 30, 120]}, {"column": "sex"}],
    }
    raw.update(overrides)
    return raw


def test_config_refuses_sensitive_column_as_feature():
    with pytest.raises(SensitiveFeatureError, match=re.escape(MSG_SENSITIVE_AS_FEATURE)):
        parse_dataset_config(make_raw(features=["income", "age"]))


@pytest.mark.parametrize(
    "column",
    ["gender", "nationality", "Nationaliteit", "migratieachtergrond", "origin_group", "language_level",
     "health_status", "religion", "caseworker_notes", "freeText", "herkomst",
     # the audit attributes DESIGN names (age band, neighbourhood) and common spellings of all of them
     "age_band", "leeftijd", "neighbourhood", "wijk", "buurt", "postcode", "geboorteland", "country_of_birth",
     "languages", "moedertaal", "nationalities", "religious", "disability", "dateOfBirth"],
)
def test_config_refuses_denylisted_column_as_feature(column):
    with pytest.raises(SensitiveFeatureError, match=MSG_DENYLISTED_AS_FEATURE.split("(")[0].strip()):
        parse_dataset_config(make_raw(features=["income", column]))


def test_default_features_exclude_sensitive_but_refuse_undeclared_denylisted_columns():
    config = parse_dataset_config(make_raw())
    assert config.resolve_features(["id", "y", "age", "sex", "income"]) == ["income"]
    with pytest.raises(SensitiveFeatureError, match="foreign_worker"):
        config.resolve_features(["id", "y", "age", "sex", "income", "foreign_worker"])


@pytest.mark.parametrize(
    "column",
    # Dutch compounds and short codes: whole-word matching let each of these through as a feature.
    ["geslachtscode", "herkomstland", "leeftijdsklasse", "nationaliteitcode", "geboortelandcode", "buurtnaam",
     "woonwijk", "gezondheidsklachten", "pc4", "sexe", "agegroup", "ageGroup", "etnische_groep", "religieuze_voorkeur",
     "moedertaal_nl", "opmerkingen_klantmanager", "postcodegebied"],
)
def test_compound_names_of_denylisted_attributes_are_refused(column):
    assert denylisted_reason(column) is not None
    with pytest.raises(SensitiveFeatureError, match=column):
        parse_dataset_config(make_raw(features=["income", column]))


@pytest.mark.parametrize(
    "column", ["afwijkingsbedrag", "totaal_bedrag", "average_arrears", "agent_code", "agenda_items", "wage_eur",
               "package_count", "usage_kwh", "mortgage_eur", "huurachterstand", "betaalregeling"],
)
def test_ordinary_words_that_contain_a_denylisted_part_are_not_refused(column):
    assert denylisted_reason(column) is None


def test_health_insurance_arrears_are_not_health_data():
    assert denylisted_reason("health_insurance_arrears_eur") is None
    assert denylisted_reason("health_insurance_signals_12m") is None


def test_no_feature_of_the_catalogue_is_denylisted():
    assert [name for name in FEATURE_CATALOGUE if denylisted_reason(name)] == []


def test_missing_feature_is_named():
    config = parse_dataset_config(make_raw(features=["income", "rent"]))
    with pytest.raises(ConfigError, match="'rent' not found"):
        config.resolve_features(["id", "y", "income"])


def test_every_config_problem_is_listed_with_its_field():
    raw = make_raw(capacity={"fraction": 2}, split={"test_fraction": 1.5})
    with pytest.raises(ConfigError) as raised:
        parse_dataset_config(raw)
    message = str(raised.value)
    assert "capacity.fraction" in message and "split.test_fraction" in message


def test_config_needs_a_data_layout():
    with pytest.raises(ConfigError, match="data"):
        parse_dataset_config(make_raw(data={}))


def test_csv_columns_without_a_header_are_for_a_flat_table_only():
    """The csv options apply to every csv table; one list of column names cannot name the signal tables'."""
    tables = {name: f"{name}.csv" for name in ("signals", "households", "outcomes")}
    semicolons = parse_dataset_config(make_raw(data={**tables, "csv": {"sep": ";", "decimal": ","}}))
    assert (semicolons.data.csv.sep, semicolons.data.csv.decimal) == (";", ",")
    headerless = {**tables, "csv": {"header": False, "columns": ["household_id", "reference_date"]}}
    with pytest.raises(ConfigError, match=re.escape(MSG_SIGNAL_TABLES_WITHOUT_HEADER)):
        parse_dataset_config(make_raw(data=headerless))


def test_the_day_of_extraction_dates_signal_tables_only():
    tables = {name: f"{name}.parquet" for name in ("signals", "households", "outcomes")}
    config = parse_dataset_config(make_raw(data={**tables, "extracted_on": "2026-06-30"}))
    assert config.data.extracted_on.isoformat() == "2026-06-30"
    with pytest.raises(ConfigError, match=re.escape(MSG_EXTRACTED_ON_FLAT)):
        parse_dataset_config(make_raw(data={"path": "data.csv", "extracted_on": "2026-06-30"}))
    with pytest.raises(ConfigError, match="extracted_on"):
        parse_dataset_config(make_raw(data={**tables, "extracted_on": "30-06-2026"}))


def test_bins_need_matching_labels():
    with pytest.raises(ConfigError, match="need as many labels"):
        parse_dataset_config(make_raw(sensitive=[{"column": "age", "bins": [18, 30, 120], "labels": ["a"]}]))


def test_relative_paths_resolve_against_config_folder(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("name: flat-example\ndata: {path: data.csv}\nid: id\nlabel: y\n", encoding="utf-8")
    config = load_dataset_config(path)
    assert config.data.path == tmp_path / "data.csv"


def test_missing_and_malformed_config_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_dataset_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_dataset_config(bad)


@pytest.mark.parametrize(("capacity", "n", "k"), [({"fraction": 0.1}, 1000, 100), ({"count": 50}, 20, 20),
                                                   ({"fraction": 0.01}, 10, 1), ({"count": 5}, 0, 0)])
def test_capacity_k(capacity, n, k):
    assert Capacity(**capacity).k(n) == k
