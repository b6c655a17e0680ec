"""Our exception hierarchy mapped to HTTP in one place.

Clients get a clear message, the request id, and per-field problems; logs get the exception class and the request
id, never the request body (it holds pseudonyms and financial facts). Request-validation messages name the field and
the rule, and show the offending value except for identifier fields.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from vroegsignaal.errors import (
    ConfigError,
    ConflictError,
    DataValidationError,
    ModelBundleError,
    ModelNotApprovedError,
    NotFoundError,
    PermissionDeniedError,
    ServiceUnavailableError,
    ValidationFailure,
    VroegsignaalError,
)
from vroegsignaal.schemas.api import ErrorResponse, FieldErrorPublic
from vroegsignaal.schemas.identifiers import looks_like_identifier
from vroegsignaal.service.db import describe_failure
from vroegsignaal.service.deps import refusal_before_the_body
from vroegsignaal.service.security import InvalidTokenError

logger = logging.getLogger("vroegsignaal.service")

MSG_INVALID_BODY = "request is invalid: {count} problem(s): {problems}"
MSG_DATABASE_UNAVAILABLE = (
    "the database is unavailable; retry in a moment (nothing is half-written; if the connection broke while saving, "
    "the request may have been saved, and the same request sent again is not saved twice)"
)
MSG_CONCURRENT_CHANGE = "a concurrent request changed the same data; nothing was saved, retry the request"
MSG_INTERNAL = "internal error; nothing was saved. Quote the request id to the operator"
MSG_BATCH_TOO_LARGE = "field 'households': {count} households exceed the limit of {limit} per request; split the batch"

#: PostgreSQL's serialization failure and deadlock: another transaction got in the way, the database is fine.
CONCURRENCY_SQLSTATES = frozenset({"40001", "40P01"})
#: Fields whose values are never repeated in an error message: identifiers, and the free text people write (a reason
#: or a comment may wrongly hold a name).
IDENTIFIER_FIELDS = frozenset(
    {"household_id", "signal_id", "replaces_signal_id", "neighbourhood", "departure_reason", "comment", "reason"}
)
MAX_ECHO_LENGTH = 40
RETRY_LATER = {"Retry-After": "5"}


class BatchTooLargeError(VroegsignaalError):
    """A scoring batch holds more households than the configured limit (HTTP 413)."""


#: Checked in order: the first class the error is an instance of decides the status.
STATUS_BY_ERROR: tuple[tuple[type[VroegsignaalError], int], ...] = (
    (InvalidTokenError, 401),
    (BatchTooLargeError, 413),
    (NotFoundError, 404),
    (PermissionDeniedError, 403),
    (ModelNotApprovedError, 409),
    (ConflictError, 409),
    (ServiceUnavailableError, 503),
    (DataValidationError, 422),
    (ConfigError, 422),
    # A bundle that cannot be served (files missing or damaged, features outside the catalogue) is the state of the
    # version asked for, not a fault of the request: 409, as for promoting an unapproved version.
    (ModelBundleError, 409),
)


def status_for(error: VroegsignaalError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 400


def request_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", "-"))


def error_response(
    request: Request, status: int, detail: str, *, errors: Sequence[FieldErrorPublic] = (), headers: dict | None = None
) -> JSONResponse:
    body = ErrorResponse(detail=detail, request_id=request_id_of(request), errors=list(errors))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _echo(field: str, value: Any) -> str:
    """`` (got …)`` for a message, unless the value is an identifier by its field or looks like one by its content
    (a BSN sent in a field of its own, say). A date the service itself checked (a ``datetime.date``, never raw
    input) is repeated: its eight digits are not a number that could identify someone."""
    if isinstance(value, dt.date):
        return f" (got {value.isoformat()!r})"
    if field.rsplit(".", 1)[-1] in IDENTIFIER_FIELDS or isinstance(value, (dict, list)) or looks_like_identifier(value):
        return ""
    text = repr(value)
    return f" (got {text if len(text) <= MAX_ECHO_LENGTH else text[:MAX_ECHO_LENGTH] + '…'})"


def field_errors(raw: Sequence[dict[str, Any]]) -> list[FieldErrorPublic]:
    """pydantic's errors as field path, rule and message (value echoed unless it is an identifier)."""
    result = []
    for error in raw:
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] in ("body", "query", "path", "header"):
            location = location[1:] if location[0] == "body" else location
        field = ".".join(location) or "body"
        # A field the schema does not know may hold anything (a name, a date of birth): its value is never repeated.
        silent = error.get("type") in ("missing", "extra_forbidden") or "input" not in error
        echo = "" if silent else _echo(field, error["input"])
        result.append(FieldErrorPublic(field=field, rule=str(error.get("type", "invalid")), message=f"{error['msg']}{echo}"))
    return result


