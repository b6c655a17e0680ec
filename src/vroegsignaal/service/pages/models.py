"""The model pages for the ethics committee, data scientists and admins: versions, a card, a comparison, and the
approve/reject and promote forms.

Approval goes through :func:`~vroegsignaal.service.serving.review_model_version` and promotion through
:func:`~vroegsignaal.service.serving.promote_and_serve`, the functions behind the API's endpoints; the life cycle and
who may make which move are checked there (``versions.TRANSITIONS``).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from vroegsignaal.errors import NotFoundError
from vroegsignaal.schemas.api import ApprovalCreate
from vroegsignaal.schemas.enums import ModelStatus
from vroegsignaal.service.db import transaction
from vroegsignaal.service.deps import ServicesDep
from vroegsignaal.service.models import ModelStatusEvent, ModelVersion
from vroegsignaal.service.pages.deps import AdminPage, AnyRolePage, EthicsPage, FormData
from vroegsignaal.service.pages.forms import FormState, errors_from_validation
from vroegsignaal.service.pages.i18n import Translator
from vroegsignaal.service.pages.model_view import (
    can_approve,
    can_promote,
    can_review,
    fairness_lines,
    gate_lines,
    metric_lines,
    primary_metric,
    read_card,
    single_attributes,
)
from vroegsignaal.service.pages.rendering import lang_of, render
from vroegsignaal.service.pages.routing import PageRoute
from vroegsignaal.service.pages.session import CsrfChecked
from vroegsignaal.service.routes.models import MSG_NO_CARD, VersionPath
from vroegsignaal.service.security import Caller
from vroegsignaal.service.serving import promote_and_serve, review_model_version
from vroegsignaal.service.switches import ordering_for
from vroegsignaal.service.versions import events_of, gates_failed, get_version_or_raise, list_versions

router = APIRouter(route_class=PageRoute, include_in_schema=False)

VersionQuery = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:@+-]{1,128}$")]
NOTICES: dict[str, str] = {"review_saved": "notice.review_saved", "promoted": "notice.promoted"}
#: The card is our own generated page: inline styles and embedded PNG plots, no scripts; only our pages may frame it.
CARD_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-store",
}


def version_path(version: str) -> str:
    return f"/modellen/{quote(version, safe='')}"


def _load(services: ServicesDep, version: str) -> tuple[ModelVersion, list[ModelStatusEvent]]:
    with transaction(services.sessions) as session:
        row = get_version_or_raise(session, version)
        return row, events_of(session, [version])[version]


@router.get("/modellen")
def versions_page(
    request: Request, caller: AnyRolePage, services: ServicesDep, notice: Annotated[str | None, Query()] = None
) -> Response:
    """Every version with its status and its last move; the version served now; a form to compare two versions."""
    with transaction(services.sessions) as session:
        rows = list_versions(session)
        events = events_of(session, [row.version for row in rows])
        ordering, rule_municipalities = ordering_for(session, caller)
    serving = services.holder.current
    versions = [(row, ModelStatus(row.status), events[row.version]) for row in reversed(rows)]
    t = Translator(lang_of(request))
    return render(
        request,
        "models.html.j2",
        caller=caller,
        versions=versions,
        serving=serving,
        ordering=ordering,
        rule_municipalities=rule_municipalities,
        version_path=version_path,
        version_options=[(row.version, f"{row.version} ({t.label(status)})") for row, status, _ in versions],
        # The comparison starts with the newest version (b) against the one before it (a).
        form=FormState({"a": rows[-2].version, "b": rows[-1].version} if len(rows) >= 2 else {}),
        notice_key=NOTICES.get(notice or ""),
    )


@router.get("/modellen/vergelijk")
def compare_page(
    request: Request, caller: AnyRolePage, services: ServicesDep, a: VersionQuery = None, b: VersionQuery = None
) -> Response:
    """Two versions side by side: metrics, lift, fairness gates and fairness per group, from their cards."""
    if not a or not b:
        return RedirectResponse("/modellen", status_code=303)
    with transaction(services.sessions) as session:
        rows = [get_version_or_raise(session, version) for version in (a, b)]
    cards = [read_card(row.card_json) for row in rows]
    metric = primary_metric(cards)
    return render(
        request,
        "compare.html.j2",
        caller=caller,
        versions=[(row, ModelStatus(row.status)) for row in rows],
        cards=cards,
        metrics=metric_lines(cards),
        gates=gate_lines(cards),
        fairness=fairness_lines(cards, metric=metric),
        fairness_metric=metric,
        # A card from before the calibration error's bias correction holds plain group values (docs/fairness.md).
        calibration_definitions_differ=len({c.fairness.calibration_bias_corrected for c in cards if c}) > 1,
        version_path=version_path,
    )


def _card_page(
    request: Request, caller: Caller, row: ModelVersion, events: list[ModelStatusEvent], *, form: FormState,
    status: int = 200, notice: str | None = None,
) -> Response:
    card = read_card(row.card_json)
    model_status = ModelStatus(row.status)
    failed = gates_failed(row)
    return render(
        request,
        "model_card.html.j2",
        caller=caller,
        status=status,
        page_path=version_path(row.version),
        row=row,
        model_status=model_status,
        events=events,
        card=card,
        attributes=single_attributes(card) if card else [],
        fairness=fairness_lines([card], metric=card.fairness.primary_metric) if card else [],
        has_html=row.card_html is not None,
        can_review=can_review(caller.role, model_status),
        # An ethics reviewer approves what the card shows: a card that cannot be read offers only "reject".
        can_approve=card is not None and can_approve(model_status, gates_passed=not failed),
        card_unreadable=row.card_json is not None and card is None,
        gates_failed=failed,
        can_promote=can_promote(caller.role, model_status, gates_passed=not failed),
        form=form,
        version_path=version_path,
        notice_key=NOTICES.get(notice or ""),
    )


@router.get("/modellen/{version}")
def card_page(
    request: Request, version: VersionPath, caller: AnyRolePage, services: ServicesDep,
    notice: Annotated[str | None, Query()] = None,
) -> Response:
    """A version's card: verdict, lift, gates, fairness per group, limits, the approval history, the full card, and
    the approve/reject form for an ethics reviewer (promote for an admin)."""
    row, events = _load(services, version)
    return _card_page(request, caller, row, events, form=FormState(), notice=notice)


@router.get("/modellen/{version}/kaart")
def card_html(request: Request, version: VersionPath, caller: AnyRolePage, services: ServicesDep) -> Response:
    """The card's own HTML page in the reader's language (Dutch when there is no English card)."""
    row, _ = _load(services, version)
    html = (row.card_html_en if lang_of(request) == "en" else None) or row.card_html
    if html is None:
        raise NotFoundError(MSG_NO_CARD.format(version=version, kind="HTML"))
    return HTMLResponse(html, headers=CARD_HEADERS)


@router.post("/modellen/{version}/beoordeling", dependencies=[CsrfChecked])
def review_page(
    request: Request, version: VersionPath, caller: EthicsPage, services: ServicesDep, form: FormData
) -> Response:
    """An ethics reviewer approves or rejects the version, with a comment."""
    values = {name: form.get(name, "").strip() for name in ("decision", "comment")}
    try:
        approval = ApprovalCreate.model_validate(values)
    except ValidationError as exc:
        row, events = _load(services, version)
        return _card_page(request, caller, row, events, form=FormState(values, errors_from_validation(exc)),
                          status=422)
    review_model_version(
        services, version=version, approve=approval.decision == "approve", caller=caller, comment=approval.comment
    )
    return RedirectResponse(f"{version_path(version)}?{urlencode({'notice': 'review_saved'})}", status_code=303)


@router.post("/modellen/{version}/in-gebruik", dependencies=[CsrfChecked])
def promote_page(version: VersionPath, caller: AdminPage, services: ServicesDep) -> Response:
    """An admin makes an approved version the model in use (the previous one is retired) and serves it now."""
    promote_and_serve(services, version=version, caller=caller, comment=None)
    return RedirectResponse(f"{version_path(version)}?{urlencode({'notice': 'promoted'})}", status_code=303)
