"""Operations: reload the model, the ordering switch, audit-log verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from vroegsignaal.schemas.api import (
    AuditVerificationResponse,
    ErrorResponse,
    OrderingPublic,
    OrderingSwitchCreate,
    ReloadResponse,
)
from vroegsignaal.schemas.tables import MUNICIPALITY_PATTERN
from vroegsignaal.service.audit import verify_audit_log
from vroegsignaal.service.db import transaction
from vroegsignaal.service.deps import AdminCaller, AnyRoleCaller, AuditorCaller, ServicesDep
from vroegsignaal.service.models import ServiceSwitch
from vroegsignaal.service.queue import Ordering
from vroegsignaal.service.security import municipality_in_view_or_raise
from vroegsignaal.service.serving import reload_model
from vroegsignaal.service.switches import current_ordering, switch_ordering

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/reload", response_model=ReloadResponse, responses={409: {"model": ErrorResponse}})
def reload(caller: AdminCaller, services: ServicesDep) -> ReloadResponse:
    """Load the champion without a restart; in-flight requests finish on the old version. Role: admin."""
    return reload_model(services, caller=caller)


@router.get("/ordering", response_model=OrderingPublic)
def get_ordering(
    caller: AnyRoleCaller,
    services: ServicesDep,
    municipality: Annotated[
        str | None,
        Query(pattern=MUNICIPALITY_PATTERN, description="Required for a role without a municipality; else yours."),
    ] = None,
) -> OrderingPublic:
    """The ordering mode in force for a municipality: the caller's own, or the one named by a role without one.
    Roles: all."""
    chosen = municipality_in_view_or_raise(caller, municipality)
    with transaction(services.sessions) as session:
        mode, row = current_ordering(session, chosen)
    return _public(chosen, mode, row)


@router.put("/ordering", response_model=OrderingPublic)
def put_ordering(request: OrderingSwitchCreate, caller: AdminCaller, services: ServicesDep) -> OrderingPublic:
    """Switch the caller's municipality between the model's order and the rule-based fallback (audited, with a
    reason). Role: admin."""
    with transaction(services.sessions) as session:
        row = switch_ordering(session, mode=request.mode, reason=request.reason, caller=caller, now=services.now())
    return _public(caller.municipality_or_raise(), request.mode, row)


def _public(municipality: str, mode: Ordering, row: ServiceSwitch | None) -> OrderingPublic:
    return OrderingPublic(
        municipality_code=municipality,
        mode=mode,
        changed_by=row.changed_by if row else None,
        changed_at=row.changed_at if row else None,
        reason=row.reason if row else None,
    )


@router.get("/audit/verification", response_model=AuditVerificationResponse)
def verify_audit(caller: AuditorCaller, services: ServicesDep) -> AuditVerificationResponse:
    """Walk the hash chain of the audit log and report any edited, deleted or reordered record. Roles: ethics
    reviewer, admin."""
    with transaction(services.sessions) as session:
        result = verify_audit_log(session)
    return AuditVerificationResponse.model_validate(result.to_dict())