def failure_public(failure: ValidationFailure) -> FieldErrorPublic:
    """A rule the service checked on a request: the field, the rule, and the value sent (unless an identifier)."""
    field = failure.column or failure.table
    echo = _echo(field, failure.examples[0]) if failure.examples else ""
    return FieldErrorPublic(field=field, rule=failure.check, message=f"{failure.check}{echo}")


#: Paths whose errors are always JSON: the API, the system endpoints and the API description.
API_PREFIXES = ("/v1", "/health", "/ready", "/metrics", "/openapi.json", "/docs", "/redoc", "/static")


def wants_a_page(request: Request) -> bool:
    """Whether an error is for a person's browser: outside the API paths, asked for as HTML."""
    path = request.url.path
    return "text/html" in request.headers.get("accept", "") and not any(
        path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the one mapping from exceptions to HTTP responses."""

    @app.exception_handler(VroegsignaalError)
    async def _ours(request: Request, exc: VroegsignaalError) -> JSONResponse:
        status = status_for(exc)
        errors: list[FieldErrorPublic] = []
        detail = str(exc)
        if isinstance(exc, DataValidationError):
            detail = exc.summary if exc.failures else str(exc)
            errors = [failure_public(f) for f in exc.failures]
            if errors:
                detail = f"{detail}: " + "; ".join(f"{e.field}: {e.message}" for e in errors)
        if status >= 500:
            logger.warning("request %s failed: %s", request_id_of(request), type(exc).__name__)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return error_response(request, status, detail, errors=errors, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        refused = await refusal_before_the_body(request)
        if refused is not None:  # a caller who may not call this gets 401 or 403, whatever the body
            return await _ours(request, refused)
        errors = field_errors(exc.errors())
        problems = "; ".join(f"{e.field}: {e.message}" for e in errors[:10])
        return error_response(request, 422, MSG_INVALID_BODY.format(count=len(errors), problems=problems), errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        # A browser that follows a wrong link outside the API gets the pages' error page, not JSON.
        page = getattr(app.state, "html_error_page", None)
        if page is not None and wants_a_page(request):
            return await page(request, exc.status_code)
        return error_response(request, exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        logger.warning("request %s: integrity conflict (%s)", request_id_of(request), type(exc.orig).__name__)
        return error_response(request, 409, MSG_CONCURRENT_CHANGE)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if getattr(exc.orig, "sqlstate", None) in CONCURRENCY_SQLSTATES:
            logger.warning("request %s: concurrent change (%s)", request_id_of(request), type(exc.orig).__name__)
            return error_response(request, 409, MSG_CONCURRENT_CHANGE)
        # A timeout of db_timeout_seconds (db.timed_out) answers 503 like a broken connection, not 409: a deadlock or
        # serialization failure ends at once because another transaction went first, a timeout means the database,
        # or a transaction holding what this one needed, did not finish in time.
        logger.warning("request %s: database %s", request_id_of(request), describe_failure(exc))
        return error_response(request, 503, MSG_DATABASE_UNAVAILABLE, headers=RETRY_LATER)

    @app.exception_handler(PoolTimeoutError)
    async def _no_connection(request: Request, exc: PoolTimeoutError) -> JSONResponse:
        # Every pooled connection stayed busy (or stuck) for db_timeout_seconds: the database cannot take this now.
        logger.warning("request %s: no database connection free (VROEGSIGNAAL_DB_TIMEOUT_SECONDS)", request_id_of(request))
        return error_response(request, 503, MSG_DATABASE_UNAVAILABLE, headers=RETRY_LATER)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the log with the request id; the exception text may hold data, so clients never see it.
        logger.error("request %s: unexpected %s", request_id_of(request), type(exc).__name__, exc_info=exc)
        return error_response(request, 500, MSG_INTERNAL)
