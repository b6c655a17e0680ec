"""The objections register (GDPR art. 21)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from vroegsignaal.schemas.api import ErrorResponse, ObjectionCreate, ObjectionPublic
from vroegsignaal.schemas.tables import PSEUDONYM_PATTERN
from vroegsignaal.service.deps import QueueCaller, ServicesDep, SessionDep
from vroegsignaal.service.objections import add_objection, list_objections, withdraw_objection

router = APIRouter(prefix="/v1/objections", tags=["objections"])


@router.post("", response_model=ObjectionPublic, status_code=201, responses={409: {"model": ErrorResponse}})
def create_objection(
    request: ObjectionCreate, caller: QueueCaller, services: ServicesDep, session: SessionDep
) -> ObjectionPublic:
    """Register an objection: the household is no longer scored. Roles: caseworker, admin."""
    return add_objection(session, request=request, caller=caller, settings=services.settings, now=services.now())


@router.get("", response_model=list[ObjectionPublic])
def get_objections(
    caller: QueueCaller, session: SessionDep, include_withdrawn: Annotated[bool, Query()] = False
) -> list[ObjectionPublic]:
    """The register of the caller's municipality. Roles: caseworker, admin."""
    return list_objections(session, caller=caller, include_withdrawn=include_withdrawn)


@router.delete("/{household_id}", response_model=ObjectionPublic, responses={404: {"model": ErrorResponse}})
def delete_objection(
    household_id: Annotated[str, Path(pattern=PSEUDONYM_PATTERN)],
    caller: QueueCaller,
    services: ServicesDep,
    session: SessionDep,
) -> ObjectionPublic:
    """Withdraw the active objection (kept in the register as withdrawn). Roles: caseworker, admin."""
    return withdraw_objection(session, pseudonym=household_id, caller=caller, now=services.now())
