"""Dependencies of the page routes: the caller per role set (the API's sets from ``service.deps``) and form data."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from vroegsignaal.service.deps import (
    ADMIN_ROLES,
    ALL_ROLES,
    CASEWORKER_ROLES,
    ETHICS_ROLES,
    OVERSIGHT_ROLES,
    QUEUE_ROLES,
)
from vroegsignaal.service.pages.session import CSRF_FIELD, page_roles
from vroegsignaal.service.security import Caller

CaseworkerPage = Annotated[Caller, Depends(page_roles(CASEWORKER_ROLES))]
QueuePage = Annotated[Caller, Depends(page_roles(QUEUE_ROLES))]
AnyRolePage = Annotated[Caller, Depends(page_roles(ALL_ROLES))]
EthicsPage = Annotated[Caller, Depends(page_roles(ETHICS_ROLES))]
AdminPage = Annotated[Caller, Depends(page_roles(ADMIN_ROLES))]
OversightPage = Annotated[Caller, Depends(page_roles(OVERSIGHT_ROLES))]

#: Longest value a form field may have; longer ones are cut (the API models refuse them with a clear message).
MAX_FIELD_LENGTH = 4000


async def form_data(request: Request) -> dict[str, str]:
    """The submitted form as text fields (files ignored, the CSRF token left out)."""
    form = await request.form()
    return {
        name: value[:MAX_FIELD_LENGTH]
        for name, value in form.items()
        if isinstance(value, str) and name != CSRF_FIELD
    }


FormData = Annotated[dict[str, str], Depends(form_data)]
