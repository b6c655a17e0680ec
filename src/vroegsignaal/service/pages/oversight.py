"""The oversight page: how often teams depart from the advice, backlog and overdue, and the control sample against
the scored households. It shows :func:`~vroegsignaal.service.oversight.oversight_report`, the API's report."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from vroegsignaal.schemas.api import EARLIEST_DATE
from vroegsignaal.schemas.tables import MUNICIPALITY_PATTERN
from vroegsignaal.service.clock import dutch_today
from vroegsignaal.service.deps import ServicesDep, SessionDep
from vroegsignaal.service.oversight import municipalities_with_work, oversight_report
from vroegsignaal.service.pages.deps import OversightPage
from vroegsignaal.service.pages.forms import FormState
from vroegsignaal.service.pages.rendering import render
from vroegsignaal.service.pages.routing import PageRoute
from vroegsignaal.service.routes.oversight import DEFAULT_DAYS
from vroegsignaal.service.security import municipality_in_view_or_raise

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/toezicht")
def oversight_page(
    request: Request,
    caller: OversightPage,
    services: ServicesDep,
    session: SessionDep,
    municipality: Annotated[str | None, Query(pattern=MUNICIPALITY_PATTERN)] = None,
    since: Annotated[dt.date | None, Query(ge=EARLIEST_DATE)] = None,
) -> Response:
    """The report of the caller's municipality (an ethics reviewer, who has none, chooses one)."""
    now = services.now()
    since = since or dutch_today(now) - dt.timedelta(days=DEFAULT_DAYS)
    choices = municipalities_with_work(session) if caller.municipality is None else [caller.municipality]
    report, chosen = None, None
    # A reviewer (no municipality in the token) first chooses one; any other request is checked by the domain rule,
    # which refuses another municipality than the token's own (a 422 page, as the API answers 422).
    if caller.municipality is not None or municipality is not None:
        chosen = municipality_in_view_or_raise(caller, municipality)
        report = oversight_report(session, municipality=chosen, since=since, settings=services.settings, now=now)
    return render(
        request,
        "oversight.html.j2",
        caller=caller,
        report=report,
        municipalities=choices,
        municipality_options=[(code, code) for code in choices],
        form=FormState({"municipality": chosen or "", "since": since.isoformat()}),
        earliest_date=EARLIEST_DATE,
        min_decisions=services.settings.oversight_min_decisions,
    )
