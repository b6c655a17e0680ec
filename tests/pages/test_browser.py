"""The pages in a real headless Chromium against a real server: the journeys of a caseworker and an ethics reviewer,
refusals of the wrong role and the wrong municipality, axe-core and a visible focus on every page, and a screenshot of
every page.

One uvicorn server for the module, on a free port, over a temporary SQLite database, serving two model bundles
trained by the pipeline on a small made-up data set; households are scored through the API, some of them "40 days ago" (the
server's clock is moved) so the list has overdue work. Debian's Chromium (``apt-get install -y chromium``) runs the
pages; without it these tests skip, except under ``CI=true`` where they fail. axe-core is vendored in
``tests/pages/vendor`` (see its README) and injected into each page: no page may have a serious or critical
violation.
The screenshots (1280×800) go to ``var/screenshots/`` (not tracked, so a test run leaves the checkout clean); set
``VROEGSIGNAAL_SCREENSHOTS=docs/screenshots`` to refresh the copies the README and ``docs/pages.md`` show.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.factories import MUNICIPALITY, write_signal_dataset
from tests.pages.factories import household, score_request, signal, team_households, train_bundle
from tests.service.conftest import OTHER_MUNICIPALITY, TEST_CONTROL_KEY, TEST_SECRET, token
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.app import create_app
from vroegsignaal.service.migrate import upgrade_database
from vroegsignaal.service.pages.i18n import Translator
from vroegsignaal.service.settings import build_settings

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_SOURCE = Path(__file__).parent / "vendor" / "axe.min.js"
REPOSITORY = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPOSITORY / os.environ.get("VROEGSIGNAAL_SCREENSHOTS", "var/screenshots")
VIEWPORT = {"width": 1280, "height": 800}
ACTION_TIMEOUT_MS = 15_000
#: axe rules of WCAG 2.0/2.1 levels A and AA, the level Dutch public bodies must meet.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
MSG_NO_CHROMIUM = f"Debian's Chromium is not at {CHROMIUM} (apt-get install -y chromium)"
#: More stops for the keyboard than any page has: a page that needs more keeps the focus going round in circles.
MAX_TABS = 400
#: What the keyboard focus is on: whether it was there before on this round, and whether it shows.
FOCUSED_ELEMENT = """() => {
  const element = document.activeElement;
  window.focusSeen = window.focusSeen || new Set();
  const again = !["BODY", "IFRAME"].includes(element.tagName) && window.focusSeen.has(element);
  window.focusSeen.add(element);
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const named = element.labels && element.labels.length ? element.labels[0] : element;
  const text = (named.innerText || element.getAttribute("aria-label") || "").trim();
  return {again, shown: outline || style.boxShadow !== "none", tag: element.tagName.toLowerCase(),
          where: `${element.tagName.toLowerCase()}${element.id ? "#" + element.id : ""} "${text.slice(0, 40)}"`};
}"""
#: The background of a notice that says something was saved, drawn on the page for comparison.
SAVED_NOTICE_BACKGROUND = """() => {
  const saved = document.createElement("div");
  saved.className = "notice";
  document.body.append(saved);
  const background = getComputedStyle(saved).backgroundColor;
  saved.remove();
  return background;
}"""
NL, EN = Translator("nl"), Translator("en")


@dataclass
class MovableClock:
    """The server's clock: the real time, moved back while the "older" households are scored."""

    offset: dt.timedelta = field(default_factory=dt.timedelta)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


@dataclass(frozen=True)
class Server:
    """The running service and what the tests know about its content."""

    base_url: str
    versions: tuple[str, str]  # (in use, candidate)
    first_household: str


def _chromium_or_skip() -> Path:
    if CHROMIUM.is_file():
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"{MSG_NO_CHROMIUM}; required under CI=true")
    pytest.skip(MSG_NO_CHROMIUM)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _api(base_url: str, method: str, path: str, role: Role, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        base_url + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token(role)}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own local server
        return json.loads(response.read())


def _wait_until_up(base_url: str, server_thread: threading.Thread) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not server_thread.is_alive():
            raise RuntimeError("the test server stopped while starting")
        try:
            with urllib.request.urlopen(base_url + "/health", timeout=1):  # noqa: S310
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the test server did not start within 30 s")


