"""Every page the suite can render has the structure WCAG 2.1 AA asks of a Dutch municipality's pages
(Digitoegankelijkheid): content inside landmarks, messages that are read out, a skip link to the main content,
one ``<h1>``, a title of its own, the page's language, a label for every field, each error message tied to its
field, ids that are there when something points to them, tables with captions and header scopes.

The pages are those of the role matrix (``test_access.PAGES``), opened by every role (a refusal is a page too)
in both languages, in demo mode so the banners show, plus the sign-in page with a message and with an error.
The checks read the HTML with the standard library's parser; axe-core checks the rendered pages in a real
browser (``test_browser.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.pages.conftest import csrf_of, sign_in, start_client
from tests.pages.html_tree import Element, parse_html
from tests.pages.test_access import CARD_VERSION, PAGES, open_page, seed_world
from tests.service.conftest import Clock, TestClient, empty_database
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.pages.i18n import LANGS, Lang, Translator
from vroegsignaal.service.pages.rendering import PAGE_HEADERS
from vroegsignaal.service.pages.session import CSRF_FIELD, SESSION_COOKIE, SIGN_IN_PATH

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
#: Elements a landmark is made of: banner, navigation, main, contentinfo, complementary.
LANDMARK_TAGS = frozenset({"header", "nav", "main", "footer", "aside"})
#: Fields a person fills in (hidden inputs and buttons have no label).
UNLABELLED_INPUT_TYPES = frozenset({"hidden", "submit", "button", "reset", "image"})
HEADER_SCOPES = frozenset({"col", "row", "colgroup", "rowgroup"})
#: States of the table's pages that a query string brings: a filter the list does not know, the message after
#: a form.
QUERY_STATES: dict[str, list[dict[str, str]]] = {
    "/": [{"band": "extreme"}, {"notice": "decision_saved"}],
    "/bezwaren": [{"notice": "objection_saved"}],
    f"/modellen/{CARD_VERSION}": [{"notice": "review_saved"}],
}


@dataclass(frozen=True)
class RenderedPage:
    """One page as the suite rendered it: who opened what, in which language."""

    label: str
    path: str
    lang: Lang
    status: int
    root: Element

    @property
    def html(self) -> Element:
        return self.root.find_all("html")[0]

    @property
    def body(self) -> Element:
        return self.root.find_all("body")[0]

    def by_id(self, element_id: str) -> Element | None:
        return next((element for element in self.root.iter() if element.attrs.get("id") == element_id), None)


def _is_layout_page(response) -> bool:  # noqa: ANN001
    """Whether the layout rendered the answer (the full model card, say, is a generated page of its own)."""
    return response.headers.get("content-security-policy") == PAGE_HEADERS["Content-Security-Policy"]


def _every_page(client: TestClient) -> Iterator[tuple[str, object]]:
    """(label, response) of every page of the role matrix for every role, then of the sign-in page."""
    for role in Role:
        sign_in(client, role)
        for method, path, _, form in PAGES:
            yield f"{role.value} {method} {path}", open_page(client, method, path, form)
            for query in QUERY_STATES.get(path, []) if method == "GET" else []:
                yield f"{role.value} {method} {path} {query}", client.get(path, params=query)
        yield f"{role.value} GET /no-such-page", client.get("/no-such-page", headers=BROWSER)
    client.cookies.delete(SESSION_COOKIE)
    yield "GET /sign-in?reason=expired", client.get(SIGN_IN_PATH, params={"reason": "expired"})
    nonce = csrf_of(client.get(SIGN_IN_PATH).text)
    yield "POST /sign-in (no token)", client.post(SIGN_IN_PATH, data={CSRF_FIELD: nonce, "token": ""})


@pytest.fixture(scope="module")
def pages(database_url: str, session_engine) -> list[RenderedPage]:  # noqa: ANN001
    """Every page, rendered once for the module (each check reads them all)."""
    engine = empty_database(session_engine)
    client = start_client(engine, database_url, Clock(), demo_mode=True)
    try:
        seed_world(client, engine)
        rendered = []
        for lang in LANGS:
            client.get(f"/taal/{lang}")
            rendered += [
                RenderedPage(f"{label} [{lang}]", response.url.path, lang, response.status_code,
                             parse_html(response.text))
                for label, response in _every_page(client)
                if _is_layout_page(response)
            ]
        return rendered
    finally:
        client.__exit__(None, None, None)


# ----------------------------------------------------------------------------------------------------- checks


def content_outside_landmarks(page: RenderedPage) -> list[str]:
    """Text and controls outside header, nav, main and footer: people who move through a page by its landmarks
    never reach them. The skip link, which comes before every landmark, is the exception."""
    return [f"{element!r} {element.text()[:60]!r} is in no landmark"
            for element in _outside_landmarks(page.body)]


def _outside_landmarks(element: Element) -> Iterator[Element]:
    """The outermost elements in ``element`` with text or a control of their own and no landmark around."""
    for child in element.children:
        if not isinstance(child, Element) or child.tag in LANDMARK_TAGS or "skip-link" in child.classes():
            continue
        if child.own_text() or child.tag in ("a", "button", "input", "select", "textarea"):
            yield child
        else:
            yield from _outside_landmarks(child)


def status_message_problems(page: RenderedPage) -> list[str]:
    """A message the page loads with (saved, signed out, the problems of a form) is focused on load
    (``data-focus-on-load``, which ``app.js`` focuses): a live region is read out when it changes, not
    when a page arrives with it, so after a form the reader would not hear it. One element at most asks
    for the focus."""
    messages = [element for element in page.body.iter()
                if element.attrs.get("role") in ("status", "alert") and element.text()]
    problems = [f"the message {message.text()!r} is not focused on load" for message in messages
                if "data-focus-on-load" not in message.attrs or message.attrs.get("tabindex") != "-1"]
    focused = [element for element in page.body.iter() if "data-focus-on-load" in element.attrs]
    if len(focused) > 1:
        problems.append(f"{len(focused)} elements ask for the focus on load: {focused!r}")
    return problems


def skip_link_problems(page: RenderedPage) -> list[str]:
    """The first thing in the page is a link to the main content, which is the page's one ``<main>``."""
    first = next(child for child in page.body.children if isinstance(child, Element))
    mains = page.body.find_all("main")
    problems = []
    if first.tag != "a" or first.attrs.get("href") != "#main":
        problems.append(f"the page starts with {first!r}, not a skip link to #main")
    if len(mains) != 1 or mains[0].attrs.get("id") != "main":
        problems.append(f"{len(mains)} <main> elements; the skip link needs one, with id 'main'")
    return problems


