"""Rendering a card: every file in both languages, schema-valid JSON, accessible self-contained HTML, atomic writes."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from jsonschema import Draft202012Validator

from tests.model_cards.factories import card_dict, make_card
from vroegsignaal.errors import ConfigError, ModelBundleError
from vroegsignaal.model_cards import plots, render
from vroegsignaal.model_cards.render import (
    MSG_CARD_NOT_FOUND,
    MSG_INVALID_CARD,
    MSG_UNKNOWN_LANG,
    card_filename,
    load_card,
    render_card,
    validate_card_json,
)
from vroegsignaal.schemas.card import MSG_POSITIVES_EXCEED_ROWS, GateResult


class _Page(HTMLParser):
    """Collects what the accessibility and self-containment checks need from an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.html_lang: str | None = None
        self.headings: list[int] = []
        self.images: list[dict[str, str | None]] = []
        self.references: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self.tables = 0
        self.captions_first = 0
        self.header_cells: list[dict[str, str | None]] = []
        self._after_table = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.html_lang = attributes.get("lang")
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.headings.append(int(tag[1]))
        if tag == "img":
            self.images.append(attributes)
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            if attributes.get(name) is not None:
                self.references.append((tag, attributes[name]))
        if tag == "th":
            self.header_cells.append(attributes)
        if self._after_table:
            self.captions_first += tag == "caption"
            self._after_table = False
        if tag == "table":
            self.tables += 1
            self._after_table = True


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The full card (failing gate, mitigation) rendered once for the whole module."""
    return render_card(make_card(), tmp_path_factory.mktemp("bundle") / "card")


@pytest.fixture(scope="module")
def rendered_unknowns(tmp_path_factory):
    """A passing card whose metrics and curves could not be computed, without mitigation."""
    card = make_card(none_metrics=True, mitigation=False, failing_gate=False)
    return render_card(card, tmp_path_factory.mktemp("bundle") / "card")


def test_render_writes_every_file_in_both_languages(rendered):
    names = {path.relative_to(rendered.directory).as_posix() for path in rendered.directory.rglob("*") if path.is_file()}
    assert {
        "card.json",
        "card.schema.json",
        "card.md",
        "card.html",
        "card.en.md",
        "card.en.html",
        "algoritmeregister.json",
        "plots/roc.png",
        "plots/roc.en.png",
        "plots/fairness_origin.png",
        "plots/importance.en.png",
    } <= names
    assert {path.relative_to(rendered.directory).as_posix() for path in rendered.plots} == {
        name for name in names if name.startswith("plots/")
    }


def test_card_json_validates_against_the_schema_written_beside_it(rendered):
    schema = json.loads(rendered.schema_json.read_text(encoding="utf-8"))
    data = json.loads(rendered.card_json.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(data)) == []


def test_loaded_card_equals_the_rendered_one(rendered):
    assert load_card(rendered.directory) == make_card()
    assert load_card(rendered.card_json) == make_card()


def test_card_missing_a_required_section_fails_with_a_clear_error():
    data = card_dict()
    del data["performance"]
    with pytest.raises(ModelBundleError, match=MSG_INVALID_CARD) as error:
        validate_card_json(data)
    assert "(top level): 'performance' is a required property" in str(error.value)


def test_load_card_names_every_offending_field(tmp_path):
    data = card_dict()
    data["evaluation_data"]["rows"] = "many"
    del data["fairness"]["gates"][0]["verdict"]
    path = tmp_path / "card.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelBundleError, match=MSG_INVALID_CARD) as error:
        load_card(path)
    message = str(error.value)
    assert "2 problems" in message
    assert "evaluation_data.rows: 'many' is not of type 'integer'" in message
    assert "fairness.gates.0: 'verdict' is a required property" in message


def test_load_card_applies_the_rules_json_schema_cannot_express(tmp_path):
    data = card_dict()
    data["training_data"]["positives"] = data["training_data"]["rows"] + 5
    (tmp_path / "card.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelBundleError, match=MSG_POSITIVES_EXCEED_ROWS) as error:
        load_card(tmp_path)
    assert "training_data" in str(error.value)


def test_load_card_without_a_card_says_so(tmp_path):
    with pytest.raises(ModelBundleError, match=MSG_CARD_NOT_FOUND):
        load_card(tmp_path)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_html_is_self_contained(rendered, lang):
    html = rendered.html[lang].read_text(encoding="utf-8")
    page = _parse(html)
    external = [(tag, ref) for tag, ref in page.references if not (ref.startswith("#") or ref.startswith("data:"))]
    assert external == []
    assert not {"script", "link", "iframe", "object", "embed"} & set(page.tags)
    for forbidden in ("http://", "https://", "url(", "@import", "@font-face"):
        assert forbidden not in html


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_plot_is_embedded_with_alt_text_that_describes_it(rendered, lang):
    page = _parse(rendered.html[lang].read_text(encoding="utf-8"))
    expected = len([path for path in rendered.plots if path.name.endswith(".en.png") == (lang == "en")])
    assert len(page.images) == expected
    for image in page.images:
        assert image["src"].startswith("data:image/png;base64,")
        assert len(image.get("alt") or "") > 60


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_html_structure_is_accessible(rendered, lang):
    page = _parse(rendered.html[lang].read_text(encoding="utf-8"))
    assert page.html_lang == lang
    assert page.headings.count(1) == 1 and page.headings[0] == 1
    skipped = [(a, b) for a, b in zip(page.headings, page.headings[1:]) if b > a + 1]
    assert skipped == []
    assert page.tables > 10 and page.captions_first == page.tables
    assert all(cell.get("scope") in {"col", "row", "colgroup"} for cell in page.header_cells)


def test_html_is_printable(rendered):
    html = rendered.html["nl"].read_text(encoding="utf-8")
    assert "@media print" in html and "@page" in html and "break-inside: avoid" in html


def test_verdicts_are_written_not_only_coloured(rendered, tmp_path):
    failing = rendered.html["nl"].read_text(encoding="utf-8")
    assert "✘ Dit model mag niet ter goedkeuring worden voorgelegd." in failing
    assert "✘ niet gehaald" in failing and "? te weinig gegevens" in failing
    passing = render_card(make_card(failing_gate=False, all_judged=True), tmp_path / "card").html["en"]
    assert "✔ This model may be submitted to the ethics committee for approval." in passing.read_text(encoding="utf-8")


def test_a_card_whose_recall_parity_was_not_established_asks_the_committee_to_judge_it(tmp_path):
    """Its neighbourhood's recall parity could not be judged: the card must not read like one that passed."""
    files = render_card(make_card(failing_gate=False), tmp_path / "card")
    html = files.html["en"].read_text(encoding="utf-8")
    assert '<div class="verdict reviewer_decides">' in html
    assert "⚠ This model may be submitted for approval, but the ethics committee must judge it itself" in html
    assert "could not be established for &#39;neighbourhood&#39;" in html
    assert "✔ This model may be submitted" not in html
    markdown = files.markdown["nl"].read_text(encoding="utf-8")
    assert "**Oordeel:** ⚠ Dit model mag ter goedkeuring worden voorgelegd, maar de ethische commissie" in markdown
    assert "kon niet worden vastgesteld voor 'neighbourhood'" in markdown


