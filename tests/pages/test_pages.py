"""What the pages show and do, without a browser: the list and its filters, the banners, a household and its
decision form, objections, a model card with approval and promotion, the comparison and the oversight page."""

from __future__ import annotations

import html

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError

from tests.model_cards.factories import card_dict, make_card
from tests.pages.conftest import csrf_of, sign_in
from tests.pages.html_tree import parse_html
from tests.service.conftest import TODAY, auth, batch, household, row_counts, seed_version, signal
from vroegsignaal.schemas.api import EARLIEST_DATE
from vroegsignaal.schemas.enums import ContactIntensity, ModelStatus, Role
from vroegsignaal.service.models import ModelVersion
from vroegsignaal.service.pages.formatting import format_date, format_number
from vroegsignaal.service.pages.i18n import Translator
from vroegsignaal.service.pages.session import CSRF_FIELD

NL, EN = Translator("nl"), Translator("en")
HIGH, LOW, CRISIS = "hh_high_000000001", "hh_low_0000000001", "hh_crisis_0000001"


def _score(client, *households):  # noqa: ANN001, ANN202
    response = client.post("/v1/scores", json=batch(*households), headers=auth(Role.CASEWORKER))
    assert response.status_code == 200, response.text
    return {result["household_id"]: result for result in response.json()["results"]}


def _three(client):  # noqa: ANN001, ANN202
    return _score(
        client,
        {**household(HIGH, signal("s-1", amount=8000.0)), "neighbourhood": "WK034401"},
        {**household(LOW, signal("s-2", amount=600.0, partner="energy")), "neighbourhood": "WK034402"},
        household(CRISIS, signal("s-3", amount=300.0, crisis=True)),
    )


def _rows(html: str) -> list[str]:
    """The households of the list's main table, in order."""
    table = html.split('class="table outreach"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'href="/huishoudens/([^"]+)"', table)


# ----------------------------------------------------------------------------------------------------------- list


def test_list_shows_the_service_order_with_bands_reasons_deadlines_and_partners(client):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    page = client.get("/")
    assert page.status_code == 200 and '<html lang="nl">' in page.text
    assert _rows(page.text) == [CRISIS, HIGH, LOW]
    assert NL("outreach.urgent") in page.text and 'class="chip chip--high">hoog<' in page.text
    assert "Totale achterstand € 8000" in page.text  # the scorer's reason, as a chip
    assert "energieleverancier" in page.text and NL("outreach.neighbourhood", code="WK034401") in page.text


def test_list_marks_what_fits_in_this_weeks_capacity(make_client):
    client = make_client(weekly_capacity=2)
    _three(client)
    sign_in(client, Role.CASEWORKER)
    page = client.get("/").text
    assert page.count(NL("outreach.this_week")) == 1 + 2  # the explanation and the first two lines
    assert NL("outreach.stat_capacity", per_week=2, decided=0) in page


def test_an_admins_list_of_all_teams_shows_each_lines_team_with_a_link_to_its_list(make_client):
    client = make_client(weekly_capacity=2)
    _three(client)
    sign_in(client, Role.ADMIN)
    page = client.get("/").text
    assert f"<th scope=\"col\">{NL('outreach.col.team')}</th>" in page
    assert page.count('href="/?team=team-noord"') == 3
    # The team has capacity 2: its first two lines fit this week, not all three.
    assert page.count(NL("outreach.this_week")) == 1 + 2
    team_page = client.get("/", params={"team": "team-noord"}).text
    assert f"<th scope=\"col\">{NL('outreach.col.team')}</th>" not in team_page


def test_a_list_longer_than_the_page_shows_says_how_long_it_is(client, monkeypatch):
    """The count stopped at the page's limit (1,000) without a word: a large city's all-teams list looked shorter
    than it was."""
    from vroegsignaal.service.pages import caseworker

    monkeypatch.setattr(caseworker, "LIST_LIMIT", 2)
    _three(client)
    sign_in(client, Role.CASEWORKER)
    page = client.get("/").text
    assert '<span class="stats__number">3</span> ' + NL("outreach.stat_listed") in page
    assert NL("outreach.first_shown", shown=2, total=3) in page


def test_filters_narrow_the_list_but_keep_each_place(client):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    page = client.get("/", params={"partner": "energy"}).text
    assert _rows(page) == [LOW]
    assert '<td class="num">3<' in page  # still number 3 of the whole list
    assert NL("outreach.filtered", shown=1, total=3) in page
    assert _rows(client.get("/", params={"neighbourhood": "WK034401"}).text) == [HIGH]
    assert _rows(client.get("/", params={"band": "low"}).text) == [CRISIS, LOW]  # the fake scores by arrears


