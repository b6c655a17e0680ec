"""Tokens checked against the identity provider's key set (``jwt_jwks_url``): fetching it never holds up the
event loop, so a slow provider, or tokens with made-up key ids sent by anyone, cannot stall the service."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.service.conftest import forged_token
from vroegsignaal.service import security
from vroegsignaal.service.pages.i18n import Translator
from vroegsignaal.service.pages.session import CSRF_FIELD, SESSION_COOKIE
from vroegsignaal.service.security import JWKS_FETCH_THREADS, InvalidTokenError, TokenVerifier
from vroegsignaal.service.settings import build_settings

#: Longest the provider below waits to be released before it answers anyway (only reached when the test fails).
RELEASE_WAIT_SECONDS = 10
NL = Translator("nl")


class _Provider:
    """An identity provider's JWKS endpoint on localhost that answers only once the test releases it."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        jwk.update({"kid": "key-1", "use": "sig", "alg": "RS256"})
        # Providers often publish an EC key beside the RSA one; RS256 tokens cannot be verified with it.
        ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()))
        ec_jwk.update({"kid": "ec-key", "use": "sig", "alg": "ES256"})
        self.body = json.dumps({"keys": [jwk, ec_jwk]}).encode()
        self.asked = threading.Event()
        self.release = threading.Event()
        self.released_in_time: list[bool] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                provider.asked.set()
                provider.released_in_time.append(provider.release.wait(RELEASE_WAIT_SECONDS))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(provider.body)))
                self.end_headers()
                self.wfile.write(provider.body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"

    def token(self, kid: str) -> str:
        now = dt.datetime.now(dt.UTC)
        claims = {"sub": "user-1", "role": "admin", "municipality": "GM0344", "iss": "vroegsignaal",
                  "aud": "vroegsignaal-api", "exp": int((now + dt.timedelta(minutes=5)).timestamp())}
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def provider() -> Iterator[_Provider]:
    provider = _Provider()
    thread = threading.Thread(target=provider.server.serve_forever, daemon=True)
    thread.start()
    yield provider
    provider.release.set()
    provider.server.shutdown()
    provider.server.server_close()
    thread.join()


@pytest.mark.parametrize("where", ["api", "page"])
def test_a_token_whose_keys_must_be_fetched_holds_up_no_other_request(make_client, provider, where):
    client = make_client(jwt_algorithm="RS256", jwt_jwks_url=provider.url)
    answers: list[int] = []

    def send_made_up_key_id() -> None:
        token = provider.token("made-up-key-id")
        if where == "api":
            response = client.get("/v1/outreach", headers={"Authorization": f"Bearer {token}"})
        else:
            client.cookies.set(SESSION_COOKIE, token)
            response = client.get("/", follow_redirects=False)
        answers.append(response.status_code)

    slow = threading.Thread(target=send_made_up_key_id)
    slow.start()
    assert provider.asked.wait(RELEASE_WAIT_SECONDS)
    # While the provider keeps the fetch waiting, the service still answers everyone else.
    assert client.get("/health").status_code == 200
    provider.release.set()
    slow.join()
    assert provider.released_in_time == [True]
    assert answers == ([401] if where == "api" else [303])  # the key id is not in the set: refused


def test_a_token_of_the_provider_is_verified_after_the_fetch(make_client, provider):
    provider.release.set()
    client = make_client(jwt_algorithm="RS256", jwt_jwks_url=provider.url)
    response = client.get("/v1/outreach", headers={"Authorization": f"Bearer {provider.token('key-1')}"})
    assert response.status_code == 200


def test_a_token_naming_a_key_of_another_type_is_refused_not_a_crash(make_client, provider):
    # PyJWT's RSA check raised TypeError on the EC key: the API answered 500 with a traceback, the pages too.
    provider.release.set()
    client = make_client(jwt_algorithm="RS256", jwt_jwks_url=provider.url)
    response = client.get("/v1/outreach", headers={"Authorization": f"Bearer {forged_token('ec-key')}"})
    assert response.status_code == 401
    assert "names a key of type EC" in response.json()["detail"]
    client.cookies.set(SESSION_COOKIE, forged_token("ec-key"))
    assert client.get("/", follow_redirects=False).status_code == 303  # to the sign-in page


@pytest.mark.parametrize("how", ["unknown address", "expired form"])
def test_an_error_page_for_a_token_not_checked_yet_has_the_navigation_back(make_client, provider, how):
    """Error pages did not check a token that needed the key set: a reader signed in on another worker, or before a
    restart, got an error page without navigation and a link to sign in again, as if signed out."""
    provider.release.set()
    client = make_client(jwt_algorithm="RS256", jwt_jwks_url=provider.url)
    client.cookies.set(SESSION_COOKIE, provider.token("key-1"))  # an administrator of GM0344
    if how == "unknown address":
        response = client.get("/nietbestaand", headers={"accept": "text/html"})
    else:
        response = client.post("/bezwaren", data={CSRF_FIELD: "not-the-token"})
    assert response.status_code in (403, 404)
    assert '<nav class="site-nav"' in response.text and 'href="/toezicht"' in response.text
    assert f'<a href="/">{NL("error.back")}</a>' in response.text and NL("error.to_sign_in") not in response.text


def test_tokens_waiting_for_a_silent_provider_hold_no_more_than_a_few_worker_threads(provider):
    # Every blocking endpoint shares the worker threads: tokens with made-up key ids at a provider that does not
    # answer must not take them all.
    settings = build_settings(jwt_algorithm="RS256", jwt_jwks_url=provider.url, control_sample_key="k")
    verifier = TokenVerifier(settings)
    inside, most = 0, 0
    lock = threading.Lock()
    verify = verifier.verify

    def counting_verify(token: str):  # noqa: ANN202
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        try:
            return verify(token)
        finally:
            with lock:
                inside -= 1

    verifier.verify = counting_verify  # type: ignore[method-assign]

    async def many() -> list:
        tasks = [asyncio.ensure_future(verifier.verify_off_the_loop(provider.token(f"made-up-{i}"))) for i in range(10)]
        await asyncio.to_thread(provider.asked.wait, RELEASE_WAIT_SECONDS)
        await asyncio.sleep(0.5)  # time for every request to reach a thread, if it could
        provider.release.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    outcomes = asyncio.run(many())
    assert all(isinstance(outcome, InvalidTokenError) for outcome in outcomes)
    assert 1 <= most <= JWKS_FETCH_THREADS


def _drop_while_answering(handler: BaseHTTPRequestHandler) -> None:
    """Start a key set of 1,000 bytes, then reset the connection (SO_LINGER 0) after a few of them."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    handler.wfile.write(b'{"keys": [')
    handler.wfile.flush()
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()


@pytest.mark.parametrize("answer", ["a page, not a key set", "the connection dropped"])
def test_a_provider_answering_with_no_key_set_refuses_the_token_and_the_pages_still_answer(
    make_client, provider, answer
):
    """PyJWT wraps a provider it cannot reach, not one that answers with a maintenance page (JSONDecodeError) or
    drops the connection while answering: the API, the pages and the error pages all answered a JSON 500."""
    if answer == "a page, not a key set":
        provider.body = b"<html>onderhoud</html>"
    else:
        provider.server.RequestHandlerClass.do_GET = _drop_while_answering  # type: ignore[method-assign]
    provider.release.set()
    client = make_client(jwt_algorithm="RS256", jwt_jwks_url=provider.url)
    token = provider.token("key-1")
    response = client.get("/v1/outreach", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "key set could not be read" in response.json()["detail"]
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/", follow_redirects=False).status_code == 303  # to the sign-in page
    error_page = client.get("/nietbestaand", headers={"accept": "text/html"})
    assert error_page.status_code == 404 and error_page.headers["content-type"].startswith("text/html")


def test_an_error_page_does_not_wait_for_a_silent_provider(make_client, provider, monkeypatch):
    """Error pages wait for the key set a moment only: with a silent provider each one waited for the fetch's
    timeout, one after another (PyJWT fetches one at a time), and a provider that trickled its answer held them."""
    # The fetch may wait longer than the provider here stays silent: only the page's own limit can answer first.
    monkeypatch.setattr(security, "JWKS_FETCH_TIMEOUT_SECONDS", 2 * RELEASE_WAIT_SECONDS)
    client = make_client(jwt_algorithm="RS256", jwt_jwks_url=provider.url)
    client.cookies.set(SESSION_COOKIE, provider.token("key-1"))
    response = client.get("/nietbestaand", headers={"accept": "text/html"})
    assert provider.asked.is_set() and provider.released_in_time == []  # answered while the provider still waited
    assert response.status_code == 404 and NL("error.to_sign_in") in response.text  # shown as to a stranger
    provider.release.set()
