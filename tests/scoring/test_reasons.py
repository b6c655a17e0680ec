"""Reason codes: plain sentences from the catalogue, only for allowed features that raise the score."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vroegsignaal.schemas.dataset_config import FeatureText
from vroegsignaal.scoring.reasons import ReasonWriter


def catalogue_writer() -> ReasonWriter:
    names = ["rent_arrears_eur", "rent_arrears_months", "household_type", "signals_3m"]
    return ReasonWriter.build(names, categorical=["household_type"], feature_text={})


def household(**values):
    base = {"rent_arrears_eur": 1450.0, "rent_arrears_months": 3.0, "household_type": "single_parent", "signals_3m": 2}
    return pd.DataFrame([{**base, **values}])


def test_rent_arrears_reason_reads_like_a_caseworker_would_say_it():
    reasons = catalogue_writer().top_reasons(np.array([[0.9, 0.1, 0.0, 0.3]]), household())[0]
    assert reasons[0]["text_nl"] == "Huurachterstand sinds 3 maanden, € 1.450"
    assert reasons[0]["text_en"] == "Rent arrears for 3 months, €1,450"
    # "Rent arrears for 3 months" is told in the first sentence already: not repeated as a reason of its own.
    assert [r["feature"] for r in reasons] == ["rent_arrears_eur", "signals_3m"]


def test_features_that_lower_the_score_are_not_reasons():
    reasons = catalogue_writer().top_reasons(np.array([[-0.5, 0.0, 0.0, 0.2]]), household())[0]
    assert [r["feature"] for r in reasons] == ["signals_3m"]


def test_a_trend_is_a_reason_only_while_the_arrears_grow():
    names = ["rent_arrears_eur", "arrears_trend_eur_per_month", "signals_3m", "rent_arrears_months"]
    writer = ReasonWriter.build(names, categorical=[], feature_text={})
    contributions = np.array([[0.5, 0.9, 0.3, 0.1]] * 3)
    rows = household(arrears_trend_eur_per_month=0.0), household(arrears_trend_eur_per_month=-40.0), household(
        arrears_trend_eur_per_month=75.0
    )
    flat, falling, growing = (writer.top_reasons(contributions[:1], row)[0] for row in rows)
    # "Arrears growing by EUR 0 a month" would be said to a resident whose arrears do not grow: the next reason
    # takes its place (the months are told by the first sentence already, so none is left here).
    assert [r["feature"] for r in flat] == [r["feature"] for r in falling] == ["rent_arrears_eur", "signals_3m"]
    assert [r["feature"] for r in growing][:1] == ["arrears_trend_eur_per_month"]
    assert growing[0]["text_en"] == "Arrears growing by €75 a month"


def test_household_type_is_never_shown_as_a_reason():
    reasons = catalogue_writer().top_reasons(np.array([[0.0, 0.0, 2.0, 0.0]]), household())[0]
    assert reasons == []


def test_custom_feature_uses_config_text_or_a_generic_sentence():
    texts = {"debt_count": FeatureText(nl="aantal schulden", en="number of debts", reason_nl="{value} schulden",
                                       reason_en="{value} debts")}
    writer = ReasonWriter.build(["debt_count", "duration"], categorical=[], feature_text=texts)
    reasons = writer.top_reasons(np.array([[0.4, 0.2]]), pd.DataFrame([{"debt_count": 4, "duration": 12.5}]))[0]
    assert reasons[0]["text_nl"] == "4 schulden"
    assert reasons[1]["text_en"] == "duration: 12.5"


def test_config_can_forbid_a_custom_feature_as_reason():
    texts = {"postcode_area": FeatureText(nl="gebied", en="area", reason_allowed=False)}
    writer = ReasonWriter.build(["postcode_area"], categorical=["postcode_area"], feature_text=texts)
    assert writer.top_reasons(np.array([[1.0]]), pd.DataFrame([{"postcode_area": "x"}])) == [[]]


def test_each_row_of_a_batch_gets_the_reasons_it_gets_alone():
    contributions = np.array([[0.9, 0.1, 0.0, 0.3], [-0.5, 0.0, 0.0, 0.2], [0.2, 0.7, 0.0, 0.0]])
    rows = household(), household(rent_arrears_eur=90.0), household(signals_3m=5)
    writer = catalogue_writer()
    batch = writer.top_reasons(contributions, pd.concat(rows, ignore_index=True))
    assert batch == [writer.top_reasons(contributions[i : i + 1], row)[0] for i, row in enumerate(rows)]
    assert [[r["feature"] for r in reasons] for reasons in batch] == [
        ["rent_arrears_eur", "signals_3m"],
        ["signals_3m"],
        ["rent_arrears_eur"],  # its sentence tells the months too: it takes the months' place
    ]


def test_a_fact_is_told_once_even_when_two_features_carry_it():
    """A caseworker read "Energy arrears for 2 months, EUR 400" and "Energy arrears running for 2 months": two of
    three reasons saying the same thing."""
    writer = catalogue_writer()
    reasons = writer.top_reasons(np.array([[0.3, 0.9, 0.0, 0.2]]), household())[0]
    # The months (largest contribution) are told by the amount's sentence, which takes their place.
    assert [r["text_en"] for r in reasons] == ["Rent arrears for 3 months, €1,450", "2 signals in the last 3 months"]
