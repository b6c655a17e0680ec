"""Loading and validating data: every problem is reported with its column, rule and rows; audit stays apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.factories import flat_frame, write_flat_dataset
from vroegsignaal.errors import DataValidationError, IdentifierDetectedError, SensitiveFeatureError
from vroegsignaal.schemas.identifiers import CHECK_BSN
from vroegsignaal.training.data import (
    MSG_MISSING_COLUMN,
    MSG_NOT_NUMERIC,
    MSG_ONE_CLASS,
    MSG_OUTSIDE_BINS,
    MSG_UNMAPPED_VALUE,
    load_dataset,
)
from vroegsignaal.scoring.io import MSG_EMPTY_FILE


def failures_of(error: DataValidationError) -> set[tuple[str | None, str]]:
    return {(f.column, f.check.split(" (")[0]) for f in error.failures}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_flat_table_becomes_features_label_and_separate_audit(tmp_path, suffix):
    dataset = load_dataset(write_flat_dataset(tmp_path, suffix=suffix))
    assert dataset.feature_names == ("arrears_eur", "months_in_arrears", "region", "income_eur")
    assert list(dataset.audit.columns) == ["gender", "age_band"]
    assert not set(dataset.frame.columns) & {"gender", "age", "age_band", "at_risk", "case_id"}
    assert set(np.unique(dataset.y)) == {0, 1}
    assert set(dataset.audit["age_band"]) <= {"18-34", "35-64", "65+"}


def test_missing_column_is_named(tmp_path):
    config = write_flat_dataset(tmp_path, flat_frame(200).drop(columns=["gender"]))
    with pytest.raises(DataValidationError) as raised:
        load_dataset(config)
    assert ("gender", MSG_MISSING_COLUMN) in failures_of(raised.value)


def test_text_in_a_monotone_feature_is_reported_with_rows_and_values(tmp_path):
    frame = flat_frame(200).astype({"arrears_eur": object})
    frame.loc[[3, 7], "arrears_eur"] = "unknown"
    with pytest.raises(DataValidationError) as raised:
        load_dataset(write_flat_dataset(tmp_path, frame))
    failure = next(f for f in raised.value.failures if f.column == "arrears_eur")
    assert (failure.check, failure.count, failure.rows, failure.examples) == (MSG_NOT_NUMERIC, 2, (3, 7), ("unknown",))


def test_numbers_stored_as_text_are_read_as_numbers(tmp_path):
    # A typed file (parquet) may hold a numeric column as text: it was refused with "fails 'numeric' in 0 row(s)".
    frame = flat_frame(200)
    frame["arrears_eur"] = frame["arrears_eur"].map(str).astype(object)
    frame.loc[3, "arrears_eur"] = None
    dataset = load_dataset(write_flat_dataset(tmp_path, frame, suffix=".parquet"))
    assert pd.api.types.is_float_dtype(dataset.frame["arrears_eur"])
    assert "arrears_eur" not in dataset.categorical and dataset.frame["arrears_eur"].isna().sum() == 1
    assert "feature 'arrears_eur' holds numbers stored as text: read as numbers" in dataset.report.warnings


def test_every_problem_is_reported_at_once(tmp_path):
    frame = flat_frame(200).astype({"arrears_eur": object})
    frame.loc[0, "arrears_eur"] = "about 300"
    frame.loc[1, "age"] = 130
    frame = frame.drop(columns=["gender"])
    with pytest.raises(DataValidationError) as raised:
        load_dataset(write_flat_dataset(tmp_path, frame))
    assert failures_of(raised.value) >= {
        ("arrears_eur", MSG_NOT_NUMERIC),
        ("age", MSG_OUTSIDE_BINS),
        ("gender", MSG_MISSING_COLUMN),
    }


def test_bsn_like_column_is_refused_without_echoing_it(tmp_path):
    frame = flat_frame(50)
    frame["client_number"] = ["111222333", "123456782"] * 25  # made up, pass the eleven-test
    with pytest.raises(IdentifierDetectedError) as raised:
        load_dataset(write_flat_dataset(tmp_path, frame))
    assert failures_of(raised.value) == {("client_number", CHECK_BSN)}
    assert "111222333" not in str(raised.value)


def test_sensitive_column_as_feature_is_refused(tmp_path):
    with pytest.raises(SensitiveFeatureError, match="gender"):
        write_flat_dataset(tmp_path, features=["arrears_eur", "gender"])


def test_undeclared_denylisted_column_is_refused(tmp_path):
    frame = flat_frame(100).assign(nationality=["x", "y"] * 50)
    with pytest.raises(SensitiveFeatureError, match="nationality"):
        load_dataset(write_flat_dataset(tmp_path, frame))


def test_empty_file_is_refused(tmp_path):
    config = write_flat_dataset(tmp_path)
    (tmp_path / "data.csv").write_text("")
    with pytest.raises(DataValidationError, match=MSG_EMPTY_FILE):
        load_dataset(config)


def test_header_only_file_is_refused(tmp_path):
    config = write_flat_dataset(tmp_path, flat_frame(10).head(0))
    with pytest.raises(DataValidationError, match="no rows"):
        load_dataset(config)


def test_label_with_one_class_is_refused(tmp_path):
    frame = flat_frame(100).assign(at_risk="no")
    with pytest.raises(DataValidationError) as raised:
        load_dataset(write_flat_dataset(tmp_path, frame))
    assert ("at_risk", MSG_ONE_CLASS) in failures_of(raised.value)


def test_unmapped_sensitive_code_is_named(tmp_path):
    sensitive = [{"column": "gender", "map": {"female": "f"}}, {"column": "age", "bins": [18, 65, 120]}]
    with pytest.raises(DataValidationError) as raised:
        load_dataset(write_flat_dataset(tmp_path, sensitive=sensitive))
    failure = next(f for f in raised.value.failures if f.column == "gender")
    assert failure.check == MSG_UNMAPPED_VALUE and failure.examples == ("male",)


def test_a_number_coded_sensitive_column_with_a_blank_keeps_its_groups(tmp_path):
    # read_csv makes the column float (1.0, 2.0) because of the blank; its codes are still "1" and "2".
    frame = flat_frame().assign(gender=lambda f: np.where(f["gender"] == "female", 1, 2).astype(object))
    frame.loc[5, "gender"] = None
    sensitive = [{"column": "gender", "map": {"1": "female", "2": "male"}}, {"column": "age", "bins": [18, 65, 120]}]
    dataset = load_dataset(write_flat_dataset(tmp_path, frame, sensitive=sensitive))
    assert set(dataset.audit["gender"]) == {"female", "male", "missing"}  # the audit's name for not recorded
    assert (dataset.audit["gender"] == "missing").sum() == 1


def test_duplicate_ids_are_refused(tmp_path):
    frame = flat_frame(100)
    frame.loc[5, "case_id"] = frame.loc[4, "case_id"]
    with pytest.raises(DataValidationError, match="unique"):
        load_dataset(write_flat_dataset(tmp_path, frame))


def test_text_feature_not_declared_categorical_is_refused_not_taken_in(tmp_path):
    """Text becomes a feature only when the config lists it as a category: caseworkers' notes or a language level
    in an undeclared column were taken in as a categorical feature, with only a warning."""
    from vroegsignaal.training.data import MSG_UNDECLARED_TEXT

    frame = flat_frame(200).assign(housing=lambda f: np.where(f.index % 2, "rent", "own"))
    with pytest.raises(DataValidationError) as raised:
        load_dataset(write_flat_dataset(tmp_path, frame))
    failure = next(f for f in raised.value.failures if f.column == "housing")
    assert failure.check == MSG_UNDECLARED_TEXT and failure.count == 200 and failure.examples == ()
    declared = load_dataset(write_flat_dataset(tmp_path / "declared", frame, categorical=["region", "housing"]))
    assert "housing" in declared.categorical


def test_a_declared_category_with_a_value_per_row_is_refused_as_free_text(tmp_path):
    from vroegsignaal.training.data import MSG_FREE_TEXT

    frame = flat_frame(200).assign(kenmerk=[f"called on day {i}, resident upset" for i in range(200)])
    with pytest.raises(DataValidationError) as raised:
        load_dataset(write_flat_dataset(tmp_path, frame, categorical=["region", "kenmerk"]))
    failure = next(f for f in raised.value.failures if f.column == "kenmerk")
    assert failure.check == MSG_FREE_TEXT.format(distinct=200, rows=200) and failure.examples == ()
    assert "resident upset" not in str(raised.value)


@pytest.mark.parametrize("column", ["taalvaardigheid", "toelichting", "inburgering", "allochtoon",
                                    "verblijfsstatus", "ggz_traject", "stadsdeel", "mother_tongue", "yob"])
def test_more_names_of_sensitive_attributes_can_never_be_features(column):
    from vroegsignaal.schemas.dataset_config import denylisted_reason

    assert denylisted_reason(column) is not None


def test_german_credit_loads_through_its_config_alone():
    from vroegsignaal.schemas.dataset_config import load_dataset_config

    dataset = load_dataset(load_dataset_config("data/german_credit/dataset.yaml"))
    assert (dataset.rows, dataset.positives) == (1000, 300)
    assert set(dataset.audit.columns) == {"gender", "age_band", "foreign_worker"}
    assert "personal_status_sex" not in dataset.frame.columns and "age_years" not in dataset.frame.columns
    assert set(dataset.audit["gender"]) == {"female", "male"}


@pytest.fixture(scope="module")
def small_municipality(tmp_path_factory):
    from vroegsignaal.training.synth import generate_municipality, write_municipality

    folder = tmp_path_factory.mktemp("municipality")
    write_municipality(generate_municipality(households=3_000, seed=2), folder)
    return folder


def test_signal_tables_become_features_with_audit_apart(small_municipality):
    from vroegsignaal.schemas.catalogue import FEATURE_NAMES
    from vroegsignaal.schemas.dataset_config import load_dataset_config

    dataset = load_dataset(load_dataset_config(small_municipality / "dataset.yaml"))
    assert dataset.feature_names == FEATURE_NAMES


def test_the_synthetic_municipality_is_extracted_on_its_last_day_and_loads_every_row(small_municipality):
    from vroegsignaal.schemas.dataset_config import load_dataset_config

    config = load_dataset_config(small_municipality / "dataset.yaml")
    assert str(config.data.extracted_on) == "2026-12-31"  # 36 months from January 2024
    dataset = load_dataset(config)
    assert dataset.rows == len(pd.read_parquet(small_municipality / "outcomes.parquet"))
    assert not any("left out" in warning for warning in dataset.report.warnings)
    assert list(dataset.audit.columns) == ["age_band", "gender", "origin", "neighbourhood"]
    assert dataset.true_risk is not None and len(dataset.true_risk) == dataset.rows


def test_signal_of_an_unknown_household_is_refused_without_naming_it(small_municipality, tmp_path):
    import shutil

    from vroegsignaal.schemas.dataset_config import load_dataset_config
    from vroegsignaal.training.data import MSG_UNKNOWN_HOUSEHOLD

    folder = tmp_path / "data"
    shutil.copytree(small_municipality, folder)
    signals = pd.read_parquet(folder / "signals.parquet")
    stray = signals.head(1).assign(household_id="hh_not_in_households_0001", signal_id="stray-1")
    pd.concat([signals, stray], ignore_index=True).to_parquet(folder / "signals.parquet", index=False)
    with pytest.raises(DataValidationError) as raised:
        load_dataset(load_dataset_config(folder / "dataset.yaml"))
    failure = next(f for f in raised.value.failures if f.check == MSG_UNKNOWN_HOUSEHOLD)
    assert (failure.table, failure.column, failure.count, failure.rows) == ("signals", "household_id", 1, (len(signals),))
    assert "hh_not_in_households_0001" not in str(raised.value)


def test_out_of_range_and_wrongly_typed_signal_values_are_reported_by_column_and_rule(small_municipality, tmp_path):
    import shutil

    from vroegsignaal.schemas.dataset_config import load_dataset_config

    folder = tmp_path / "data"
    shutil.copytree(small_municipality, folder)
    signals = pd.read_parquet(folder / "signals.parquet")
    signals["amount_eur"] = signals["amount_eur"].astype(object)
    signals.loc[3, "amount_eur"] = -50.0
    signals.loc[5, "partner_type"] = "bakery"
    signals.loc[8, "amount_eur"] = "a lot"
    signals.astype({"amount_eur": str}).to_parquet(folder / "signals.parquet", index=False)
    with pytest.raises(DataValidationError) as raised:
        load_dataset(load_dataset_config(folder / "dataset.yaml"))
    found = {(f.table, f.column, f.check.split("(")[0]): f for f in raised.value.failures}
    assert found[("signals", "amount_eur", "greater_than_or_equal_to")].rows == (3,)
    assert found[("signals", "partner_type", "isin")].examples == ("bakery",)
    assert found[("signals", "amount_eur", "coerce_dtype")].examples == ("<hidden: 5 characters>",)  # text with spaces may be a name: never repeated


# ---------------------------------------------------------------------------------------------------- yes/no columns


@pytest.fixture()
def signal_data(tmp_path):
    from tests.factories import write_signal_dataset

    return write_signal_dataset(tmp_path / "signal-data", households=300)


def as_csv(config_path, name: str, change=None):  # noqa: ANN001
    """Rewrite one table of a signal dataset as csv (after ``change``) and point the config at it."""
    import yaml

    folder = config_path.parent
    frame = pd.read_parquet(folder / f"{name}.parquet")
    (change(frame) if change else frame).to_csv(folder / f"{name}.csv", index=False)
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["data"][name] = f"{name}.csv"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return config_path


def load_signal_data(config_path):  # noqa: ANN001
    from vroegsignaal.schemas.dataset_config import load_dataset_config

    return load_dataset(load_dataset_config(config_path))


def test_empty_label_cells_in_a_csv_outcomes_table_are_refused_with_their_rows(signal_data):
    blank = np.arange(40, 60)

    def blank_labels(outcomes):  # noqa: ANN001, ANN202
        outcomes["problematic_debt_12m"] = outcomes["problematic_debt_12m"].astype(object)
        outcomes.loc[blank, "problematic_debt_12m"] = None
        return outcomes

    with pytest.raises(DataValidationError) as raised:
        load_signal_data(as_csv(signal_data, "outcomes", blank_labels))
    [failure] = raised.value.failures
    assert (failure.table, failure.column, failure.check) == ("outcomes", "problematic_debt_12m", "not_nullable")
    assert (failure.count, failure.rows) == (20, tuple(range(40, 45)))
    assert "outcomes: column 'problematic_debt_12m' fails 'not_nullable' in 20 row(s); rows 40, 41" in str(raised.value)
    assert "hh_train_" not in str(raised.value)


def test_null_household_flag_in_parquet_is_refused_with_its_rows(signal_data):
    households = pd.read_parquet(signal_data.parent / "households.parquet")
    households["recent_move"] = households["recent_move"].astype("boolean")
    households.loc[[7, 9], "recent_move"] = pd.NA
    households.to_parquet(signal_data.parent / "households.parquet", index=False)
    with pytest.raises(DataValidationError) as raised:
        load_signal_data(signal_data)
    [failure] = raised.value.failures
    assert (failure.table, failure.column, failure.check) == ("households", "recent_move", "not_nullable")
    assert failure.rows == (7, 9)


def test_flags_that_are_not_yes_or_no_are_refused_by_their_rows_only(signal_data):
    def stray_values(signals):  # noqa: ANN001, ANN202
        signals["crisis"] = signals["crisis"].astype(object)
        signals.loc[3, "crisis"] = "nee"
        signals.loc[8, "crisis"] = 2
        return signals

    with pytest.raises(DataValidationError) as raised:
        load_signal_data(as_csv(signal_data, "signals", stray_values))
    [failure] = raised.value.failures
    assert (failure.table, failure.column, failure.check) == ("signals", "crisis", "coerce_dtype('boolean')")
    assert (failure.count, failure.rows, failure.examples) == (2, (3, 8), ("nee", "2"))


@pytest.mark.parametrize("spelling", ["0/1", "true/false"])
def test_csv_flags_as_0_1_or_true_false_load_as_the_parquet_tables_do(signal_data, spelling):
    expected = load_signal_data(signal_data)

    def spell(frame):  # noqa: ANN001, ANN202
        for column in frame.columns[frame.dtypes == bool]:
            frame[column] = frame[column].astype(int) if spelling == "0/1" else frame[column].map(str).str.lower()
        return frame

    for name in ("signals", "households", "outcomes"):
        as_csv(signal_data, name, spell)
    dataset = load_signal_data(signal_data)
    pd.testing.assert_frame_equal(dataset.frame, expected.frame)
    np.testing.assert_array_equal(dataset.y, expected.y)
    assert dataset.positives == expected.positives > 0


def test_label_messages_never_repeat_an_identifier(tmp_path):
    frame = flat_frame(300)
    frame.loc[7, "at_risk"] = "111222333"  # a BSN typed into the label column
    with pytest.raises(DataValidationError) as raised:
        load_dataset(write_flat_dataset(tmp_path, frame))
    assert "111222333" not in str(raised.value) and "<hidden>" in str(raised.value)


def test_a_number_coded_label_read_as_float_matches_its_positive_value(tmp_path):
    frame = flat_frame(1_500).assign(at_risk=lambda f: np.where(f["at_risk"] == "yes", 2.0, 1.0))
    dataset = load_dataset(write_flat_dataset(tmp_path, frame, positive=2))
    assert dataset.y.sum() == (frame["at_risk"] == 2.0).sum()


def test_day_month_year_dates_in_a_csv_are_refused_not_swapped(signal_data):
    """pandas guesses a text date's format from its first value: "01-10-2024" (1 October in a Dutch export) was
    read as 10 January, and the tables loaded with months moved. A date not written YYYY-MM-DD is refused by its
    rows; ISO dates, with or without a time, load as before."""
    from vroegsignaal.schemas.tables import MSG_NOT_ISO_DATE

    def dutch_dates(signals):  # noqa: ANN001, ANN202
        signals["signal_date"] = signals["signal_date"].dt.strftime("%Y-%m-%d").astype(object)
        signals.loc[[5, 9], "signal_date"] = ["01-10-2024", "02-03-2024"]
        signals["arrears_start_date"] = signals["arrears_start_date"].dt.strftime("%Y-%m-%d 00:00:00")
        return signals

    with pytest.raises(DataValidationError) as raised:
        load_signal_data(as_csv(signal_data, "signals", dutch_dates))
    [failure] = raised.value.failures  # no follow-on failures from a guessed date
    assert (failure.table, failure.column, failure.check) == ("signals", "signal_date", MSG_NOT_ISO_DATE)
    assert (failure.count, failure.rows) == (2, (5, 9))
    assert "YYYY-MM-DD" in str(raised.value)


def test_iso_dates_are_read_strictly_and_typed_dates_kept():
    from vroegsignaal.schemas.tables import iso_dates

    written = pd.Series(["2024-10-01", "2024-10-01 00:00:00", "2024-10-01T00:00:00", "01-10-2024", "", None,
                         "2024-02-30"], dtype=object)
    read, bad = iso_dates(written)
    assert list(bad) == [False, False, False, True, False, False, False]
    assert list(read[:3]) == [pd.Timestamp("2024-10-01")] * 3
    assert pd.isna(read[3]) and pd.isna(read[4]) and pd.isna(read[5])
    assert read[6] == "2024-02-30"  # no calendar date: left as text for the schema to refuse by its row
    typed = pd.Series(pd.to_datetime(["2024-10-01"]))
    assert iso_dates(typed)[0] is typed


def test_a_flat_tables_time_column_must_be_iso_too(tmp_path):
    from vroegsignaal.schemas.tables import MSG_NOT_ISO_DATE

    frame = flat_frame(300, with_time=True)
    frame["period"] = frame["period"].dt.strftime("%Y-%m-%d").astype(object)
    frame.loc[4, "period"] = "01-03-2025"
    with pytest.raises(DataValidationError) as raised:
        load_dataset(write_flat_dataset(tmp_path, frame, time="period"))
    failure = next(f for f in raised.value.failures if f.column == "period")
    assert (failure.check, failure.rows) == (MSG_NOT_ISO_DATE, (4,))


def test_a_column_missing_from_a_signal_table_is_named(signal_data):
    """pandera reports a missing column as a table-wide failure: it read "table fails 'column_in_dataframe' in
    0 row(s)", with a follow-on failure of every table check that reads the column."""

    def without_amount_and_date(signals):  # noqa: ANN001, ANN202
        return signals.drop(columns=["amount_eur", "signal_date"])

    with pytest.raises(DataValidationError) as raised:
        load_signal_data(as_csv(signal_data, "signals", without_amount_and_date))
    assert {(f.table, f.column, f.check) for f in raised.value.failures} == {
        ("signals", "amount_eur", MSG_MISSING_COLUMN), ("signals", "signal_date", MSG_MISSING_COLUMN)}
    assert "0 row(s)" not in str(raised.value)


