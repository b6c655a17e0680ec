"""The card's plots: valid PNGs, deterministic, no global matplotlib state, alt text that states what they show."""

from __future__ import annotations

import io

import matplotlib
import pytest
from matplotlib._pylab_helpers import Gcf
from PIL import Image

from tests.model_cards.factories import attributes, curves, make_card
from vroegsignaal.model_cards import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def dutch_plots():
    return {plot.name: plot for plot in plots.card_plots(make_card(), lang="nl")}


def test_card_has_every_plot_the_spec_asks_for(dutch_plots):
    assert set(dutch_plots) == {
        "roc",
        "precision_recall",
        "calibration",
        "score_distribution",
        "fairness_age_band",
        "fairness_gender",
        "fairness_origin",
        "importance",
    }


def test_every_plot_is_a_valid_png(dutch_plots):
    for plot in dutch_plots.values():
        assert plot.png.startswith(PNG_MAGIC), plot.name
        with Image.open(io.BytesIO(plot.png)) as image:
            image.verify()
        with Image.open(io.BytesIO(plot.png)) as image:
            assert image.format == "PNG" and image.width >= 300 and image.height >= 150, plot.name


def test_plots_are_deterministic():
    roc = curves().roc
    assert plots.plot_roc(roc, lang="en") == plots.plot_roc(roc, lang="en")


def test_plots_ignore_the_callers_matplotlib_settings():
    roc = curves().roc
    expected = plots.plot_roc(roc, lang="nl")
    with matplotlib.rc_context({"lines.linewidth": 9, "font.size": 25, "axes.facecolor": "black"}):
        assert plots.plot_roc(roc, lang="nl") == expected


def test_plotting_leaves_no_global_state_behind():
    before = dict(matplotlib.rcParams)
    plots.plot_group_metrics(attributes()[2], lang="en")
    assert dict(matplotlib.rcParams) == before
    assert Gcf.get_num_fig_managers() == 0


def test_plots_follow_the_language_of_the_card():
    roc = curves().roc
    assert plots.plot_roc(roc, lang="nl") != plots.plot_roc(roc, lang="en")
    assert plots.CardPlot("roc", "nl", b"", "", "").filename == "roc.png"
    assert plots.CardPlot("roc", "en", b"", "", "").filename == "roc.en.png"


def test_alt_text_states_what_the_plot_shows(dutch_plots):
    roc = dutch_plots["roc"].alt
    assert "ROC" in roc and "model 0,81" in roc and "0,66" in roc and "0,74" in roc
    assert "diagonaal" in dutch_plots["calibration"].alt and "0,02" in dutch_plots["calibration"].alt
    origin = dutch_plots["fairness_origin"].alt
    # n counts households: 1,295 rows of 540 households.
    assert "herkomst buiten Europa (n=540)" in origin and "recall 0,46" in origin


def test_group_plot_alt_text_marks_groups_too_small_to_judge(dutch_plots):
    assert "65 jaar en ouder (n=40, te klein om te beoordelen)" in dutch_plots["fairness_age_band"].alt


def test_group_plot_of_a_card_made_before_households_were_counted_shows_its_rows():
    older = {plot.name: plot for plot in plots.card_plots(make_card(rows_per_household=None), lang="nl")}
    assert "herkomst buiten Europa (n=1.295)" in older["fairness_origin"].alt


def test_card_without_curves_gets_no_performance_plots():
    names = {plot.name for plot in plots.card_plots(make_card(none_metrics=True), lang="nl")}
    assert not names & {"roc", "precision_recall", "calibration", "score_distribution"}
    assert "importance" in names