def heading_and_title_problems(page: RenderedPage) -> list[str]:
    """One ``<h1>``, and a title that names the page as its ``<h1>`` does, then the service; after a form with a
    problem the title starts by saying so, as it is the first thing a screen reader reads of the page."""
    headings = page.body.find_all("h1")
    if len(headings) != 1:
        return [f"{len(headings)} <h1> elements"]
    titles = [title.text() for title in page.root.find_all("head")[0].find_all("title")]
    t = Translator(page.lang)
    refused = any("error-summary" in element.classes() for element in page.body.iter())
    expected = f"{t('form.error_prefix') if refused else ''}{headings[0].own_text()} – {t('app.name')}"
    return [] if titles == [expected] else [f"the title is {titles!r}, not {expected!r}"]


def heading_level_problems(page: RenderedPage) -> list[str]:
    """Headings go down one level at a time, and a heading inside a section is under the section's own heading:
    a screen-reader user who lists the headings gets the page's structure from their levels."""
    problems, previous = [], 1
    for element in page.body.iter():
        level = _heading_level(element)
        if level is None:
            continue
        if level > previous + 1:
            problems.append(f"<h{level}> {element.text()!r} follows an <h{previous}>")
        section = next((ancestor for ancestor in element.lineage() if ancestor.tag == "section"), None)
        own = page.by_id(section.attrs.get("aria-labelledby", "")) if section is not None else None
        if own is not None and own is not element and level <= (_heading_level(own) or 0):
            problems.append(f"<h{level}> {element.text()!r} is in the section of <h{_heading_level(own)}> "
                            f"{own.text()!r} but not under it")
        previous = level
    return problems


def _heading_level(element: Element) -> int | None:
    return int(element.tag[1]) if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6") else None


def language_problems(page: RenderedPage) -> list[str]:
    """``<html lang>`` is the reader's language; the switch to the other language says which it leads to."""
    problems = []
    if page.html.attrs.get("lang") != page.lang:
        problems.append(f"<html lang={page.html.attrs.get('lang')!r}> on a page in {page.lang!r}")
    other = next(lang for lang in LANGS if lang != page.lang)
    switches = [link for link in page.body.iter() if "lang-switch" in link.classes()]
    if [(link.attrs.get("lang"), link.attrs.get("hreflang")) for link in switches] != [(other, other)]:
        problems.append(f"the language switch is not one link marked as {other!r}")
    return problems


def _fields(root: Element) -> list[Element]:
    """The fields a person fills in (hidden inputs and buttons have no label)."""
    return [
        element for element in root.iter()
        if element.tag in ("select", "textarea")
        or (element.tag == "input" and element.attrs.get("type", "text") not in UNLABELLED_INPUT_TYPES)
    ]