@pytest.mark.parametrize("spelling", [np.inf, "inf", "-Infinity"])
def test_infinity_in_a_feature_is_refused_by_its_rows(tmp_path, spelling):
    """An infinite value passed validation and training then ended in a traceback from the scorecard."""
    from vroegsignaal.training.data import MSG_NOT_FINITE

    frame = flat_frame(200).astype({"income_eur": object})
    frame.loc[[2, 8], "income_eur"] = spelling
    if not isinstance(spelling, str):
        frame["income_eur"] = frame["income_eur"].astype(float)
    with pytest.raises(DataValidationError) as raised:
        load_dataset(write_flat_dataset(tmp_path, frame, suffix=".csv" if isinstance(spelling, str) else ".parquet"))
    failure = next(f for f in raised.value.failures if f.column == "income_eur")
    assert (failure.check, failure.rows) == (MSG_NOT_FINITE, (2, 8))


def test_a_feature_that_is_the_label_recorded_after_the_fact_is_warned_of(tmp_path):
    """A column that nearly equals the label (a collection case opened after the reference date) trained a
    'promotable' model of AUC 1.000 without a word."""
    from vroegsignaal.training.data import MSG_LABEL_LEAK

    frame = flat_frame(400)
    frame["in_collection_2y"] = (frame["at_risk"] == frame["at_risk"].max()).astype(int)
    dataset = load_dataset(write_flat_dataset(tmp_path / "leak", frame))
    assert any(w.startswith(MSG_LABEL_LEAK.split("'")[0] + "'in_collection_2y'") for w in dataset.report.warnings)
    clean = load_dataset(write_flat_dataset(tmp_path / "clean", flat_frame(400)))
    assert not any("leaking" in w for w in clean.report.warnings)