def test_proxy_check_shows_its_auc_with_the_interval_it_is_judged_on(rendered):
    assert "<td class=\"num\">0.68 (0.64–0.72)</td>" in rendered.html["en"].read_text(encoding="utf-8")
    assert "| `origin` | 0,68 (0,64–0,72) |" in rendered.markdown["nl"].read_text(encoding="utf-8")


def test_the_gates_table_names_the_proxy_gate_in_words(tmp_path):
    card = make_card()
    proxy = GateResult(attribute="origin", metric="proxy_auc", threshold=0.75, comparison="<=", value=0.68,
                       ci_low=0.64, ci_high=0.72, verdict="pass", reason="The features predict origin weakly.")
    fairness = card.fairness.model_copy(update={"gates": [*card.fairness.gates, proxy]})
    files = render_card(card.model_copy(update={"fairness": fairness}), tmp_path / "card")
    for lang, label in (("nl", "AUC waarmee de kenmerken dit kenmerk voorspellen"),
                        ("en", "AUC of the features predicting this attribute")):
        html, markdown = files.html[lang].read_text(encoding="utf-8"), files.markdown[lang].read_text(encoding="utf-8")
        assert f"<td>{label}</td>" in html and f"| `origin` | {label} |" in markdown
        assert "proxy_auc" not in html and "proxy\\_auc" not in markdown and "proxy_auc" not in markdown


def test_the_gates_section_says_when_no_gate_checks_recall_parity(tmp_path):
    card = make_card(failing_gate=False, all_judged=True)
    gated = [gate for gate in card.fairness.gates if gate.metric != "recall_ratio"]
    files = render_card(
        card.model_copy(update={"fairness": card.fairness.model_copy(update={"gates": gated})}), tmp_path / "card"
    )
    for lang, note in (("nl", "Geen drempel toetst gelijke recall, het leidende eerlijkheidscriterium."),
                       ("en", "No gate checks recall parity, the leading fairness criterion.")):
        for page in (files.html[lang], files.markdown[lang]):
            gates_section = page.read_text(encoding="utf-8").split(render.texts.label("gates_intro", lang))[1]
            assert note in gates_section.split(render.texts.label("proxy", lang))[0]
    checked = render_card(card, tmp_path / "checked").markdown["en"].read_text(encoding="utf-8")
    assert "No gate checks recall parity" not in checked


