"""Signing in and out, the cookie's flags, CSRF on every form, the language switch and the pages' headers."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.pages.conftest import csrf_of, sign_in
from tests.service.conftest import auth, batch, household, row_counts, signal, token
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.pages.i18n import Translator
from vroegsignaal.service.pages.rendering import PAGE_HEADERS
from vroegsignaal.service.pages.session import (
    CSRF_FIELD,
    LANG_COOKIE,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    csrf_token_for,
    local_path_or_none,
)

NL, EN = Translator("nl"), Translator("en")


def _set_cookies(response) -> dict[str, str]:  # noqa: ANN001
    """Each Set-Cookie header of a response by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


def _sign_in_form(client, *, next_path: str = "") -> dict[str, str]:  # noqa: ANN001
    page = client.get("/sign-in")
    return {CSRF_FIELD: csrf_of(page.text), "next": next_path}


def test_sign_in_starts_a_session_in_a_strict_http_only_cookie(client):
    response = client.post("/sign-in", data={**_sign_in_form(client), "token": token(Role.CASEWORKER)})
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = _set_cookies(response)[SESSION_COOKIE]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http in this test; see the https tests below


@pytest.mark.parametrize(
    ("base_url", "headers"),
    [("https://testserver", {}), ("http://testserver", {"X-Forwarded-Proto": "https"})],
    ids=["https", "behind-a-tls-proxy"],
)
def test_session_cookie_is_secure_over_https(make_client, base_url, headers):
    client = make_client(base_url=base_url)
    nonce = csrf_of(client.get("/sign-in", headers=headers).text)
    # The browser talks https to the proxy, so it sends the Secure nonce cookie back; this client talks plain http.
    client.cookies.set(SIGN_IN_COOKIE, nonce)
    response = client.post("/sign-in", data={CSRF_FIELD: nonce, "token": token(Role.CASEWORKER)}, headers=headers)
    assert response.status_code == 303
    assert "Secure" in _set_cookies(response)[SESSION_COOKIE]


def test_a_role_without_the_list_lands_on_the_models(client):
    response = client.post("/sign-in", data={**_sign_in_form(client), "token": token(Role.ETHICS_REVIEWER)})
    assert response.headers["location"] == "/modellen"


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_the_site(client):
    asked = client.post("/sign-in", data={**_sign_in_form(client, next_path="/bezwaren"),
                                          "token": token(Role.CASEWORKER)})
    assert asked.headers["location"] == "/bezwaren"
    elsewhere = client.post("/sign-in", data={**_sign_in_form(client, next_path="//evil.example/x"),
                                              "token": token(Role.CASEWORKER)})
    assert elsewhere.headers["location"] == "/"