def test_offsets_of_winter_and_summer_time_and_months_are_read_as_the_dates_written(signal_data):
    """A file with +01:00 and +02:00 offsets crashed validation ("mixed timezones"), and one offset moved a
    signal to the day before; a refused date also hid a value that was really missing in the same column."""
    from vroegsignaal.schemas.tables import MSG_NOT_ISO_DATE

    def amsterdam_times(signals):  # noqa: ANN001, ANN202
        winter = signals["signal_date"].dt.month.isin([11, 12, 1, 2, 3])
        signals["signal_date"] = (signals["signal_date"].dt.strftime("%Y-%m-%dT00:00:00")
                                  + np.where(winter, "+01:00", "+02:00")).astype(object)
        return signals

    dataset = load_signal_data(as_csv(signal_data, "signals", amsterdam_times))
    assert dataset.rows > 0

    def one_dutch_one_missing(signals):  # noqa: ANN001, ANN202
        signals["signal_date"] = signals["signal_date"].dt.strftime("%Y-%m-%d").astype(object)
        signals.loc[3, "signal_date"] = "31-12-2023"
        signals.loc[7, "signal_date"] = None
        return signals

    with pytest.raises(DataValidationError) as raised:
        load_signal_data(as_csv(signal_data, "signals", one_dutch_one_missing))
    found = {(f.column, f.check): f for f in raised.value.failures}
    assert found[("signal_date", MSG_NOT_ISO_DATE)].rows == (3,)
    assert found[("signal_date", "not_nullable")].rows == (7,)