def _seed(base_url: str, clock: MovableClock, versions: tuple[str, str]) -> str:
    """Approve and serve the older version, then score a team's households: some 40 days ago, most today."""
    in_use, _ = versions
    _api(base_url, "POST", f"/v1/models/{in_use}/approval", Role.ETHICS_REVIEWER,
         {"decision": "approve", "comment": "Reviewed for the browser tests: gates pass."})
    _api(base_url, "POST", f"/v1/models/{in_use}/promote", Role.ADMIN, {})
    clock.offset = -dt.timedelta(days=40)
    earlier = clock().date()
    _api(base_url, "POST", "/v1/scores", Role.CASEWORKER,
         score_request(team_households(earlier, prefix="older", count=3), reference=earlier))
    clock.offset = dt.timedelta()
    today = clock().date()
    households = team_households(today, prefix="recent", count=9)
    _api(base_url, "POST", "/v1/scores", Role.CASEWORKER, score_request(households, reference=today))
    _api(base_url, "POST", "/v1/objections", Role.CASEWORKER,
         {"household_id": households[-1]["household_id"], "received_on": today.isoformat()})
    listing = _api(base_url, "GET", "/v1/outreach", Role.CASEWORKER)
    return listing["items"][0]["household_id"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    import uvicorn

    _chromium_or_skip()
    root = tmp_path_factory.mktemp("browser")
    trained = dt.datetime.now(dt.UTC).replace(microsecond=0)
    bundles = [
        train_bundle(write_signal_dataset(root / f"data-{seed}", seed=seed), root / "models" / f"bundle-{seed}",
                     trained_at=trained - dt.timedelta(days=30 * (2 - seed)))
        for seed in (1, 2)
    ]
    versions = tuple(json.loads((bundle / "manifest.json").read_text())["model_version"] for bundle in bundles)
    database_url = f"sqlite:///{root / 'service.db'}"
    upgrade_database(database_url)
    settings = build_settings(
        database_url=database_url, jwt_secret=TEST_SECRET, control_sample_key=TEST_CONTROL_KEY,
        control_sample_rate=0.0, models_dir=root / "models", weekly_capacity=6,
    )
    clock = MovableClock()
    port = _free_port()
    config = uvicorn.Config(create_app(settings, clock=clock), host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, ws="none", lifespan="on")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, name="pages-test-server", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, thread)
        first = _seed(base_url, clock, versions)  # type: ignore[arg-type]
        yield Server(base_url, versions, first)  # type: ignore[arg-type]
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(_chromium_or_skip()), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, locale="nl-NL")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    yield context.new_page()
    context.close()


# ------------------------------------------------------------------------------------------------------- helpers