def test_small_and_absent_groups_never_look_measured(tmp_path):
    """A group too small to judge shows its value as "too few", not a collapsed interval that looks certain; a
    group the data holds but the test rows do not is named as not evaluated rather than left out."""
    card = make_card()
    age = card.factors.audit_attributes[0].model_copy(update={"groups": ["18-24", "25-34", "35-44", "45-64", "65+"]})
    factors = card.factors.model_copy(update={"audit_attributes": [age, *card.factors.audit_attributes[1:]]})
    rendered = render_card(card.model_copy(update={"factors": factors}), tmp_path / "card")
    for lang, too_few, absent in (("en", "(too few)", "Not evaluated, absent from the test data"),
                                  ("nl", "(te weinig)", "Niet beoordeeld, want niet in de testgegevens")):
        markdown = rendered.markdown[lang].read_text(encoding="utf-8")
        small = next(line for line in markdown.splitlines() if line.startswith("| 65 "))
        assert too_few in small and "–" not in small.split("|", 2)[2]
        assert absent in markdown and "45-64" in markdown.split(absent, 1)[1].splitlines()[0]
        html = rendered.html[lang].read_text(encoding="utf-8")
        assert too_few in html and absent in html
        judged = next(line for line in markdown.splitlines() if line.startswith("| 18"))
        assert "–" in judged and too_few not in judged  # judgeable groups keep their intervals


def test_the_gates_heading_counts_what_did_not_pass(rendered_unknowns):
    """A gate that could not be judged blocks nothing, so the card must not call it passed (it said "All gates
    passed" as long as no gate failed)."""
    for lang, summary in (("en", "Of the 5 gates: 4 passed, 0 failed, 0 inconclusive"),
                          ("nl", "Van de 5 drempels: 4 gehaald, 0 niet gehaald, 0 onbeslist")):
        for page in (rendered_unknowns.html[lang], rendered_unknowns.markdown[lang]):
            text = page.read_text(encoding="utf-8")
            assert summary in text
            assert "All gates passed" not in text and "Alle drempels gehaald" not in text


@pytest.mark.parametrize(
    ("lang", "own", "other"),
    [
        ("nl", ["Eerlijkheid per groep", "Herkomst van het label", "Nederlandse herkomst", "0,810"],
         ["Quantitative analyses per group", "Label provenance", "Dutch origin"]),
        ("en", ["Quantitative analyses per group", "Label provenance", "Dutch origin", "0.810"],
         ["Eerlijkheid per groep", "Herkomst van het label", "Nederlandse herkomst"]),
    ],
)
def test_each_language_renders_in_its_own_words(rendered, lang, own, other):
    for text in (rendered.html[lang].read_text(encoding="utf-8"), rendered.markdown[lang].read_text(encoding="utf-8")):
        assert [phrase for phrase in own if phrase not in text] == []
        assert [phrase for phrase in other if phrase in text] == []


def test_markdown_links_its_plots_relative_to_the_card(rendered):
    markdown = rendered.markdown["en"].read_text(encoding="utf-8")
    for path in rendered.plots:
        if path.name.endswith(".en.png"):
            assert f"](plots/{path.name})" in markdown


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_list_in_use_is_a_table_beside_the_per_period_metrics(rendered, rendered_unknowns, lang):
    caption = {
        "nl": "De lijst in gebruik: een huishouden wacht na contact 182 dagen",
        "en": "The list in use: a household waits 182 days after contact",
    }[lang]
    precision = {"nl": "0,468", "en": "0.468"}[lang]  # the model's list in use: 2,020 of 4,320 contacts
    summary = {"nl": "benadert het model 3.610 huishoudens in 4.320 contacten",
               "en": "contacts 3,610 households in 4,320 contacts"}[lang]
    for suffix in (".html", ".md"):
        name = card_filename("card", lang, suffix)
        page = (rendered.directory / name).read_text()
        assert caption in page and precision in page and summary in page
        assert caption not in (rendered_unknowns.directory / name).read_text()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_fairness_section_shows_the_reach_of_the_list_in_use_per_group(rendered, rendered_unknowns, lang):
    caption = {"nl": "Bereik van de lijst in gebruik (model), per groep: origin",
               "en": "Reach of the list in use (model), per group: origin"}[lang]
    share = {"nl": "0,804", "en": "0.804"}[lang]  # 1,190 of 1,480 Dutch households in need
    too_few = {"nl": "te weinig", "en": "too few"}[lang]  # 12 households in need outside Europe
    for suffix in (".html", ".md"):
        name = card_filename("card", lang, suffix)
        fairness = (rendered.directory / name).read_text().split(caption, 1)
        assert len(fairness) == 2, f"{name}: no reach table"
        table = fairness[1][:1500]
        assert share in table and too_few in table
        assert caption not in (rendered_unknowns.directory / name).read_text()