def test_a_stray_third_label_value_is_named_by_its_rows(tmp_path):
    """A third class was reported for all 1,000 rows with no row named; the rows of the rarer values are now."""
    frame = flat_frame(300)
    frame.loc[7, "at_risk"] = "maybe"
    with pytest.raises(DataValidationError) as raised:
        load_dataset(write_flat_dataset(tmp_path, frame))
    failure = next(f for f in raised.value.failures if f.column == "at_risk")
    assert failure.check.startswith(MSG_ONE_CLASS) and (failure.count, failure.rows) == (1, (7,))
    assert failure.examples == ("maybe",)


def test_a_dutch_excel_export_of_every_signal_table_loads_with_the_configs_csv_options(signal_data):
    """Excel in Dutch writes ';' between fields and ',' in numbers. ``data.csv`` was applied to a flat table
    only: the signal tables were read as one column each and refused as missing every column."""
    import yaml

    expected = load_signal_data(signal_data)
    folder = signal_data.parent
    config = yaml.safe_load(signal_data.read_text(encoding="utf-8"))
    for name in ("signals", "households", "audit", "outcomes"):
        table = pd.read_parquet(folder / f"{name}.parquet")
        table.to_csv(folder / f"{name}.csv", index=False, sep=";", decimal=",")
        config["data"][name] = f"{name}.csv"
    config["data"]["csv"] = {"sep": ";", "decimal": ","}
    signal_data.write_text(yaml.safe_dump(config), encoding="utf-8")
    header, first = (folder / "signals.csv").read_text(encoding="utf-8").splitlines()[:2]
    assert header.split(";")[4] == "amount_eur" and "," in first.split(";")[4]

    dataset = load_signal_data(signal_data)
    pd.testing.assert_frame_equal(dataset.frame, expected.frame)
    np.testing.assert_array_equal(dataset.y, expected.y)


