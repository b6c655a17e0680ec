"""Signing in to the pages: the session cookie, CSRF tokens, and who the caller is.

- The session cookie holds the bearer token itself. Every request verifies it again with the service's
  :class:`~vroegsignaal.service.security.TokenVerifier`, so a page admits exactly who the API admits, and an expired
  token ends the session. The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (never sent with a
  request another site starts), ``Path=/``, and ``Secure`` when the request came over https — directly or, behind a
  proxy, as ``X-Forwarded-Proto: https``.
- CSRF: every form carries a per-session token, an HMAC of a fixed label keyed with the session's bearer token. It
  needs no server-side state (any worker can check it) and no second secret, and only someone holding the session's
  token can compute it. Every POST compares it in constant time before anything is written. The sign-in form, which
  has no session yet, uses a random nonce from a short-lived cookie (double submit).
- The API under ``/v1`` never reads these cookies: it takes the ``Authorization`` header only, so the cookie gives no
  way around CSRF protection there.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from vroegsignaal.errors import PermissionDeniedError
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.deps import ServicesDep
from vroegsignaal.service.security import Caller, ensure_role

SESSION_COOKIE = "vs_session"
SIGN_IN_COOKIE = "vs_sign_in"
LANG_COOKIE = "vs_lang"
CSRF_FIELD = "csrf_token"
SIGN_IN_PATH = "/sign-in"
_CSRF_LABEL = b"vroegsignaal-pages-csrf-v1"
_LOCAL_PATH = re.compile(r"^/(?![/\\])[A-Za-z0-9/_.,~%=&?:@+-]*$")
#: Sign-in nonces live as long as someone may reasonably take to paste a token.
SIGN_IN_NONCE_SECONDS = 30 * 60
#: A year: the language is a preference, not a secret.
LANG_COOKIE_SECONDS = 365 * 24 * 3600

MSG_CSRF = "the form's CSRF token is missing or wrong; nothing was saved (reload the page and try again)"


class CsrfError(PermissionDeniedError):
    """A form arrived without the session's CSRF token (HTTP 403; nothing is written)."""


class SignInRequired(PermissionDeniedError):
    """There is no valid session; the page sends the browser to the sign-in page (HTTP 303)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_https(request: Request) -> bool:
    """Whether the browser talks https to us (directly, or to the proxy in front of us)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def set_cookie(
    response: Response, request: Request, name: str, value: str, *, path: str = "/", max_age: int | None = None
) -> None:
    """Set a cookie with the flags every cookie of the pages gets (see the module docstring)."""
    response.set_cookie(
        name, value, max_age=max_age, path=path, secure=is_https(request), httponly=True, samesite="strict"
    )


def clear_cookie(response: Response, request: Request, name: str, *, path: str = "/") -> None:
    response.delete_cookie(name, path=path, secure=is_https(request), httponly=True, samesite="strict")


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a session (see the module docstring)."""
    return hmac.new(session_token.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def same_token(sent: object, expected: str) -> bool:
    """Constant-time comparison of a submitted token with the expected one."""
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), expected.encode())


def local_path_or_none(value: str | None) -> str | None:
    """``value`` if it is a path on this site (so a redirect to it cannot leave the site), else ``None``."""
    if value and len(value) <= 512 and _LOCAL_PATH.match(value):
        return value
    return None


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


async def get_page_caller(request: Request, services: ServicesDep) -> Caller:
    """The signed-in caller; :class:`SignInRequired` when there is no session or its token is no longer valid."""
    token = session_token(request)
    if token is None:
        raise SignInRequired("missing")
    return await services.verifier.verify_off_the_loop(token)


PageCaller = Annotated[Caller, Depends(get_page_caller)]


def page_roles(allowed: frozenset[Role]):  # noqa: ANN201 - a FastAPI dependency
    """A dependency admitting only ``allowed`` (the same role sets as the API, from ``service.deps``)."""

    async def check(request: Request, caller: PageCaller) -> Caller:
        route = getattr(request.scope.get("route"), "path", request.url.path)
        ensure_role(caller, allowed, action=f"open {request.method} {route}")
        return caller

    return check


async def check_csrf(request: Request) -> None:
    """Refuse a POST whose form lacks the session's CSRF token. Routes list it first in ``dependencies``, so it runs
    before the caller is looked up and before the handler can write anything."""
    token = session_token(request)
    if token is None:
        raise SignInRequired("missing")
    form = await request.form()
    if not same_token(form.get(CSRF_FIELD), csrf_token_for(token)):
        raise CsrfError(MSG_CSRF)


CsrfChecked = Depends(check_csrf)
