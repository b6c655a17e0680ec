"""Sign in with a bearer token, sign out, and switch the language."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from vroegsignaal.service.deps import ServicesDep
from vroegsignaal.service.pages.forms import FieldError, FormState
from vroegsignaal.service.pages.i18n import is_lang
from vroegsignaal.service.pages.rendering import home_path, render
from vroegsignaal.service.pages.routing import PageRoute, error_page
from vroegsignaal.service.pages.session import (
    CSRF_FIELD,
    LANG_COOKIE,
    LANG_COOKIE_SECONDS,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    SIGN_IN_NONCE_SECONDS,
    SIGN_IN_PATH,
    CsrfChecked,
    clear_cookie,
    local_path_or_none,
    new_nonce,
    same_token,
    set_cookie,
)
from vroegsignaal.service.security import ExpiredTokenError, InvalidTokenError

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: Why the sign-in page is shown (``?reason=``) → message key; anything else shows no message.
SIGN_IN_REASONS: dict[str, str] = {
    "missing": "sign_in.reason.missing",
    "expired": "sign_in.reason.expired",
    "invalid": "sign_in.reason.invalid",
    "signed_out": "sign_in.reason.signed_out",
}
BEARER_PREFIX = "bearer "
MAX_TOKEN_LENGTH = 8192
#: The longest token the session cookie can carry: browsers drop a cookie over 4,096 bytes (name and attributes
#: included) without a word, which would send the user back to sign in for ever.
MAX_SESSION_TOKEN_LENGTH = 3900


def _sign_in_page(request: Request, *, next_path: str | None, notice_key: str | None = None,
                  status: int = 200, error_key: str | None = None) -> Response:
    nonce = new_nonce()
    form = FormState(errors={"token": FieldError(error_key)} if error_key else {})
    response = render(
        request, "sign_in.html.j2", caller=None, status=status, sign_in_nonce=nonce, next_path=next_path or "",
        notice_key=notice_key, form=form, demo=request.app.state.services.settings.demo_mode,
        page_path=f"{SIGN_IN_PATH}?{urlencode({'next': next_path})}" if next_path else SIGN_IN_PATH,
    )
    set_cookie(response, request, SIGN_IN_COOKIE, nonce, path=SIGN_IN_PATH, max_age=SIGN_IN_NONCE_SECONDS)
    return response


@router.get(SIGN_IN_PATH)
async def sign_in_form(
    request: Request,
    reason: Annotated[str | None, Query(max_length=32)] = None,
    next: Annotated[str | None, Query(max_length=512)] = None,  # noqa: A002 - the conventional name
) -> Response:
    """The sign-in page: paste the token the municipality's sign-in (or the demo) gave you."""
    return _sign_in_page(
        request, next_path=local_path_or_none(next), notice_key=SIGN_IN_REASONS.get(reason or "")
    )


@router.post(SIGN_IN_PATH)
async def sign_in(
    request: Request,
    services: ServicesDep,
    token: Annotated[str, Form(max_length=MAX_TOKEN_LENGTH)] = "",
    nonce: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
    next: Annotated[str, Form(max_length=512)] = "",  # noqa: A002
) -> Response:
    """Check the token with the service's verifier; on success start the session and go on."""
    expected = request.cookies.get(SIGN_IN_COOKIE)
    if expected is None or not same_token(nonce, expected):
        return await error_page(request, 403, key="error.csrf")
    next_path = local_path_or_none(next)
    token = token.strip()
    if token.lower().startswith(BEARER_PREFIX):
        token = token[len(BEARER_PREFIX):].strip()
    if not token:
        return _sign_in_page(request, next_path=next_path, status=422, error_key="sign_in.error.empty")
    if len(token) > MAX_SESSION_TOKEN_LENGTH:
        return _sign_in_page(request, next_path=next_path, status=422, error_key="sign_in.error.too_long")
    try:
        caller = await services.verifier.verify_off_the_loop(token)
    except ExpiredTokenError:
        return _sign_in_page(request, next_path=next_path, status=401, error_key="sign_in.error.expired")
    except InvalidTokenError:
        return _sign_in_page(request, next_path=next_path, status=401, error_key="sign_in.error.invalid")
    response = RedirectResponse(next_path or home_path(caller.role), status_code=303)
    set_cookie(response, request, SESSION_COOKIE, token)
    clear_cookie(response, request, SIGN_IN_COOKIE, path=SIGN_IN_PATH)
    return response


@router.post("/sign-out", dependencies=[CsrfChecked])
async def sign_out(request: Request) -> Response:
    """End the session (the cookie is cleared; the token itself stays valid until it expires)."""
    response = RedirectResponse(f"{SIGN_IN_PATH}?reason=signed_out", status_code=303)
    clear_cookie(response, request, SESSION_COOKIE)
    return response


@router.get("/taal/{lang}")
async def switch_language(
    request: Request, lang: str, next: Annotated[str | None, Query(max_length=512)] = None  # noqa: A002
) -> Response:
    """Remember the reader's language and go back to the page they were on."""
    if not is_lang(lang):
        return await error_page(request, 404)
    response = RedirectResponse(local_path_or_none(next) or "/", status_code=303)
    set_cookie(response, request, LANG_COOKIE, lang, max_age=LANG_COOKIE_SECONDS)
    return response