def test_a_household_id_under_two_municipality_codes_is_refused_with_its_rows(signal_data):
    """A pseudonym is unique within its municipality only (the service keys households by both), and the
    tables join on the pseudonym alone: a household_id under two municipality codes joined two households into
    one, silently."""
    from vroegsignaal.training.data import MSG_ONE_MUNICIPALITY

    folder = signal_data.parent
    signals = pd.read_parquet(folder / "signals.parquet")
    shared = signals["household_id"].iloc[2]
    households = pd.read_parquet(folder / "households.parquet")
    household_rows = tuple(np.flatnonzero(households["household_id"] == shared))
    households.loc[households["household_id"] == shared, "municipality_code"] = "GM0363"
    households.to_parquet(folder / "households.parquet", index=False)
    with pytest.raises(DataValidationError) as raised:
        load_signal_data(signal_data)
    found = {f.table: f for f in raised.value.failures}
    assert set(found) == {"households", "signals"}
    households_failure, signals_failure = found["households"], found["signals"]
    assert {households_failure.column, signals_failure.column} == {"municipality_code"}
    assert households_failure.check == signals_failure.check == MSG_ONE_MUNICIPALITY
    assert households_failure.rows == household_rows and households_failure.examples == ("GM0363",)
    assert signals_failure.rows == tuple(np.flatnonzero(signals["household_id"] == shared))
    assert signals_failure.examples == ("GM0344",)
    assert "household_id" in str(raised.value) and "GM0363" in str(raised.value)