def check_accessibility(page: Any) -> None:
    """Run axe-core (WCAG 2.1 A and AA rules) on the page and fail on any serious or critical violation; then
    check that the focus is visible wherever the keyboard takes it."""
    check_focus_visible(page)
    page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, iframes: false})", AXE_TAGS
    )
    blocking = [
        {"rule": v["id"], "impact": v["impact"], "help": v["help"], "where": [n["target"] for n in v["nodes"][:3]]}
        for v in results["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]
    assert blocking == [], f"axe found serious or critical problems on {page.url}: {blocking}"


def check_focus_visible(page: Any) -> None:
    """Tab through the whole page, once round: every element the keyboard reaches shows that it has the focus
    (an outline or a ring; WCAG 2.4.7). The full model card in its frame is the card's own page, left out."""
    hidden: list[str] = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_ELEMENT)
        if focused["again"]:
            break
        if not focused["shown"] and focused["tag"] not in ("body", "iframe"):
            hidden.append(focused["where"])
    else:
        pytest.fail(f"more than {MAX_TABS} stops for the keyboard on {page.url}")
    page.evaluate("window.focusSeen = undefined")
    assert hidden == [], f"no visible focus on {page.url}: {hidden}"


def screenshot(page: Any, name: str) -> None:
    """The page as a reader first sees it: without the focus ring that the keyboard checks left behind (after one
    round of Tab it is back on the skip link, which then covers the header)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def sign_in(page: Any, server: Server, role: Role, **claims: Any) -> None:
    page.goto(server.base_url + "/sign-in")
    page.get_by_label(NL("sign_in.token_label")).fill(token(role, **claims))
    page.get_by_role("button", name=NL("sign_in.submit")).click()
    page.wait_for_load_state()


def focused_text(page: Any) -> str:
    """The text of the element that has the keyboard focus."""
    return page.evaluate("document.activeElement.innerText").strip()


def list_households(page: Any) -> list[str]:
    return page.locator("table.outreach tbody th[scope=row] code").all_inner_texts()


# ------------------------------------------------------------------------------------------------------ journeys


def test_caseworker_signs_in_works_the_list_and_records_a_contact_and_a_result(page, server):
    page.goto(server.base_url + "/")
    assert page.url.startswith(server.base_url + "/sign-in")  # no session: sent to sign in
    check_accessibility(page)
    screenshot(page, "sign-in")

    sign_in(page, server, Role.CASEWORKER)
    assert page.get_by_role("heading", level=1).inner_text() == NL("outreach.title")
    assert page.locator("html").get_attribute("lang") == "nl"
    before = list_households(page)
    assert server.first_household in before and len(before) == 11  # 12 scored, 1 objected
    assert page.locator(".tag--overdue").count() >= 3  # the households scored 40 days ago
    check_accessibility(page)
    screenshot(page, "outreach-list")

    page.get_by_role("link", name=NL("lang.switch_to")).click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == EN("outreach.title")
    check_accessibility(page)
    screenshot(page, "outreach-list.en")
    page.get_by_role("link", name=EN("lang.switch_to")).click()

    page.get_by_label(NL("outreach.filter.band")).select_option("high")
    page.get_by_role("button", name=NL("outreach.filter_apply")).click()
    assert set(page.locator("table.outreach .chip--high").all_inner_texts()) <= {"hoog"}
    page.goto(server.base_url + "/")

    page.locator(f'a[href="/huishoudens/{server.first_household}"]').click()
    assert page.get_by_role("heading", level=1).inner_text().startswith(NL("household.title"))
    assert page.locator("svg[role=img] circle").count() >= 1
    check_accessibility(page)
    screenshot(page, "household")

    # Departing from the advice without a reason: refused, the message at the field, the values kept.
    attempt = page.get_by_role("group", name=NL("decision.attempt_legend", number=1))
    attempt.get_by_label(NL("decision.attempt.kind")).select_option("phone")
    attempt.get_by_label(NL("decision.attempt.part_of_day")).select_option("morning")
    attempt.get_by_label(NL("common.yes")).check()
    page.get_by_label(NL("decision.end_result"), exact=True).select_option("financial_follow_up")
    suggested = page.locator("#departure-note").get_attribute("data-suggested")
    other = "letter" if suggested != "letter" else "phone"
    page.locator(f"#f-chosen_intensity-{other}").check()
    assert page.locator("#departure-note").inner_text() == NL("decision.departure_note")
    page.get_by_role("button", name=NL("decision.submit")).click()
    assert page.locator("#f-departure_reason-error").inner_text().endswith(NL("form.error.reason_required"))
    assert page.locator("#f-end_result").input_value() == "financial_follow_up"
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    check_accessibility(page)
    page.locator("#f-departure_reason").scroll_into_view_if_needed()
    screenshot(page, "household-form-error")

    page.locator("#f-departure_reason").fill("De bewoner vroeg om een brief in plaats van een bezoek.")
    page.get_by_role("button", name=NL("decision.submit")).click()
    assert page.get_by_role("status").inner_text() == NL("notice.decision_saved")
    assert focused_text(page) == NL("notice.decision_saved")  # so a screen reader reads it first
    after = list_households(page)
    assert server.first_household not in after and len(after) == len(before) - 1

    page.get_by_role("link", name=NL("nav.objections")).click()
    assert page.get_by_role("heading", level=1).inner_text() == NL("objections.title")
    check_accessibility(page)
    screenshot(page, "objections")


def test_a_decision_on_a_case_that_changed_meanwhile_is_refused_with_a_warning_that_is_read_first(page, server):
    sign_in(page, server, Role.CASEWORKER)
    item = _api(server.base_url, "GET", "/v1/outreach", Role.CASEWORKER)["items"][0]
    page.goto(f"{server.base_url}/huishoudens/{item['household_id']}")
    today = dt.datetime.now(dt.UTC).date()
    new_signal = signal(f"{item['household_id']}-new", partner="water", amount=400.0, days_ago=1, today=today)
    _api(server.base_url, "POST", "/v1/scores", Role.CASEWORKER, score_request(
        [household(item["household_id"], new_signal, neighbourhood=item["neighbourhood"])], reference=today))

    page.get_by_label(NL("decision.end_result"), exact=True).select_option("referral_without_contact")
    page.get_by_role("button", name=NL("decision.submit")).click()
    warning = page.get_by_role("alert")
    assert warning.inner_text() == NL("notice.case_changed")
    assert focused_text(page) == NL("notice.case_changed")  # so a screen reader reads it first
    assert page.locator("#f-end_result").input_value() == "referral_without_contact"  # what was chosen is kept
    background = warning.evaluate("element => getComputedStyle(element).backgroundColor")
    assert background != page.evaluate(SAVED_NOTICE_BACKGROUND)  # it does not look like "saved"
    check_accessibility(page)


def test_keyboard_only_reaches_the_skip_link_and_sees_where_focus_is(page, server):
    sign_in(page, server, Role.CASEWORKER)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link" and page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the first link inside the main content
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_ethics_reviewer_reads_the_card_and_approves_a_version(page, server):
    in_use, candidate = server.versions
    sign_in(page, server, Role.ETHICS_REVIEWER, subject="reviewer-ethics-1")
    assert page.url == server.base_url + "/modellen"
    check_accessibility(page)
    screenshot(page, "model-versions")

    page.get_by_role("link", name=candidate).click()
    assert page.get_by_role("heading", name=NL("card.review_heading")).is_visible()
    page.frame_locator("iframe.card-frame").locator("h1").wait_for()  # the full card, embedded
    check_accessibility(page)
    screenshot(page, "model-card")

    page.get_by_role("link", name=NL("card.to_review")).click()
    page.get_by_label(NL("card.review_approve")).check()
    page.get_by_label(NL("card.review_comment")).fill("Akkoord: drempels gehaald, kleine groepen besproken.")
    page.get_by_role("button", name=NL("card.review_submit")).click()
    assert page.get_by_role("status").inner_text() == NL("notice.review_saved")
    assert focused_text(page) == NL("notice.review_saved")
    history = page.locator("section[aria-labelledby=history-heading] tbody tr").first.inner_text()
    assert "reviewer-ethics-1" in history and "Akkoord: drempels gehaald" in history and "goedgekeurd" in history

    page.goto(f"{server.base_url}/modellen/vergelijk?a={in_use}&b={candidate}")
    assert page.get_by_role("heading", level=1).inner_text() == NL("compare.title")
    check_accessibility(page)
    screenshot(page, "model-comparison")

    page.goto(f"{server.base_url}/toezicht?municipality={MUNICIPALITY}")
    assert page.get_by_role("rowheader", name="team-noord").is_visible()
    check_accessibility(page)
    screenshot(page, "oversight")


def test_the_full_card_page_passes_axe(page, server):
    sign_in(page, server, Role.DATA_SCIENTIST)
    page.goto(f"{server.base_url}/modellen/{server.versions[1]}/kaart")
    assert page.locator("html").get_attribute("lang") == "nl"
    check_accessibility(page)


def test_wrong_role_and_wrong_municipality_are_refused_also_by_url(page, server):
    sign_in(page, server, Role.ETHICS_REVIEWER)
    page.goto(server.base_url + "/")
    assert page.get_by_role("heading", level=1).inner_text() == NL("error.title.403")
    assert page.get_by_role("link", name=NL("error.back")).is_visible()
    check_accessibility(page)
    screenshot(page, "refused-role")

    sign_in(page, server, Role.CASEWORKER, municipality=OTHER_MUNICIPALITY)
    response = page.goto(f"{server.base_url}/huishoudens/{server.first_household}")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == NL("error.title.404")
    assert server.first_household not in page.locator("main").inner_text()
    check_accessibility(page)
    screenshot(page, "refused-municipality")