def test_mitigation_reports_every_group_before_and_after(rendered):
    markdown = rendered.markdown["en"].read_text(encoding="utf-8")
    section = markdown.split("## Mitigation: before and after")[1].split("## Data validation")[0]
    for group in ("18–24 years", "female", "male", "Dutch origin", "origin outside Europe", "female × Dutch origin"):
        assert group in section
    assert "| Outside Europe" not in section  # labels come from the enum, not a capitalised value
    assert "0.46 (0.42–0.50) | 0.60 (0.56–0.64)" in section


def test_card_with_unknown_numbers_says_so_instead_of_plotting(rendered_unknowns):
    html = rendered_unknowns.html["nl"].read_text(encoding="utf-8")
    assert "n.b." in html and "Grafiek niet beschikbaar" in html
    assert "Er is geen mitigatie gebruikt." in html
    assert not (rendered_unknowns.directory / "plots" / "roc.png").exists()


def test_a_failing_plot_leaves_no_card_folder(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(plots, "plot_calibration", broken)
    with pytest.raises(RuntimeError, match="plot failed"):
        render_card(make_card(), tmp_path / "card")
    assert list(tmp_path.iterdir()) == []


def test_a_failing_rerender_keeps_the_previous_card(tmp_path, monkeypatch):
    card = make_card(none_metrics=True, mitigation=False)
    files = render_card(card, tmp_path / "card", langs=("en",))
    before = files.card_json.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(plots, "plot_importance", broken)
    with pytest.raises(RuntimeError, match="plot failed"):
        render_card(make_card(none_metrics=True, mitigation=False, failing_gate=False), tmp_path / "card")
    assert files.card_json.read_bytes() == before
    assert [path.name for path in tmp_path.iterdir()] == ["card"]


def test_rerender_replaces_the_previous_card_as_a_whole(tmp_path):
    card = make_card(none_metrics=True, mitigation=False)
    render_card(card, tmp_path / "card", langs=("nl",))
    files = render_card(card, tmp_path / "card", langs=("en",))
    assert not (tmp_path / "card" / "card.md").exists()
    assert files.markdown == {"en": tmp_path / "card" / "card.en.md"}
    assert [path.name for path in tmp_path.iterdir()] == ["card"]


def test_render_refuses_an_unknown_language(tmp_path):
    with pytest.raises(ConfigError, match=MSG_UNKNOWN_LANG):
        render_card(make_card(), tmp_path / "card", langs=("nl", "fr"))
    assert not (tmp_path / "card").exists()


def test_markdown_cells_cannot_break_a_table():
    assert render._markdown_escape("a | b\nc_d") == "a \\| b c\\_d"


def _outreach_header(markdown: str, attribute: str) -> str:
    return markdown.split(f"**{attribute}: who is found and who is listed**", 1)[1].strip().splitlines()[0]


@pytest.mark.parametrize(
    ("rows_per_household", "columns", "note"),
    [
        (2.4, ["Households", "Households with positive label", "Rows", "Rows with positive label"], True),
        (1, ["Households", "Households with positive label"], False),
        (None, ["Rows", "Rows with positive label"], False),
    ],
)
def test_group_tables_show_households_and_rows_only_when_they_differ(tmp_path, rows_per_household, columns, note):
    card = make_card(rows_per_household=rows_per_household, mitigation=False)
    markdown = render_card(card, tmp_path / "card", langs=("en",)).markdown["en"].read_text(encoding="utf-8")
    header = _outreach_header(markdown, "origin")
    expected = ["Group", *columns, "Judgeable", "recall", "false-positive rate", "selection rate", "precision"]
    assert header == "| " + " | ".join(expected) + " |"
    assert ("A group counts households" in markdown) is note
    if rows_per_household == 2.4:
        # 1,295 rows of 540 households; 198 positive rows of 82 households.
        assert "| origin outside Europe | 540 | 82 | 1,295 | 198 | yes |" in markdown


@pytest.mark.parametrize("corrected", [True, False])
def test_the_card_says_when_group_calibration_errors_are_corrected_for_chance(tmp_path, corrected):
    card = make_card(mitigation=False)
    card = card.model_copy(
        update={"fairness": card.fairness.model_copy(update={"calibration_bias_corrected": corrected})}
    )
    rendered = render_card(card, tmp_path / "card", langs=("nl", "en"))
    english = rendered.markdown["en"].read_text(encoding="utf-8")
    dutch_html = rendered.html["nl"].read_text(encoding="utf-8")
    assert ("The calibration error per group is corrected for chance" in english) is corrected
    assert ("De kalibratiefout per groep is gecorrigeerd voor toeval" in dutch_html) is corrected
