"""Household history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from vroegsignaal.schemas.api import ErrorResponse, HouseholdHistoryResponse
from vroegsignaal.schemas.tables import PSEUDONYM_PATTERN
from vroegsignaal.service.deps import CaseworkerCaller, ServicesDep, SessionDep
from vroegsignaal.service.households import household_history

router = APIRouter(prefix="/v1/households", tags=["households"])


@router.get("/{household_id}", response_model=HouseholdHistoryResponse, responses={404: {"model": ErrorResponse}})
def get_household(
    household_id: Annotated[str, Path(pattern=PSEUDONYM_PATTERN)],
    caller: CaseworkerCaller,
    services: ServicesDep,
    session: SessionDep,
) -> HouseholdHistoryResponse:
    """Everything held about one household of the caller's municipality (audited). Role: caseworker."""
    return household_history(session, pseudonym=household_id, caller=caller, settings=services.settings, now=services.now())
