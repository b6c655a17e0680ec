"""FastAPI dependencies as ``Annotated`` aliases: the services, a database session, the caller and their role.

Every endpoint declares who may call it by taking one of the role aliases below; a wrong role is 403, a missing or
bad token 401. The cheap dependencies are ``async`` so they do not cost a thread-pool hop each; the endpoints that
touch the database or the model are plain ``def`` and run in the thread pool, except scoring, which decides where
its transaction runs (``service.db.run_write``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from vroegsignaal.errors import VroegsignaalError
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.security import Caller, ensure_role
from vroegsignaal.service.serving import Services

bearer = HTTPBearer(auto_error=False, description="JWT with the claims sub, role, municipality and team.")


async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[Session]:
    # Creating a session does not connect; the service function opens its transaction in the worker thread.
    session = services.sessions()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def allow(*roles: Role) -> Callable[..., Coroutine[Any, Any, Caller]]:
    """A dependency that admits only ``roles``: verifies the bearer token and checks the caller's role.

    One dependency rather than a chain (services → caller → role): FastAPI solves each dependency of every
    request anew, ~15 µs apiece here.
    """
    allowed = frozenset(roles)

    async def check(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> Caller:
        services: Services = request.app.state.services
        caller = await services.verifier.verify_off_the_loop(credentials.credentials if credentials else None)
        # The route's template when one matched (always, in practice); building ``request.url`` costs ~15 µs.
        route = getattr(request.scope.get("route"), "path", None) or request.url.path
        ensure_role(caller, allowed, action=f"call {request.method} {route}")
        return caller

    check.admits = allowed  # type: ignore[attr-defined] - found by refusal_before_the_body
    return check


async def refusal_before_the_body(request: Request) -> VroegsignaalError | None:
    """Why the caller of the matched route is refused (a missing or bad token, a wrong role), if they are.

    FastAPI parses a JSON body before it solves the dependencies, so a body that is not JSON was answered 422 before
    the token was looked at: this lets that answer be 401 or 403 like any other request of that caller's."""
    route = request.scope.get("route")
    for dependency in getattr(getattr(route, "dependant", None), "dependencies", ()):
        if hasattr(dependency.call, "admits"):
            try:
                await dependency.call(request, await bearer(request))
            except VroegsignaalError as refused:
                return refused
    return None


# Who may do what. The API's dependencies below and the HTML pages (``service/pages``) both read these sets, so
# a page can never admit a role its endpoint refuses.
CASEWORKER_ROLES = frozenset({Role.CASEWORKER})
QUEUE_ROLES = frozenset({Role.CASEWORKER, Role.ADMIN})
ALL_ROLES = frozenset(Role)
ETHICS_ROLES = frozenset({Role.ETHICS_REVIEWER})
ADMIN_ROLES = frozenset({Role.ADMIN})
MODEL_MANAGER_ROLES = frozenset({Role.DATA_SCIENTIST, Role.ADMIN})
OVERSIGHT_ROLES = frozenset({Role.ETHICS_REVIEWER, Role.ADMIN})

CaseworkerCaller = Annotated[Caller, Depends(allow(*CASEWORKER_ROLES))]
ScoringCaller = Annotated[Caller, Depends(allow(*QUEUE_ROLES))]
QueueCaller = Annotated[Caller, Depends(allow(*QUEUE_ROLES))]
AnyRoleCaller = Annotated[Caller, Depends(allow(*ALL_ROLES))]
EthicsCaller = Annotated[Caller, Depends(allow(*ETHICS_ROLES))]
AdminCaller = Annotated[Caller, Depends(allow(*ADMIN_ROLES))]
ModelManagerCaller = Annotated[Caller, Depends(allow(*MODEL_MANAGER_ROLES))]
OversightCaller = Annotated[Caller, Depends(allow(*OVERSIGHT_ROLES))]
AuditorCaller = Annotated[Caller, Depends(allow(*OVERSIGHT_ROLES))]
