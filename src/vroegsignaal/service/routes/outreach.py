"""The outreach list of a team."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from vroegsignaal.schemas.api import OutreachListResponse
from vroegsignaal.service.deps import QueueCaller, ServicesDep, SessionDep
from vroegsignaal.service.outreach import list_outreach

router = APIRouter(prefix="/v1/outreach", tags=["outreach"])


@router.get("", response_model=OutreachListResponse)
def get_outreach_list(
    caller: QueueCaller,
    services: ServicesDep,
    session: SessionDep,
    team: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Admins only: a team.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> OutreachListResponse:
    """The caller's team list: urgent and overdue first, then by score (or the rule). Roles: caseworker, admin."""
    return list_outreach(
        session, caller=caller, team=team, settings=services.settings, now=services.now(),
        limit=limit,
    )
