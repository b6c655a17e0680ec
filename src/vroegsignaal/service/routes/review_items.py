"""Decisions on review items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from vroegsignaal.schemas.api import DecisionCreate, DecisionPublic, ErrorResponse
from vroegsignaal.service.decisions import record_decision
from vroegsignaal.service.deps import CaseworkerCaller, ServicesDep, SessionDep

router = APIRouter(prefix="/v1/review-items", tags=["review items"])

#: Ids are 32-bit integers in every backend; larger ones cannot exist (and PostgreSQL would refuse to compare).
MAX_ID = 2**31 - 1


@router.post(
    "/{item_id}/decisions",
    response_model=DecisionPublic,
    status_code=201,
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
def create_decision(
    item_id: Annotated[int, Path(ge=1, le=MAX_ID, description="Review item id.")],
    request: DecisionCreate,
    response: Response,
    caller: CaseworkerCaller,
    services: ServicesDep,
    session: SessionDep,
) -> DecisionPublic:
    """Record contact attempts and the end result; closes the item. Role: caseworker (own municipality and team).

    A departure from the suggested intensity or order needs ``departure_reason``. Retrying the same decision returns
    the recorded one with status 200. With ``case_updated_at`` a decision on a case that changed since is refused
    with 409.
    """
    decision, created = record_decision(
        session, item_id=item_id, request=request, caller=caller, settings=services.settings,
        now=services.now(),
    )
    if not created:
        response.status_code = 200
    return decision
