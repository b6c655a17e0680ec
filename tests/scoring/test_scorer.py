"""The scorer: calibrated scores, bands, flags, out-of-distribution marks and reasons."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tests.factories import flat_frame, train_bare_bundle, write_flat_dataset
from vroegsignaal.errors import DataValidationError
from vroegsignaal.schemas.enums import ReviewFlag, RiskBand
from vroegsignaal.scoring.bundle import load_bundle
from vroegsignaal.scoring.model import RiskBands
from vroegsignaal.scoring.preprocess import MSG_MISSING_FEATURES, FeaturePreprocessor
from vroegsignaal.scoring.scorer import Scorer


@pytest.fixture(scope="module")
def scorer(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scorer")
    config = write_flat_dataset(folder / "data")
    return Scorer(load_bundle(train_bare_bundle(config, folder / "model")))


@pytest.fixture(scope="module")
def rows():
    return flat_frame(400, seed=11)


def test_scores_are_probabilities_and_bands_follow_thresholds(scorer, rows):
    result = scorer.score_frame(rows, explain=False)
    assert result["score"].between(0, 1).all()
    bands = scorer.bundle.bands
    expected = np.where(result["score"] >= bands.high, "high", np.where(result["score"] >= bands.medium, "medium", "low"))
    assert (result["band"] == expected).all()
    assert set(result.loc[result["band"] == "high", "intensity"]) <= {"home_visit"}
    assert set(result.loc[result["band"] == "low", "intensity"]) <= {"letter"}


def test_more_arrears_never_lowers_the_score(scorer, rows):
    base = scorer.predict(rows)
    more = rows.assign(arrears_eur=rows["arrears_eur"] + 500)
    assert (scorer.predict(more) >= base - 1e-12).all()


def test_high_band_rows_are_flagged_and_explained(scorer, rows):
    result = scorer.score_frame(rows, explain="listed")
    high = result["band"] == RiskBand.HIGH.value
    assert high.any()
    assert all(ReviewFlag.HIGH_RISK.value in flags for flags in result.loc[high, "flags"])
    assert result.loc[high, "reasons"].map(lambda r: r is not None).all()


def test_reasons_raise_the_score_and_are_written_in_both_languages(scorer, rows):
    result = scorer.score_frame(rows, explain=True)
    for reasons in result["reasons"]:
        assert len(reasons) <= 3
        assert all(r["contribution"] > 0 for r in reasons)
        assert [r["contribution"] for r in reasons] == sorted((r["contribution"] for r in reasons), reverse=True)
        for reason in reasons:
            assert reason["text_nl"] and reason["text_en"]
            assert reason["feature"] in scorer.feature_names


def test_out_of_range_and_unseen_category_are_flagged(scorer, rows):
    odd = rows.head(2).copy()
    odd.loc[odd.index[0], "arrears_eur"] = 10_000_000.0
    odd.loc[odd.index[1], "region"] = "atlantis"
    result = scorer.score_frame(odd, explain=False)
    assert result["out_of_distribution"].tolist() == [["arrears_eur"], ["region"]]
    assert all(ReviewFlag.OUT_OF_DISTRIBUTION.value in flags for flags in result["flags"])


def test_missing_feature_column_is_named(scorer, rows):
    with pytest.raises(DataValidationError, match=re.escape(f"{MSG_MISSING_FEATURES}: income_eur")):
        scorer.score_frame(rows.drop(columns=["income_eur"]))


def test_text_in_numeric_feature_is_reported_with_rows(scorer, rows):
    bad = rows.head(3).astype({"income_eur": object})
    bad.loc[bad.index[1], "income_eur"] = "lots"
    with pytest.raises(DataValidationError) as raised:
        scorer.score_frame(bad)
    failure = raised.value.failures[0]
    assert (failure.column, failure.rows, failure.examples) == ("income_eur", (1,), ("lots",))


def test_label_and_audit_columns_may_be_absent(scorer, rows):
    features = rows[list(scorer.feature_names)]
    assert len(scorer.score_frame(features)) == len(rows)


def test_score_one_matches_the_batch(scorer, rows):
    batch = scorer.score_frame(rows.head(5), explain=True)
    for i, (_, row) in enumerate(rows.head(5).iterrows()):
        one = scorer.score_one(row.to_dict())
        assert one.score == pytest.approx(batch["score"].iloc[i])
        assert one.band == batch["band"].iloc[i]
        assert list(one.reasons) == batch["reasons"].iloc[i]
        assert one.model_version == scorer.model_version


def test_explain_mask_limits_reasons(scorer, rows):
    mask = np.zeros(len(rows), dtype=bool)
    mask[:3] = True
    result = scorer.score_frame(rows, explain=mask)
    assert result["reasons"].notna().sum() == 3
    with pytest.raises(ValueError, match="explain mask"):
        scorer.score_frame(rows, explain=mask[:2])


def test_rows_keep_their_index(scorer, rows):
    shuffled = rows.sample(frac=1, random_state=1)
    result = scorer.score_frame(shuffled, explain=False)
    assert result.index.equals(shuffled.index)
    np.testing.assert_allclose(result.sort_index()["score"], scorer.score_frame(rows, explain=False)["score"])


def test_empty_input_gives_empty_output(scorer, rows):
    assert scorer.score_frame(rows.head(0)).empty


def test_boolean_flags_count_as_numbers(scorer):
    frame = pd.DataFrame(
        {"arrears_eur": [100.0], "months_in_arrears": [True], "region": ["north"], "income_eur": [2000]}
    )
    assert len(scorer.score_frame(frame)) == 1


@pytest.fixture(scope="module")
def signal_model(tmp_path_factory):
    """A catalogue model trained on a small synthetic municipality, and that municipality's tables."""
    from vroegsignaal.schemas.dataset_config import load_dataset_config
    from vroegsignaal.training.synth import generate_municipality, write_municipality

    folder = tmp_path_factory.mktemp("signal-model")
    municipality = generate_municipality(households=20_000, seed=3)
    write_municipality(municipality, folder / "data")
    config = load_dataset_config(folder / "data" / "dataset.yaml")
    return Scorer(load_bundle(train_bare_bundle(config, folder / "model"))), municipality


