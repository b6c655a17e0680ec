"""Numbers shared by the model card and the pages: a decimal, and a value with its interval, written one way."""

from __future__ import annotations

import pytest

from vroegsignaal.model_cards import texts
from vroegsignaal.number_format import format_decimal, format_estimate
from vroegsignaal.service.pages import formatting
from vroegsignaal.service.pages.i18n import Translator


@pytest.mark.parametrize(
    ("value", "digits", "dutch", "english"),
    [(1234.5678, 3, "1.234,568", "1,234.568"), (0.8125, 2, "0,81", "0.81"), (-0.001, 2, "0,00", "0.00"),
     (-1.5, 1, "-1,5", "-1.5")],
)
def test_decimals_follow_the_language(value, digits, dutch, english):
    assert (format_decimal(value, "nl", digits=digits), format_decimal(value, "en", digits=digits)) == (dutch, english)


def test_an_estimate_shows_its_interval_only_when_it_has_one():
    assert format_estimate(0.81, 0.72, 0.88, "nl", missing="n.b.") == "0,81 (0,72–0,88)"
    assert format_estimate(0.81, 0.72, 0.88, "en", missing="n/a", interval_word="interval") == (
        "0.81 (interval 0.72–0.88)"
    )
    assert format_estimate(0.81, None, 0.88, "en", missing="n/a") == "0.81"
    assert format_estimate(None, 0.72, 0.88, "nl", missing="–") == "–"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_card_and_the_pages_write_an_estimate_the_same_way(lang):
    page = formatting.format_estimate(0.78, 0.7, 0.86, Translator(lang))
    card = format_estimate(0.78, 0.7, 0.86, lang, missing=texts.NOT_AVAILABLE[lang])
    assert page == card == ("0,78 (0,70–0,86)" if lang == "nl" else "0.78 (0.70–0.86)")