def test_a_regions_municipalities_with_their_own_pseudonyms_train_together(signal_data):
    """Small municipalities pool their cases to train one model: several codes are fine when no pseudonym is in
    two of them."""
    folder = signal_data.parent
    expected = load_signal_data(signal_data)
    households = pd.read_parquet(folder / "households.parquet")
    neighbour = set(households["household_id"].iloc[::2])
    for name in ("households", "signals"):
        frame = pd.read_parquet(folder / f"{name}.parquet")
        frame.loc[frame["household_id"].isin(neighbour), "municipality_code"] = "GM0363"
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    dataset = load_signal_data(signal_data)
    pd.testing.assert_frame_equal(dataset.frame, expected.frame)


def with_data_options(config_path, **options):  # noqa: ANN001, ANN003, ANN201
    """Set (or, with ``None``, remove) options of the config's ``data`` section."""
    import yaml

    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for key, value in options.items():
        config["data"].pop(key, None) if value is None else config["data"].__setitem__(key, value)
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return config_path


def test_a_signal_dated_after_today_is_refused_by_its_rows(signal_data):
    """A signal cannot have been received after the data was extracted (a mistyped year, a planned date); it
    was taken in, and only the reference dates kept it out of the features."""
    from vroegsignaal.training.data import MSG_AFTER_EXTRACTION

    folder = signal_data.parent
    signals = pd.read_parquet(folder / "signals.parquet")
    signals.loc[[6, 11], "signal_date"] = pd.Timestamp("2099-03-01")
    signals.to_parquet(folder / "signals.parquet", index=False)
    with pytest.raises(DataValidationError) as raised:
        load_signal_data(with_data_options(signal_data, extracted_on=None))
    [failure] = raised.value.failures
    today = pd.Timestamp.today().date().isoformat()
    assert (failure.table, failure.column, failure.check) == (
        "signals", "signal_date", MSG_AFTER_EXTRACTION.format(day=today))
    assert (failure.count, failure.rows) == (2, (6, 11))
    assert "rows 6, 11; e.g. '2099-03-01'" in str(raised.value)