@pytest.mark.parametrize("value", ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:x", ""])
def test_only_paths_on_this_site_are_followed(value):
    assert local_path_or_none(value) is None


def test_sign_in_without_its_form_nonce_is_refused(client):
    client.get("/sign-in")
    response = client.post("/sign-in", data={CSRF_FIELD: "forged", "token": token(Role.CASEWORKER)})
    assert response.status_code == 403 and NL("error.csrf") in response.text
    assert SESSION_COOKIE not in _set_cookies(response)


@pytest.mark.parametrize(
    ("bearer", "status", "key"),
    [
        ("not-a-token", 401, "sign_in.error.invalid"),
        (token(Role.CASEWORKER, secret="another-secret-that-is-long-enough-for-hs256-xx"), 401,
         "sign_in.error.invalid"),
        ("   ", 422, "sign_in.error.empty"),
        # Longer than a browser keeps in a cookie: the session would vanish and sign-in start over for ever.
        ("x" * 3901, 422, "sign_in.error.too_long"),
    ],
    ids=["garbage", "other-signer", "empty", "too-long-for-a-cookie"],
)
def test_a_bad_token_is_refused_with_a_message_next_to_the_field(client, bearer, status, key):
    response = client.post("/sign-in", data={**_sign_in_form(client), "token": bearer})
    assert response.status_code == status and NL(key) in response.text
    assert 'id="f-token-error"' in response.text and 'aria-invalid="true"' in response.text
    assert SESSION_COOKIE not in _set_cookies(response)


def test_an_expired_token_is_refused_at_sign_in(client):
    old = token(Role.CASEWORKER, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    response = client.post("/sign-in", data={**_sign_in_form(client), "token": f"Bearer {old}"})
    assert response.status_code == 401 and NL("sign_in.error.expired") in response.text


@pytest.mark.parametrize("demo_mode", [False, True])
def test_the_sign_in_page_speaks_of_the_demo_only_in_demo_mode(make_client, demo_mode):
    page = make_client(demo_mode=demo_mode).get("/sign-in").text
    assert (NL("sign_in.demo_heading") in page) is demo_mode


def test_without_a_session_a_page_sends_you_to_sign_in_and_back(client):
    response = client.get("/bezwaren")
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/sign-in"
    assert parse_qs(location.query) == {"reason": ["missing"], "next": ["/bezwaren"]}
    assert NL("sign_in.reason.missing") in client.get(response.headers["location"]).text


def test_when_the_token_expires_the_session_ends_with_a_clear_message(client):
    client.cookies.set(SESSION_COOKIE, token(Role.CASEWORKER, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)))
    response = client.get("/")
    assert response.status_code == 303 and "reason=expired" in response.headers["location"]
    assert 'vs_session=""' in _set_cookies(response)[SESSION_COOKIE]
    assert NL("sign_in.reason.expired") in client.get(response.headers["location"]).text


def test_a_form_sent_after_the_session_expired_leads_back_to_its_page_after_sign_in(client):
    """The caseworker comes back to the household whose form they sent, not to the start page; a page of
    another site is never where sign-in leads."""
    expired = token(Role.CASEWORKER, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    form = {"review_item_id": "1", CSRF_FIELD: csrf_token_for(expired)}  # the form came with the session
    client.cookies.set(SESSION_COOKIE, expired)
    page = "/huishoudens/hh_low_0000000001"
    sent = client.post(f"{page}/beslissing", data=form, headers={"referer": f"http://testserver{page}"})
    location = urlsplit(sent.headers["location"])
    assert sent.status_code == 303 and location.path == "/sign-in"
    assert parse_qs(location.query) == {"reason": ["expired"], "next": [page]}
    # After a refused form the browser is at the form's address, which is no page: back to the household.
    client.cookies.set(SESSION_COOKIE, expired)
    again = client.post(f"{page}/beslissing", data=form, headers={"referer": f"http://testserver{page}/beslissing"})
    assert parse_qs(urlsplit(again.headers["location"]).query) == {"reason": ["expired"], "next": [page]}
    client.cookies.set(SESSION_COOKIE, expired)
    foreign = client.post(f"{page}/beslissing", data=form,
                          headers={"referer": f"http://evil.example{page}"})
    assert parse_qs(urlsplit(foreign.headers["location"]).query) == {"reason": ["expired"]}


def test_sign_out_needs_the_form_token_and_clears_the_session(client):
    sign_in(client, Role.CASEWORKER)
    refused = client.post("/sign-out", data={})
    assert refused.status_code == 403
    page = client.get("/")
    response = client.post("/sign-out", data={CSRF_FIELD: csrf_of(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/sign-in?reason=signed_out"
    assert 'vs_session=""' in _set_cookies(response)[SESSION_COOKIE]


def _scored_item(client) -> tuple[str, int]:  # noqa: ANN001
    body = batch(household("hh_csrf_000000001", signal("s-1", amount=3000.0)))
    result = client.post("/v1/scores", json=body, headers=auth(Role.CASEWORKER)).json()["results"][0]
    return result["household_id"], result["review_item_id"]


@pytest.mark.parametrize("csrf", [None, "0" * 64, "other-session"], ids=["missing", "wrong", "other-session"])
def test_every_form_refuses_a_missing_or_wrong_csrf_token_and_writes_nothing(client, engine, csrf):
    household_id, item_id = _scored_item(client)
    sign_in(client, Role.CASEWORKER)
    if csrf == "other-session":
        csrf = csrf_token_for(token(Role.CASEWORKER, subject="someone-else"))
    before = row_counts(engine)
    posts = {
        f"/huishoudens/{household_id}/beslissing": {"review_item_id": str(item_id), "end_result": "declines_help",
                                                     "chosen_intensity": "letter", "departure_reason": "asked"},
        "/bezwaren": {"household_id": "hh_csrf_000000002", "received_on": "2026-03-01"},
        f"/bezwaren/{household_id}/intrekken": {},
        "/modellen/fake-1/beoordeling": {"decision": "reject", "comment": "a comment long enough"},
        "/modellen/fake-1/in-gebruik": {},
    }
    for path, form in posts.items():
        data = form if csrf is None else {**form, CSRF_FIELD: csrf}
        response = client.post(path, data=data)
        assert response.status_code == 403, path
        assert NL("error.csrf") in response.text
    assert row_counts(engine) == before


def test_the_api_never_accepts_the_page_cookie(client):
    sign_in(client, Role.CASEWORKER)
    assert client.get("/v1/outreach").status_code == 401


def test_language_switch_remembers_the_choice_and_returns_to_the_page(client):
    sign_in(client, Role.CASEWORKER)
    response = client.get("/taal/en", params={"next": "/bezwaren"})
    assert response.status_code == 303 and response.headers["location"] == "/bezwaren"
    assert "SameSite=strict" in _set_cookies(response)[LANG_COOKIE]
    page = client.get("/bezwaren")
    assert '<html lang="en">' in page.text and EN("objections.title") in page.text
    assert client.get("/taal/fr").status_code == 404


def test_language_switch_on_a_refused_sign_in_returns_to_the_sign_in_page_and_keeps_where_to_go(client):
    refused = client.post("/sign-in", data={**_sign_in_form(client, next_path="/bezwaren"), "token": ""})
    assert refused.status_code == 422
    link = urlsplit(re.search(r'<a class="lang-switch" href="([^"]+)"', refused.text).group(1).replace("&amp;", "&"))
    back = parse_qs(link.query)["next"][0]
    assert link.path == "/taal/en" and back == "/sign-in?next=%2Fbezwaren"
    switched = client.get("/taal/en", params={"next": back})
    assert switched.headers["location"] == back and client.get(back).status_code == 200


def test_pages_are_not_cached_framed_or_allowed_to_load_anything_else(client):
    sign_in(client, Role.CASEWORKER)
    response = client.get("/")
    for name, value in PAGE_HEADERS.items():
        assert response.headers[name] == value
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_sign_in_nonce_cookie_is_scoped_to_the_sign_in_page(client):
    cookie = _set_cookies(client.get("/sign-in"))[SIGN_IN_COOKIE]
    assert "Path=/sign-in" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
