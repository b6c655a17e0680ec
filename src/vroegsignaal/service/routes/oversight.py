"""The oversight report."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from vroegsignaal.errors import DataValidationError, ValidationFailure
from vroegsignaal.schemas.api import OversightResponse
from vroegsignaal.schemas.tables import MUNICIPALITY_PATTERN
from vroegsignaal.service.deps import OversightCaller, ServicesDep, SessionDep
from vroegsignaal.service.oversight import oversight_report

router = APIRouter(prefix="/v1/oversight", tags=["oversight"])

DEFAULT_DAYS = 90
MSG_MUNICIPALITY_REQUIRED = "query parameter 'municipality' is required: your token is not scoped to one"
MSG_OTHER_MUNICIPALITY = "query parameter 'municipality' must be your token's municipality"


@router.get("", response_model=OversightResponse)
def get_oversight(
    caller: OversightCaller,
    services: ServicesDep,
    session: SessionDep,
    municipality: Annotated[str | None, Query(pattern=MUNICIPALITY_PATTERN)] = None,
    since: Annotated[dt.date | None, Query(description="Decisions from this date; default 90 days ago.")] = None,
) -> OversightResponse:
    """Departure rates per team, backlog, overdue, and control sample vs scored outcomes. Roles: ethics reviewer,
    admin."""
    if caller.municipality is not None and municipality not in (None, caller.municipality):
        raise DataValidationError([ValidationFailure("query", "municipality", "own_municipality", 1)],
                                  summary=MSG_OTHER_MUNICIPALITY)
    chosen = caller.municipality or municipality
    if chosen is None:
        raise DataValidationError([ValidationFailure("query", "municipality", "required", 1)],
                                  summary=MSG_MUNICIPALITY_REQUIRED)
    now = services.now()
    return oversight_report(
        session, municipality=chosen, since=since or (now.date() - dt.timedelta(days=DEFAULT_DAYS)),
        settings=services.settings, now=now,
    )