def test_a_bad_filter_is_named_and_the_whole_list_shown(client):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    response = client.get("/", params={"band": "extreme"})
    assert response.status_code == 422
    assert NL("outreach.filter_error") in response.text and "&#39;extreme&#39;" in response.text
    assert "(mogelijk: high, medium, low)" in response.text  # a Dutch sentence, no English inside it
    assert len(_rows(response.text)) == 3


def test_admin_sees_every_team_without_household_links(client):
    _three(client)
    sign_in(client, Role.ADMIN)
    page = client.get("/").text
    assert HIGH in page and 'href="/huishoudens/' not in page


# -------------------------------------------------------------------------------------------------------- banners


def test_rule_based_fallback_shows_a_banner_on_every_page(client):
    response = client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model under review"},
                          headers=auth(Role.ADMIN))
    assert response.status_code == 200
    sign_in(client, Role.CASEWORKER)
    for path in ("/", "/bezwaren", "/modellen"):
        assert NL("banner.rule_fallback") in client.get(path).text
    assert NL("outreach.intro_rule") in client.get("/").text


def test_demo_with_an_unapproved_model_says_so(make_client):
    client = make_client(seed_status=ModelStatus.CANDIDATE, demo_mode=True)
    sign_in(client, Role.DATA_SCIENTIST)
    page = client.get("/modellen").text
    assert NL("banner.unapproved_model") in page and NL("banner.demo_mode") not in page


def test_demo_with_an_approved_model_still_says_it_is_a_demo(make_client):
    client = make_client(demo_mode=True)
    sign_in(client, Role.CASEWORKER)
    assert NL("banner.demo_mode") in client.get("/").text


def test_without_an_approved_model_the_pages_say_nothing_gets_a_score(make_client):
    client = make_client(seed_status=None, scorer=None)
    sign_in(client, Role.CASEWORKER)
    assert NL("banner.no_model") in client.get("/").text


# ------------------------------------------------------------------------------------------------------ household


def test_household_shows_signals_scores_with_versions_and_reasons_in_sentences(client):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    page = client.get(f"/huishoudens/{HIGH}").text
    assert "<svg" in page and 'role="img"' in page and NL("household.signals_caption") in page
    assert "Totale achterstand € 8000." in page  # a full sentence
    assert 'href="/modellen/fake-1"' in page
    assert format_date(TODAY, NL) in page  # the date the score was made
    assert "WK034401" in page


def test_a_corrected_signal_is_marked_in_the_table_and_left_off_the_timeline(client):
    _score(client, household(HIGH, signal("s-1", amount=8000.0)))
    _score(client, household(HIGH, {**signal("s-1-corr", amount=800.0), "replaces_signal_id": "s-1"}))
    sign_in(client, Role.CASEWORKER)
    page = client.get(f"/huishoudens/{HIGH}").text
    assert page.count(NL("household.replaced")) == 1
    assert len(re.findall(r'<circle class="point', page)) == 1  # only the correction is drawn


def test_control_sample_household_shows_no_score_or_reasons(make_client):
    client = make_client(control_sample_rate=1.0)
    _score(client, household(HIGH, signal("s-1", amount=8000.0)))
    sign_in(client, Role.CASEWORKER)
    page = client.get(f"/huishoudens/{HIGH}").text
    assert NL("household.advice_hidden") in page and NL("household.standard.control_sample") in page
    assert "Totale achterstand" not in page and NL("household.scores_heading") not in page
    assert "Totale achterstand" not in client.get("/").text


def _decision_form(client, household_id: str) -> tuple[str, dict[str, str]]:  # noqa: ANN001
    page = client.get(f"/huishoudens/{household_id}").text
    item_id = re.search(r'name="review_item_id" value="(\d+)"', page).group(1)
    return page, {
        CSRF_FIELD: csrf_of(page),
        "review_item_id": item_id,
        "contact_attempts.0.kind": "phone",
        "contact_attempts.0.attempted_on": TODAY.isoformat(),
        "contact_attempts.0.part_of_day": "afternoon",
        "contact_attempts.0.reached": "yes",
        "end_result": "financial_follow_up",
    }