def test_a_date_after_the_day_the_data_was_extracted_is_refused(signal_data):
    from vroegsignaal.training.data import MSG_AFTER_EXTRACTION

    signals = pd.read_parquet(signal_data.parent / "signals.parquet")
    newest = signals["signal_date"].max()
    with pytest.raises(DataValidationError) as raised:
        load_signal_data(with_data_options(signal_data, extracted_on=(newest - pd.Timedelta(days=1)).date()))
    found = {(f.table, f.column): f for f in raised.value.failures}
    day = (newest - pd.Timedelta(days=1)).date().isoformat()
    assert found[("signals", "signal_date")].check == MSG_AFTER_EXTRACTION.format(day=day)
    assert found[("signals", "signal_date")].count == (signals["signal_date"] == newest).sum()
    assert found[("outcomes", "reference_date")].count == 300  # every row is for 2026-01-01


def two_reference_dates(config_path, first: str):  # noqa: ANN001, ANN201
    """The first half of the households labelled for ``first`` instead of the factory's 2026-01-01."""
    outcomes = pd.read_parquet(config_path.parent / "outcomes.parquet")
    outcomes.loc[: len(outcomes) // 2 - 1, "reference_date"] = pd.Timestamp(first)
    outcomes.to_parquet(config_path.parent / "outcomes.parquet", index=False)
    return outcomes


def test_label_rows_whose_window_is_open_at_the_end_of_the_data_are_left_out_with_a_warning(signal_data):
    """A household labelled 'no' whose 12 months are not over is not known to be a 'no': such rows trained as
    negatives. The data here end on 2026-01-01, the newest date they hold."""
    outcomes = two_reference_dates(signal_data, "2024-12-01")
    dataset = load_signal_data(with_data_options(signal_data, extracted_on=None))
    assert dataset.rows == 150 and set(dataset.times) == {np.datetime64("2024-12-01")}
    np.testing.assert_array_equal(dataset.y, outcomes["problematic_debt_12m"][:150].to_numpy())
    [warning] = [w for w in dataset.report.warnings if w.startswith("outcomes:")]
    assert "150 of 300 row(s) left out" in warning and "365 days after the reference date" in warning
    assert "2026-01-01" in warning and "data.extracted_on" in warning


def test_the_day_the_data_was_extracted_decides_which_label_windows_ended(signal_data):
    two_reference_dates(signal_data, "2025-06-01")
    dataset = load_signal_data(with_data_options(signal_data, extracted_on="2026-06-01"))
    assert dataset.rows == 150 and set(dataset.times) == {np.datetime64("2025-06-01")}
    assert not any("left out" in w for w in load_signal_data(
        with_data_options(signal_data, extracted_on="2027-01-01")).report.warnings)


def test_data_whose_every_label_window_is_still_open_are_refused(signal_data):
    from vroegsignaal.training.data import MSG_LABEL_WINDOW_OPEN

    with pytest.raises(DataValidationError) as raised:
        load_signal_data(with_data_options(signal_data, extracted_on="2026-06-30"))
    [failure] = raised.value.failures
    assert (failure.table, failure.column, failure.count) == ("outcomes", "reference_date", 300)
    rule = MSG_LABEL_WINDOW_OPEN.format(days=365, end="2026-06-30", source="data.extracted_on")
    assert failure.check == rule


def test_a_date_with_a_time_zone_in_a_table_that_fails_otherwise_is_reported_not_a_crash(signal_data):
    """A table that fails its schema is checked as read: a parquet date with a zone (not yet made plain) beside a
    negative amount crashed the extraction check with a TypeError instead of naming the amount."""
    signals = pd.read_parquet(signal_data.parent / "signals.parquet")
    signals["signal_date"] = pd.to_datetime(signals["signal_date"]).dt.tz_localize("Europe/Amsterdam")
    signals.loc[0, "amount_eur"] = -5.0
    signals.to_parquet(signal_data.parent / "signals.parquet", index=False)
    with pytest.raises(DataValidationError) as raised:
        load_signal_data(signal_data)
    assert [(f.table, f.column, f.rows) for f in raised.value.failures] == [("signals", "amount_eur", (0,))]


def test_failures_in_outcomes_name_the_files_rows_when_open_windows_are_left_out(signal_data):
    """Rows left out for an open label window renumbered the rest: an unknown household in file row 10 was
    reported as row 5."""
    outcomes = pd.read_parquet(signal_data.parent / "outcomes.parquet")
    outcomes.loc[:4, "reference_date"] = pd.Timestamp("2026-06-01")
    outcomes.loc[10, "household_id"] = "hh_nobody_on_file"
    outcomes.to_parquet(signal_data.parent / "outcomes.parquet", index=False)
    with pytest.raises(DataValidationError) as raised:
        load_signal_data(with_data_options(signal_data, extracted_on="2027-01-01"))
    [unknown] = [f for f in raised.value.failures if f.column == "household_id"]
    assert unknown.rows == (10,)


def test_open_windows_that_take_a_class_with_them_are_named_as_the_reason(signal_data):
    """The file holds both classes, the rows whose window ended only one: the message said 'one class' and
    nothing of the rows left out."""
    outcomes = pd.read_parquet(signal_data.parent / "outcomes.parquet")
    positives = outcomes["problematic_debt_12m"].astype(bool)
    assert positives.any() and not positives.all()
    outcomes.loc[positives, "reference_date"] = pd.Timestamp("2026-06-01")
    outcomes.to_parquet(signal_data.parent / "outcomes.parquet", index=False)
    with pytest.raises(DataValidationError) as raised:
        load_signal_data(with_data_options(signal_data, extracted_on="2027-01-01"))
    [failure] = raised.value.failures
    assert (failure.table, failure.column) == ("outcomes", "problematic_debt_12m")
    assert failure.rows == tuple(np.flatnonzero(positives.to_numpy()))[: len(failure.rows)]
    assert f"{int(positives.sum())} of {len(outcomes)} row(s) left out" in failure.check
    assert "label window" in failure.check