def label_problems(page: RenderedPage) -> list[str]:
    """Every field has a ``<label for>`` naming it."""
    labelled = {label.attrs.get("for") for label in page.body.find_all("label")}
    return [f"{field!r} has no <label for>"
            for field in _fields(page.body) if field.attrs.get("id") not in labelled]


def field_error_problems(page: RenderedPage) -> list[str]:
    """A field with a message has it in its ``aria-describedby`` (a radio: in its group's) and is
    ``aria-invalid``; a field that is ``aria-invalid`` has a message; every message belongs to a field."""
    messages = {element.attrs.get("id"): element
                for element in page.body.iter() if "field-error" in element.classes()}
    problems, described = [], set()
    for field in _fields(page.body):
        holders = [field, *(ancestor for ancestor in field.lineage() if ancestor.tag == "fieldset")]
        own = {ref for holder in holders for ref in holder.id_refs("aria-describedby")} & messages.keys()
        described |= own
        invalid = field.attrs.get("aria-invalid") == "true"
        if own and not invalid:
            problems.append(f"{field!r} has the message {messages[min(own)].text()!r}, is not aria-invalid")
        elif invalid and not own:
            problems.append(f"{field!r} is aria-invalid but no message describes it")
    problems += [f"the message {message.text()!r} describes no field"
                 for message_id, message in messages.items() if message_id not in described]
    return problems


def error_summary_problems(page: RenderedPage) -> list[str]:
    """A form's summary of problems is an alert in which every line is a link to the field with the problem."""
    problems = []
    for summary in (element for element in page.body.iter() if "error-summary" in element.classes()):
        if summary.attrs.get("role") != "alert":
            problems.append("an error summary is not role=alert")
        for line in summary.find_all("li"):
            links = [link.attrs.get("href", "") for link in line.find_all("a")]
            target = page.by_id(links[0][1:]) if links and links[0].startswith("#") else None
            if target is None or not any(field.attrs.get("aria-invalid") == "true" for field in _fields(target)):
                problems.append(f"the summary line {line.text()!r} links to no field with a problem")
    return problems


def reference_problems(page: RenderedPage) -> list[str]:
    """Ids are unique, and every id a label, an ARIA attribute or a link in the page points to is there."""
    ids = [element.attrs["id"] for element in page.root.iter() if "id" in element.attrs]
    twice = sorted({element_id for element_id in ids if ids.count(element_id) > 1})
    problems = [f"the id {element_id!r} is used twice" for element_id in twice]
    for element in page.body.iter():
        targets = element.id_refs("aria-describedby") + element.id_refs("aria-labelledby")
        targets += [element.attrs["for"]] if element.tag == "label" and "for" in element.attrs else []
        href = element.attrs.get("href", "") if element.tag == "a" else ""
        targets += [href[1:]] if href.startswith("#") else []
        problems += [f"{element!r} points to {target!r}, which is not on the page" for target in targets
                     if target not in ids]
    return problems


def table_problems(page: RenderedPage) -> list[str]:
    """Every table has a caption and every header cell a scope."""
    problems = []
    for table in page.body.find_all("table"):
        if not any(caption.text() for caption in table.find_all("caption")):
            problems.append(f"a table without a caption ({table.text()[:40]!r})")
        problems += [f"<th> {cell.text()!r} has no scope" for cell in table.find_all("th")
                     if cell.attrs.get("scope") not in HEADER_SCOPES]
    return problems


CHECKS: list[Callable[[RenderedPage], list[str]]] = [
    content_outside_landmarks,
    status_message_problems,
    skip_link_problems,
    heading_and_title_problems,
    heading_level_problems,
    language_problems,
    label_problems,
    field_error_problems,
    error_summary_problems,
    reference_problems,
    table_problems,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_every_page_passes(pages, check):  # noqa: ANN001
    problems = [f"{page.label}: {problem}" for page in pages for problem in check(page)]
    if problems:
        pytest.fail(f"{len(problems)} problems:\n" + "\n".join(problems), pytrace=False)


def test_the_sweep_renders_every_page_of_the_table_in_both_languages(pages):  # noqa: ANN001
    # All but the full model card, a generated page of its own (checked with axe in test_browser.py).
    expected = {path.split("?")[0] for _, path, _, _ in PAGES if not path.endswith("/kaart")}
    for lang in LANGS:
        assert expected <= {page.path for page in pages if page.lang == lang}


def test_different_pages_have_different_titles(pages):  # noqa: ANN001
    titles = {(page.lang, page.path): page.root.find_all("title")[0].text()
              for page in pages if page.status == 200}
    for lang in LANGS:
        shown = [title for (title_lang, _), title in titles.items() if title_lang == lang]
        assert len(set(shown)) == len(shown), sorted(shown)
