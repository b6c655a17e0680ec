"""Errors on the pages are pages: a route class that turns our exceptions into HTML answers.

The API maps exceptions to JSON in ``service/http_errors.py``; the pages map the same exceptions to the same status
codes, but as a page a person can read, with a link back. No session (or an expired one) sends the browser to the
sign-in page instead. Another municipality's household is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.routing import Match
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from vroegsignaal.errors import ModelBundleError, ModelNotApprovedError, VroegsignaalError
from vroegsignaal.service.db import describe_failure
from vroegsignaal.service.http_errors import request_id_of, status_for
from vroegsignaal.service.pages.rendering import caller_or_none, home_path, render
from vroegsignaal.service.pages.session import (
    SESSION_COOKIE,
    SIGN_IN_PATH,
    CsrfError,
    SignInRequired,
    clear_cookie,
    local_path_or_none,
)
from vroegsignaal.service.security import ExpiredTokenError, InvalidTokenError

logger = logging.getLogger("vroegsignaal.service.pages")

#: Status code → message key of the error page's explanation.
ERROR_KEYS: dict[int, str] = {
    403: "error.forbidden",
    404: "error.not_found",
    405: "error.not_found",  # GET on a form's address: there is no page there
    409: "error.conflict",
    413: "error.too_large",
    422: "error.invalid",
    503: "error.unavailable",
}
CSRF_KEY = "error.csrf"
#: Refusals whose status alone would tell the wrong story: a version the service cannot serve is a 409 like a
#: change someone else made first, but the reader must hear why.
ERROR_KEYS_BY_KIND: tuple[tuple[type[VroegsignaalError], str], ...] = (
    (ModelBundleError, "error.model_unusable"),
    (ModelNotApprovedError, "error.model_not_approved"),
)


def sign_in_redirect(request: Request, *, reason: str) -> RedirectResponse:
    """To the sign-in page, coming back here afterwards: to this page, or after a form to the page that showed
    the form (its ``Referer``, same site only), where the caseworker fills it in again (nothing of it was saved)."""
    query = {"reason": reason}
    back = local_path_or_none(_this_page(request) if request.method == "GET" else _form_page(request))
    if back is not None:
        query["next"] = back
    response = RedirectResponse(f"{SIGN_IN_PATH}?{urlencode(query)}", status_code=303)
    clear_cookie(response, request, SESSION_COOKIE)
    return response


def _this_page(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _form_page(request: Request) -> str | None:
    """The page that showed the form: its ``Referer`` (same site only). A form shown again after a refusal has the
    form's own address there, which is no page: then the page above it (the household of its decision form)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.scheme not in ("http", "https") or referer.netloc != request.url.netloc:
        return None
    if _is_page(request, referer.path):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    parent = referer.path.rsplit("/", 1)[0]
    return parent if parent and _is_page(request, parent) else None


def _is_page(request: Request, path: str) -> bool:
    """Whether a GET of ``path`` reaches a route of the app."""
    scope = {"type": "http", "path": path, "method": "GET"}
    return any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes)


async def error_page(request: Request, status: int, *, key: str | None = None) -> Response:
    """A page that explains the refusal in plain words, with the reader's navigation and a link back to where
    they can go on."""
    caller = await caller_or_none(request)
    return render(
        request,
        "error.html.j2",
        caller=caller,
        status=status,
        status_code=status,
        message_key=key or ERROR_KEYS.get(status, "error.invalid"),
        request_id=request_id_of(request),
        back_href=home_path(caller.role) if caller else SIGN_IN_PATH,
    )


class PageRoute(APIRoute):
    """An ``APIRoute`` whose errors answer with a page (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handle = super().get_route_handler()

        async def handle_with_pages(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInRequired as exc:
                return sign_in_redirect(request, reason=exc.reason)
            except ExpiredTokenError:
                return sign_in_redirect(request, reason="expired")
            except InvalidTokenError:
                return sign_in_redirect(request, reason="invalid")
            except CsrfError:
                return await error_page(request, 403, key=CSRF_KEY)
            except VroegsignaalError as exc:
                key = next((key for kind, key in ERROR_KEYS_BY_KIND if isinstance(exc, kind)), None)
                return await error_page(request, status_for(exc), key=key)
            except RequestValidationError as exc:
                # A malformed household id in the path is a page that does not exist; a bad query value is invalid.
                in_path = any(error.get("loc", ("",))[0] == "path" for error in exc.errors())
                return await error_page(request, 404 if in_path else 422)
            except IntegrityError as exc:
                # Two people saved the same thing at once; the API answers 409 as well.
                logger.warning("page %s: integrity conflict (%s)", request_id_of(request), type(exc.orig).__name__)
                return await error_page(request, 409)
            except DBAPIError as exc:
                logger.warning("page %s: database %s", request_id_of(request), describe_failure(exc))
                return await error_page(request, 503)
            except PoolTimeoutError:
                logger.warning("page %s: no database connection free (VROEGSIGNAAL_DB_TIMEOUT_SECONDS)",
                               request_id_of(request))
                return await error_page(request, 503)

        return handle_with_pages