class _FormAsRendered(HTMLParser):
    """What a browser sends for the form posting to ``action`` when nobody changes anything: each input's value
    (radios and checkboxes only when checked), each select's selected option (else its first), each textarea's text."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.values = action, {}
        self._in_form, self._select, self._textarea, self._first_option = False, None, None, None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._in_form = a.get("action") == self.action
        elif not self._in_form:
            return
        elif tag == "input" and (a.get("type") not in ("radio", "checkbox") or "checked" in a):
            self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select, self._first_option = a["name"], None
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = self.values[self._select] = a["value"]
            if "selected" in a:
                self.values[self._select] = a["value"]
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_as_rendered(page: str, action: str) -> dict[str, str]:
    parser = _FormAsRendered(action)
    parser.feed(page)
    return parser.values


def _language_link(html: str) -> str:
    return re.search(r'<a class="lang-switch" href="([^"]+)"', html).group(1).replace("&amp;", "&")


def test_a_decision_without_contact_attempts_can_be_sent_as_the_page_shows_it(client):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    action = f"/huishoudens/{LOW}/beslissing"
    form = form_as_rendered(client.get(f"/huishoudens/{LOW}").text, action)
    assert form["contact_attempts.0.attempted_on"] == TODAY.isoformat()  # still filled in for convenience
    response = client.post(action, data={**form, "end_result": "referral_without_contact"})
    assert response.status_code == 303, re.findall(r'id="(f-[^"]*-error)"', response.text)
    history = client.get(f"/v1/households/{LOW}", headers=auth(Role.CASEWORKER)).json()
    assert [(d["end_result"], d["contact_attempts"]) for d in history["decisions"]] == [
        ("referral_without_contact", [])]


def test_more_attempts_than_the_first_rows_are_added_with_the_button_and_all_recorded(client, engine):
    """The form shows three attempt rows; "add another attempt" brings a fourth (nothing recorded meanwhile), and
    every filled row reaches the decision (rows past the third were dropped without a word)."""
    _three(client)
    sign_in(client, Role.CASEWORKER)
    action = f"/huishoudens/{LOW}/beslissing"
    page = client.get(f"/huishoudens/{LOW}").text
    assert page.count("<legend>" + NL("decision.attempt_legend", number=4)) == 0
    assert NL("decision.add_attempt") in page
    tries = {f"contact_attempts.{row}.{name}": value
             for row, kind in enumerate(("letter", "phone", "phone"))
             for name, value in (("kind", kind), ("attempted_on", TODAY.isoformat()),
                                 ("part_of_day", "morning"), ("reached", "no"))}
    before = row_counts(engine)
    more = client.post(action, data={**form_as_rendered(page, action), **tries, "add_attempt": "1"})
    after = row_counts(engine)
    assert more.status_code == 200 and after["decisions"] == before["decisions"]
    assert after["audit_log"] == before["audit_log"] + 1  # the page shown again is a read of the household
    assert NL("decision.attempt_legend", number=4) in more.text
    assert 'name="contact_attempts.2.kind"' in more.text and "form.error" not in more.text
    form = form_as_rendered(more.text, action)
    assert form["contact_attempts.1.kind"] == "phone"  # what was filled in came back
    visit = {"contact_attempts.3.kind": "home_visit", "contact_attempts.3.attempted_on": TODAY.isoformat(),
             "contact_attempts.3.part_of_day": "evening", "contact_attempts.3.reached": "yes"}
    saved = client.post(action, data={**form, **visit, "end_result": "advice_quick_fix",
                                      "chosen_intensity": "letter"})
    assert saved.status_code == 303, re.findall(r'id="(f-[^"]*-error)"', saved.text)
    history = client.get(f"/v1/households/{LOW}", headers=auth(Role.CASEWORKER)).json()
    attempts = history["decisions"][0]["contact_attempts"]
    assert [(a["kind"], a["reached"]) for a in attempts] == [
        ("letter", False), ("phone", False), ("phone", False), ("home_visit", True)]


def test_a_decision_posted_under_another_households_address_is_refused(client, engine):
    """The form's item must belong to the household in the address: otherwise the decision would land on a case
    the caseworker did not have open."""
    _three(client)
    sign_in(client, Role.CASEWORKER)
    _, form = _decision_form(client, HIGH)
    before = row_counts(engine)
    response = client.post(f"/huishoudens/{LOW}/beslissing", data={
        **form, "chosen_intensity": "phone", "departure_reason": "resident asked to be called"})
    assert response.status_code == 404 and row_counts(engine) == before


def test_an_attempt_with_only_its_kind_and_the_filled_in_date_names_what_is_missing(client):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    action = f"/huishoudens/{LOW}/beslissing"
    form = form_as_rendered(client.get(f"/huishoudens/{LOW}").text, action)
    response = client.post(action, data={**form, "end_result": "referral_without_contact",
                                         "contact_attempts.0.kind": "phone"})
    assert response.status_code == 422
    errors = set(re.findall(r'id="(f-[^"]*)-error"', response.text))
    assert errors == {"f-contact_attempts-0-part_of_day", "f-contact_attempts-0-reached"}
    # Sent again as refused, the page still knows which date it filled in itself.
    again = form_as_rendered(response.text, action)
    assert client.post(action, data={**again, "contact_attempts.0.kind": ""}).status_code == 303


def test_switching_language_after_a_refused_decision_returns_to_the_household(client):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    _, form = _decision_form(client, LOW)
    refused = client.post(f"/huishoudens/{LOW}/beslissing", data={**form, "end_result": ""})
    assert refused.status_code == 422
    switched = client.get(_language_link(refused.text))
    assert switched.status_code == 303 and switched.headers["location"] == f"/huishoudens/{LOW}"
    page = client.get(switched.headers["location"])
    assert page.status_code == 200 and EN("decision.heading") in page.text


def test_switching_language_on_an_error_page_after_a_form_goes_to_the_readers_first_page(client):
    sign_in(client, Role.CASEWORKER)
    refused = client.post(f"/bezwaren/{LOW}/intrekken", data={CSRF_FIELD: "not-the-token"})
    assert refused.status_code == 403
    assert client.get(_language_link(refused.text)).headers["location"] == "/"


def test_departing_without_a_reason_shows_the_message_at_the_field_and_keeps_the_values(client, engine):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    page, form = _decision_form(client, HIGH)
    assert 'value="home_visit" checked' in page  # the suggestion is chosen by default
    before = row_counts(engine)
    response = client.post(f"/huishoudens/{HIGH}/beslissing", data={**form, "chosen_intensity": "letter"})
    assert response.status_code == 422
    assert row_counts(engine)["decisions"] == before["decisions"]
    html = response.text
    assert NL("form.error.reason_required") in html and NL("form.error_summary") in html
    assert 'id="f-departure_reason-error"' in html
    assert re.search(r'<textarea id="f-departure_reason"[^>]*aria-describedby="f-departure_reason-hint '
                     r'f-departure_reason-error"[^>]*aria-invalid="true"', html)
    assert 'value="letter" checked' in html and '<option value="financial_follow_up" selected>' in html
    assert 'href="#f-departure_reason"' in html  # the summary links to the field


def test_a_recorded_decision_leaves_the_list_and_shows_on_the_household(client):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    _, form = _decision_form(client, HIGH)
    response = client.post(f"/huishoudens/{HIGH}/beslissing", data={
        **form, "chosen_intensity": "phone", "departure_reason": "resident asked to be called"})
    assert response.status_code == 303 and response.headers["location"] == "/?notice=decision_saved"
    listing = client.get(response.headers["location"]).text
    assert NL("notice.decision_saved") in listing and HIGH not in _rows(listing)
    page = client.get(f"/huishoudens/{HIGH}").text
    assert "financiële vervolghulp" in page and "resident asked to be called" in page
    assert NL("household.no_open_item") in page and 'name="review_item_id"' not in page


def test_after_an_objection_the_household_no_longer_shows_the_advice_the_score_gave(client):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    _, form = _decision_form(client, HIGH)
    client.post(f"/huishoudens/{HIGH}/beslissing", data={
        **form, "chosen_intensity": "phone", "departure_reason": "resident asked to be called"})
    advice_was = NL("household.advice_was", advice=NL.label(ContactIntensity.HOME_VISIT))
    assert advice_was in client.get(f"/huishoudens/{HIGH}").text
    client.post("/bezwaren", data={CSRF_FIELD: csrf_of(client.get("/bezwaren").text), "household_id": HIGH,
                                   "received_on": TODAY.isoformat()})
    page = client.get(f"/huishoudens/{HIGH}").text
    assert NL("household.advice_erased") in page and advice_was not in page


def _case_changed_while_open(client, clock) -> tuple[str, dict[str, str], dict[str, str]]:  # noqa: ANN001
    """The decision form's address, the form as first rendered, and that form filled in after a crisis signal
    came in for the household while its page was open."""
    _three(client)
    sign_in(client, Role.CASEWORKER)
    action = f"/huishoudens/{LOW}/beslissing"
    form = form_as_rendered(client.get(f"/huishoudens/{LOW}").text, action)
    clock.advance(minutes=5)
    _score(client, household(LOW, signal("s-9", amount=400.0, partner="water", crisis=True)))
    filled = {**form, "end_result": "referral_without_contact", "chosen_intensity": "letter",
              "departure_reason": "resident asked for a letter"}
    return action, form, filled


def test_a_case_that_changed_while_its_page_was_open_is_shown_again_with_what_was_filled_in(client, engine, clock):
    action, form, filled = _case_changed_while_open(client, clock)
    # A mistake in the form first: the page comes back for it, and still knows which version of the case was seen.
    mistake = client.post(action, data={**filled, "end_result": ""})
    assert mistake.status_code == 422 and NL("notice.case_changed") not in mistake.text
    assert form_as_rendered(mistake.text, action)["case_updated_at"] == form["case_updated_at"]
    before = row_counts(engine)
    refused = client.post(action, data=filled)
    assert refused.status_code == 409 and NL("notice.case_changed") in refused.text
    after = row_counts(engine)
    assert after.pop("audit_log") == before.pop("audit_log") + 1  # the page shown again is a read of the household
    assert after == before
    assert '<option value="referral_without_contact" selected>' in refused.text  # what was filled in is kept
    again = form_as_rendered(refused.text, action)
    assert again["case_updated_at"] != form["case_updated_at"]  # the page now shows the case as it is
    assert client.post(action, data=again).status_code == 303


def test_a_decision_refused_because_the_case_changed_is_announced_as_a_warning_not_as_saved(client, clock):
    action, _, filled = _case_changed_while_open(client, clock)
    refused = client.post(action, data=filled)
    assert refused.status_code == 409
    focused = [element for element in parse_html(refused.text).iter() if "data-focus-on-load" in element.attrs]
    assert [(element.attrs.get("role"), element.classes(), element.text()) for element in focused] == [
        ("alert", {"notice", "notice--warning"}, NL("notice.case_changed"))]
    assert 'role="status"' not in refused.text


def test_the_list_shows_no_case_changed_message_from_its_address(client):
    sign_in(client, Role.CASEWORKER)
    assert NL("notice.case_changed") not in client.get("/", params={"notice": "case_changed"}).text


def test_an_attempt_in_the_future_is_refused_at_its_date(client, clock):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    _, form = _decision_form(client, LOW)
    response = client.post(f"/huishoudens/{LOW}/beslissing", data={
        **form, "chosen_intensity": "letter", "contact_attempts.0.attempted_on": "2026-12-31"})
    assert response.status_code == 422
    assert 'id="f-contact_attempts-0-attempted_on-error"' in response.text
    assert NL("form.error.future_date") in response.text


def test_closing_a_case_as_unreachable_without_an_attempt_is_refused_at_the_end_result(client, engine):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    action = f"/huishoudens/{LOW}/beslissing"
    form = form_as_rendered(client.get(f"/huishoudens/{LOW}").text, action)  # no attempt filled in
    before = row_counts(engine)
    response = client.post(action, data={**form, "end_result": "no_contact_possible"})
    assert response.status_code == 422
    assert set(re.findall(r'id="(f-[^"]*)-error"', response.text)) == {"f-end_result"}
    assert NL("form.error.result_needs_attempt") in response.text
    assert row_counts(engine)["decisions"] == before["decisions"]


# ----------------------------------------------------------------------------------------------------- objections


def test_objection_is_recorded_refused_twice_and_withdrawn(client):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    form = {CSRF_FIELD: csrf_of(client.get("/bezwaren").text), "household_id": LOW,
            "received_on": TODAY.isoformat()}
    recorded = client.post("/bezwaren", data=form)
    assert recorded.status_code == 303
    assert NL("notice.objection_saved") in client.get(recorded.headers["location"]).text
    listing = client.get("/").text
    assert LOW not in _rows(listing) and LOW in listing.split('id="standard-heading"')[1]
    twice = client.post("/bezwaren", data=form)
    assert twice.status_code == 422 and NL("form.error.already_objected") in twice.text
    withdrawn = client.post(f"/bezwaren/{LOW}/intrekken", data={CSRF_FIELD: form[CSRF_FIELD]})
    assert withdrawn.status_code == 303
    assert NL("objections.withdrawn_at", date="").split("{")[0].strip() in client.get("/bezwaren").text


def test_objection_form_names_its_problems(client):
    sign_in(client, Role.CASEWORKER)
    form = {CSRF_FIELD: csrf_of(client.get("/bezwaren").text), "household_id": "123", "received_on": "yesterday"}
    response = client.post("/bezwaren", data=form)
    assert response.status_code == 422
    assert NL("form.error.pattern") in response.text and NL("form.error.date") in response.text
    assert 'value="yesterday"' in response.text
    later = client.post("/bezwaren", data={**form, "household_id": LOW, "received_on": "2030-01-01"})
    assert later.status_code == 422 and NL("form.error.future_date") in later.text


# --------------------------------------------------------------------------------------------------------- models


@pytest.fixture
def candidate(client, engine):  # noqa: ANN001, ANN201
    """A candidate whose card fails a fairness gate (the factory's default: it shows every part of the card)."""
    seed_version(engine, "card-2", ModelStatus.CANDIDATE, card=card_dict(), html="<html lang='nl'>kaart</html>")
    return "card-2"


@pytest.fixture
def promotable(client, engine):  # noqa: ANN001, ANN201
    """A candidate whose card fails no gate (its neighbourhood's recall parity could not be judged: the reviewer
    decides)."""
    seed_version(engine, "card-3", ModelStatus.CANDIDATE, card=card_dict(failing_gate=False),
                 html="<html lang='nl'>kaart</html>")
    return "card-3"


def test_card_page_shows_verdict_lift_gates_groups_proxy_and_limits(client, candidate):
    sign_in(client, Role.DATA_SCIENTIST)
    page = client.get(f"/modellen/{candidate}").text
    card = make_card()
    for key in ("card.verdict_heading", "card.performance_heading", "card.gates_heading", "card.proxy_heading",
                "card.limits_heading", "card.history_heading"):
        assert NL(key) in page
    assert NL("card.lift_over_rule", lift=format_number(card.performance.lift_over_rule, NL, decimals=2)) in page
    assert "herkomst buiten Europa" in page and "540" in page  # a group with its households
    assert NL("card.col.households") in page
    assert card.caveats_and_recommendations[0].nl in page
    assert "0,68 (0,64–0,72)" in page  # the proxy check's AUC with the interval its gate is judged on
    assert f'src="/modellen/{candidate}/kaart"' in page and NL("card.review_heading") not in page


def test_an_address_that_is_no_page_answers_with_the_error_page_but_the_api_keeps_json(client):
    """A mistyped link or a GET on a form's address answered with JSON, without the banners and page headers."""
    sign_in(client, Role.CASEWORKER)
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for path in ("/nietbestaand", f"/huishoudens/{LOW}/beslissing"):
        response = client.get(path, headers=browser)
        assert response.status_code in (404, 405) and response.headers["content-type"].startswith("text/html")
        assert NL("error.not_found") in response.text and response.headers["cache-control"] == "no-store"
    api = client.get("/v1/nietbestaand", headers=browser)
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"
    assert client.get("/nietbestaand").headers["content-type"] == "application/json"  # not asked for as HTML


def test_a_card_that_cannot_be_read_is_said_so_and_approval_is_not_offered(client, engine):
    """A stored card that no longer fits the schema was shown as "no card" while "approve" was still offered."""
    unreadable = {**card_dict(failing_gate=False), "performance": "not a section"}
    seed_version(engine, "card-odd", ModelStatus.CANDIDATE, card=unreadable, html="<html lang='nl'>kaart</html>")
    sign_in(client, Role.ETHICS_REVIEWER)
    page = client.get("/modellen/card-odd").text
    assert NL("card.unreadable") in page and NL("card.no_card") not in page
    assert NL("card.review_heading") in page  # rejecting stays possible
    assert NL("card.review_reject") in page and NL("card.review_approve") not in page


def test_a_card_whose_recall_parity_was_not_established_asks_the_committee_and_can_still_be_approved(
    client, engine, promotable
):
    sign_in(client, Role.ETHICS_REVIEWER)
    page = client.get(f"/modellen/{promotable}").text
    assert NL("card.verdict_review") in page and NL("card.verdict_ok") not in page
    assert 'class="verdict verdict--reviewer_decides"' in page and 'value="approve"' in page
    seed_version(engine, "card-all-judged", ModelStatus.CANDIDATE, card=card_dict(failing_gate=False, all_judged=True),
                 html="<html lang='nl'>kaart</html>")
    judged = client.get("/modellen/card-all-judged").text
    assert NL("card.verdict_ok") in judged and NL("card.verdict_review") not in judged


def test_ethics_reviewer_approves_with_a_required_comment_and_the_history_shows_it(client, promotable):
    candidate = promotable
    sign_in(client, Role.ETHICS_REVIEWER, subject="reviewer-7")
    page = client.get(f"/modellen/{candidate}").text
    assert NL("card.review_heading") in page and 'value="approve"' in page
    csrf = csrf_of(page)
    refused = client.post(f"/modellen/{candidate}/beoordeling", data={CSRF_FIELD: csrf, "decision": "approve",
                                                                      "comment": "ok"})
    assert refused.status_code == 422 and NL("form.error.too_short", min_length=10) in refused.text
    approved = client.post(f"/modellen/{candidate}/beoordeling", data={
        CSRF_FIELD: csrf, "decision": "approve", "comment": "Gates pass; small groups noted in the minutes."})
    assert approved.status_code == 303
    history = client.get(approved.headers["location"]).text
    assert NL("notice.review_saved") in history and "reviewer-7" in history
    assert "Gates pass; small groups noted in the minutes." in history
    assert NL("card.move", from_status="kandidaat", to_status="goedgekeurd") in history


def test_admin_promotes_an_approved_version_to_the_model_in_use(client, promotable):
    candidate = promotable
    client.post(f"/v1/models/{candidate}/approval", json={"decision": "approve", "comment": "approved in session"},
                headers=auth(Role.ETHICS_REVIEWER))
    sign_in(client, Role.ADMIN)
    page = client.get(f"/modellen/{candidate}").text
    assert NL("card.promote_heading") in page
    response = client.post(f"/modellen/{candidate}/in-gebruik", data={CSRF_FIELD: csrf_of(page)})
    assert response.status_code == 303
    assert client.get("/v1/models/current", headers=auth(Role.ADMIN)).json()["serving_version"] == candidate


def test_a_version_the_service_cannot_serve_is_refused_with_its_reason_not_as_a_conflict(client, promotable, monkeypatch):
    """A version whose model needs features the service cannot build was refused with "this cannot be done any
    more, someone may have done it already"."""
    from vroegsignaal.errors import ModelBundleError
    from vroegsignaal.service.pages import models as model_pages

    client.post(f"/v1/models/{promotable}/approval", json={"decision": "approve", "comment": "approved in session"},
                headers=auth(Role.ETHICS_REVIEWER))

    def unusable(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise ModelBundleError("the bundle's features are not the feature catalogue's")

    monkeypatch.setattr(model_pages, "promote_and_serve", unusable)
    sign_in(client, Role.ADMIN)
    page = client.get(f"/modellen/{promotable}").text
    response = client.post(f"/modellen/{promotable}/in-gebruik", data={CSRF_FIELD: csrf_of(page)})
    assert response.status_code == 409
    assert NL("error.model_unusable") in response.text and NL("error.conflict") not in response.text


def test_a_card_that_fails_a_gate_cannot_be_approved_on_its_page(client, candidate):
    sign_in(client, Role.ETHICS_REVIEWER)
    page = client.get(f"/modellen/{candidate}").text
    assert NL("card.review_gates_failed") in page and 'value="approve"' not in page  # only "reject" is offered
    refused = client.post(f"/modellen/{candidate}/beoordeling", data={
        CSRF_FIELD: csrf_of(page), "decision": "approve", "comment": "Looks fine to me, approve it."})
    assert refused.status_code == 409
    rejected = client.post(f"/modellen/{candidate}/beoordeling", data={
        CSRF_FIELD: csrf_of(page), "decision": "reject", "comment": "The recall gate for origin fails."})
    assert rejected.status_code == 303


def test_card_html_comes_in_the_readers_language(client, engine, candidate):
    with engine.begin() as connection:
        connection.execute(update(ModelVersion).where(ModelVersion.version == candidate)
                           .values(card_html_en="<html lang='en'>card</html>"))
    sign_in(client, Role.ETHICS_REVIEWER)
    dutch = client.get(f"/modellen/{candidate}/kaart")
    assert dutch.text == "<html lang='nl'>kaart</html>"
    assert "frame-ancestors 'self'" in dutch.headers["Content-Security-Policy"]
    client.get("/taal/en")
    assert client.get(f"/modellen/{candidate}/kaart").text == "<html lang='en'>card</html>"


def test_comparison_puts_two_versions_side_by_side(client, engine, candidate):
    seed_version(engine, "card-3", ModelStatus.CANDIDATE, card=card_dict(failing_gate=False))
    sign_in(client, Role.ETHICS_REVIEWER)
    versions = client.get("/modellen").text
    assert 'action="/modellen/vergelijk"' in versions
    page = client.get("/modellen/vergelijk", params={"a": candidate, "b": "card-3"}).text
    assert NL("compare.metrics_heading") in page and NL("metric.lift_over_rule") in page
    assert page.count(NL("verdict.fail")) >= 1 and "herkomst buiten Europa" in page
    assert client.get("/modellen/vergelijk", params={"a": candidate, "b": "nope"}).status_code == 404


def test_the_comparison_form_offers_every_version_and_starts_with_the_two_newest(client, engine, candidate):
    seed_version(engine, "card-3", ModelStatus.CANDIDATE, card=card_dict(failing_gate=False))
    sign_in(client, Role.ETHICS_REVIEWER)
    page = parse_html(client.get("/modellen").text)
    rows = [(row.find_all("th")[0].text(), row.find_all("td")[0].text())  # (version, status), newest first
            for row in page.find_all("tbody")[0].find_all("tr")]
    form = next(form for form in page.find_all("form") if form.attrs.get("action") == "/modellen/vergelijk")
    labels = {label.attrs["for"]: label.text() for label in form.find_all("label")}
    assert labels == {"f-a": NL("models.compare_a"), "f-b": NL("models.compare_b")}
    for name, chosen in (("a", 1), ("b", 0)):
        select = next(select for select in form.find_all("select") if select.attrs["name"] == name)
        options = select.find_all("option")
        assert [(option.attrs["value"], option.text()) for option in options] == [
            (version, f"{version} ({status})") for version, status in rows]
        assert [index for index, option in enumerate(options) if "selected" in option.attrs] == [chosen]


def test_comparison_warns_when_one_card_holds_plain_group_calibration_errors(client, engine, candidate):
    corrected = card_dict(failing_gate=False)
    corrected["fairness"]["calibration_bias_corrected"] = True
    seed_version(engine, "card-3", ModelStatus.CANDIDATE, card=corrected)
    seed_version(engine, "card-4", ModelStatus.CANDIDATE, card=corrected)
    sign_in(client, Role.ETHICS_REVIEWER)
    warning = NL("compare.calibration_definitions_differ")
    assert warning in client.get("/modellen/vergelijk", params={"a": candidate, "b": "card-3"}).text
    assert warning not in client.get("/modellen/vergelijk", params={"a": "card-4", "b": "card-3"}).text


# ------------------------------------------------------------------------------------------------------ oversight


def test_oversight_shows_departures_backlog_and_the_control_sample(client):
    _three(client)
    sign_in(client, Role.ADMIN)
    page = client.get("/toezicht").text
    assert NL("oversight.teams_caption") in page and "team-noord" in page
    assert NL("oversight.group.control_sample") in page and NL("oversight.group.scored") in page
    # The departure share is out of the decisions on the model's advice: the table says so.
    teams = page.split('id="teams-heading"', 1)[1].split("</table>", 1)[0]
    assert NL("oversight.col.advised_decisions") in teams


def test_the_oversight_date_field_stops_at_the_earliest_date_the_page_accepts(client):
    """An earlier date was sent and answered with an error page that did not say which field was wrong; the browser
    now refuses it at the field itself."""
    sign_in(client, Role.ADMIN)
    page = client.get("/toezicht").text
    assert re.search(rf'<input id="f-since" name="since" type="date"[^>]* min="{EARLIEST_DATE.isoformat()}"', page)
    assert client.get("/toezicht", params={"since": "1899-12-31"}).status_code == 422


# ------------------------------------------------------------------------------------------------------- English


def test_english_pages_are_complete(client, candidate):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    client.get("/taal/en")
    listing = client.get("/").text
    assert '<html lang="en">' in listing and EN("outreach.title") in listing and "energy supplier" in listing
    household_page = client.get(f"/huishoudens/{HIGH}").text
    assert EN("decision.heading") in household_page and "Total arrears €8000." in household_page
    assert NL("decision.heading") not in household_page


# ------------------------------------------------------------------------------------------------ errors as pages


def test_deciding_again_differently_is_a_conflict_page(client):
    _three(client)
    sign_in(client, Role.CASEWORKER)
    _, form = _decision_form(client, LOW)
    first = client.post(f"/huishoudens/{LOW}/beslissing", data={**form, "chosen_intensity": "letter"})
    assert first.status_code == 303
    again = client.post(f"/huishoudens/{LOW}/beslissing", data={**form, "chosen_intensity": "letter",
                                                                 "end_result": "declines_help"})
    assert again.status_code == 409 and NL("error.conflict") in again.text


@pytest.mark.parametrize(
    ("error", "status", "key"),
    [
        (OperationalError("SELECT 1", {}, ConnectionError("gone")), 503, "error.unavailable"),
        (IntegrityError("INSERT", {}, ValueError("duplicate")), 409, "error.conflict"),
    ],
    ids=["database-down", "concurrent-change"],
)
def test_database_trouble_is_a_page_that_says_nothing_was_saved(client, monkeypatch, error, status, key):
    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("vroegsignaal.service.pages.caseworker.list_objections", fail)
    sign_in(client, Role.CASEWORKER)
    response = client.get("/bezwaren")
    assert response.status_code == status and NL(key) in response.text


def test_ethics_reviewer_can_withdraw_the_model_in_use_from_its_page(client):
    sign_in(client, Role.ETHICS_REVIEWER)
    page = client.get("/modellen/fake-1").text
    assert NL("card.review_withdraws_model_in_use") in page and 'value="reject"' in page
    assert 'value="approve"' not in page
    rejected = client.post("/modellen/fake-1/beoordeling", data={
        CSRF_FIELD: csrf_of(page), "decision": "reject", "comment": "Recall for 50+ fell below the gate in use."})
    assert rejected.status_code == 303
    assert client.get("/ready").json()["model_loaded"] is False


def test_the_card_page_says_what_its_capacity_numbers_count(client, engine):
    card = card_dict()
    card["performance"]["counting_unit"] = {"nl": "De maten tellen rijen van 162 huishoudens.",
                                            "en": "The metrics count rows of 162 households."}
    seed_version(engine, "card-9", ModelStatus.CANDIDATE, card=card, html="<html lang='nl'>kaart</html>")
    sign_in(client, Role.ETHICS_REVIEWER)
    page = client.get("/modellen/card-9").text
    assert "De maten tellen rijen van 162 huishoudens." in page
    # ... and how the list does in use, with the wait after contact.
    assert html.escape(card["performance"]["in_use"]["summary"]["nl"], quote=False)[:120] in page