def test_listed_reasons_skip_households_without_any_signal(signal_model):
    from vroegsignaal.scoring.features import build_features

    scorer, municipality = signal_model
    reference_date = municipality.outcomes["reference_date"].max()
    households = municipality.households["household_id"].head(3_000)
    reference = pd.DataFrame({"household_id": households, "reference_date": reference_date})
    features = build_features(municipality.signals, municipality.households, reference)
    result = scorer.score_frame(features, explain="listed")
    no_signal = features["signals_12m"].to_numpy() == 0
    recent = features["signals_3m"].to_numpy() > 0
    assert no_signal.any() and recent.any()
    # households without signals lie outside the training population: flagged, but on no list, so not explained
    assert result.loc[no_signal, "flags"].map(lambda f: "out_of_distribution" in f).all()
    assert result.loc[no_signal, "reasons"].isna().all()
    assert result.loc[recent, "reasons"].notna().all()


def test_scores_are_the_same_whether_or_not_every_row_is_explained(scorer, rows):
    explained = scorer.score_frame(rows, explain=True)
    plain = scorer.score_frame(rows, explain=False)
    np.testing.assert_allclose(explained["score"], plain["score"], rtol=0, atol=1e-12)
    assert (explained["band"] == plain["band"]).all()


@pytest.mark.parametrize(("high", "medium"), [(0.6, 0.3), (0.5, 0.5), (1.0, 0.0), (0.0, 0.0)])
def test_bands_are_what_nested_where_on_the_thresholds_gives(high, medium):
    bands = RiskBands(high, medium)
    scores = np.concatenate(
        [np.linspace(0, 1, 101), [np.nan, high, medium, np.nextafter(high, 0), np.nextafter(medium, 0)]]
    )
    expected = np.where(
        scores >= high, RiskBand.HIGH.value, np.where(scores >= medium, RiskBand.MEDIUM.value, RiskBand.LOW.value)
    )
    actual = bands.band(scores)
    assert actual.dtype == expected.dtype
    assert actual.tolist() == expected.tolist()
    assert bands.band(np.array([])).tolist() == []


def test_out_of_distribution_marks_values_outside_the_range_unseen_levels_and_unseen_blanks():
    training = pd.DataFrame({"amount": [0.0, 10.0], "share": [0.1, np.nan], "code": ["north", "south"]})
    preprocessor = FeaturePreprocessor.fit(
        training, feature_names=["amount", "share", "code"], categorical=["code"]
    )
    records = [
        {"amount": 5.0, "share": np.nan, "code": "north"},
        {"amount": 11.0, "share": 0.1, "code": "east"},
        {"amount": np.nan, "share": 2.0, "code": None},
    ]
    marks = preprocessor.out_of_distribution(preprocessor.encode_records(records))
    assert marks.tolist() == [[False, False, False], [True, False, True], [True, True, False]]
