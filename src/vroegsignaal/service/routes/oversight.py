"""The oversight report."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from vroegsignaal.schemas.api import EARLIEST_DATE, OversightResponse
from vroegsignaal.schemas.tables import MUNICIPALITY_PATTERN
from vroegsignaal.service.clock import dutch_today
from vroegsignaal.service.deps import OversightCaller, ServicesDep, SessionDep
from vroegsignaal.service.oversight import oversight_report
from vroegsignaal.service.security import municipality_in_view_or_raise

router = APIRouter(prefix="/v1/oversight", tags=["oversight"])

DEFAULT_DAYS = 90


@router.get("", response_model=OversightResponse)
def get_oversight(
    caller: OversightCaller,
    services: ServicesDep,
    session: SessionDep,
    municipality: Annotated[str | None, Query(pattern=MUNICIPALITY_PATTERN)] = None,
    since: Annotated[
        dt.date | None, Query(ge=EARLIEST_DATE, description="Decisions from this date; default 90 days ago.")
    ] = None,
) -> OversightResponse:
    """Departure rates per team, backlog, overdue, and control sample vs scored outcomes. Roles: ethics reviewer,
    admin."""
    chosen = municipality_in_view_or_raise(caller, municipality)
    now = services.now()
    return oversight_report(
        session, municipality=chosen, since=since or (dutch_today(now) - dt.timedelta(days=DEFAULT_DAYS)),
        settings=services.settings, now=now,
    )
