"""Model versions: what is served, the cards, approval by an ethics reviewer, promotion by an admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse

from vroegsignaal.errors import NotFoundError
from vroegsignaal.schemas.api import (
    ApprovalCreate,
    ErrorResponse,
    ModelInfoResponse,
    ModelVersionPublic,
    PromotionCreate,
    ReloadResponse,
    StatusEventPublic,
)
from vroegsignaal.schemas.enums import ModelStatus
from vroegsignaal.service.db import transaction
from vroegsignaal.service.deps import AdminCaller, AnyRoleCaller, EthicsCaller, ModelManagerCaller, ServicesDep
from vroegsignaal.service.models import ModelVersion
from vroegsignaal.service.runtime import APPROVED_STATUSES
from vroegsignaal.service.serving import (
    fetch_registry_versions,
    promote_and_serve,
    register_sources,
    review_model_version,
)
from vroegsignaal.service.switches import ordering_for
from vroegsignaal.service.versions import card_with_history, events_of, get_version_or_raise, list_versions

router = APIRouter(prefix="/v1/models", tags=["models"])

VersionPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:@+-]{1,128}$", description="Model version id.")]
MSG_NO_CARD = "model version {version!r} has no {kind} model card"


def _public(row: ModelVersion, events: list) -> ModelVersionPublic:  # noqa: ANN001
    return ModelVersionPublic(
        version=row.version,
        model_name=row.model_name,
        source_uri=row.source_uri,
        status=row.status,
        created_at=row.created_at,
        events=[StatusEventPublic.model_validate(event) for event in events],
    )


@router.get("", response_model=list[ModelVersionPublic])
def get_versions(caller: AnyRoleCaller, services: ServicesDep) -> list[ModelVersionPublic]:
    """Every known version with its status history. Roles: all."""
    with transaction(services.sessions) as session:
        rows = list_versions(session)
        events = events_of(session, [row.version for row in rows])
        return [_public(row, events[row.version]) for row in rows]


@router.get("/current", response_model=ModelInfoResponse)
def get_current_model(caller: AnyRoleCaller, services: ServicesDep) -> ModelInfoResponse:
    """The version being served now, its status as recorded now (another process, e.g. the CLI's promote, may
    have retired it: this replica serves it until its reload), and the ordering mode. Roles: all."""
    model = services.holder.current
    with transaction(services.sessions) as session:
        ordering, rule_municipalities = ordering_for(session, caller)
        row = session.get(ModelVersion, model.version) if model else None
    status = ModelStatus(row.status) if row is not None else model.status if model else None
    return ModelInfoResponse(
        serving_version=model.version if model else None,
        status=status,
        approved=status in APPROVED_STATUSES if status is not None else False,
        demo_mode=services.settings.demo_mode,
        ordering=ordering,
        rule_ordered_municipalities=rule_municipalities,
        feature_names=list(model.scorer.feature_names) if model else [],
    )


@router.post("/discover", response_model=list[str])
def discover_versions(caller: ModelManagerCaller, services: ServicesDep) -> list[str]:
    """Register new versions as candidates: bundles in the models directory and, with ``MODEL_URI``, the registry
    version it names and the newest one training registered (``@candidate``). Roles: data scientist, admin."""
    registry = fetch_registry_versions(services.settings)  # before the transaction: the registry may be slow
    with transaction(services.sessions) as session:
        return register_sources(session, services, registry=registry, now=services.now(), by=caller)


@router.get("/{version}", response_model=ModelVersionPublic, responses={404: {"model": ErrorResponse}})
def get_version(version: VersionPath, caller: AnyRoleCaller, services: ServicesDep) -> ModelVersionPublic:
    """One version with its status history. Roles: all."""
    with transaction(services.sessions) as session:
        row = get_version_or_raise(session, version)
        return _public(row, events_of(session, [version])[version])


@router.get("/{version}/card", responses={404: {"model": ErrorResponse}})
def get_card(version: VersionPath, caller: AnyRoleCaller, services: ServicesDep) -> dict:
    """The model card as JSON (validated against its schema by training), with the version's approval history as
    recorded by the service: who approved, promoted or rejected it, when and why. Roles: all."""
    with transaction(services.sessions) as session:
        row = get_version_or_raise(session, version)
        events = events_of(session, [version])[version]
    if row.card_json is None:
        raise NotFoundError(MSG_NO_CARD.format(version=version, kind="JSON"))
    return card_with_history(row.card_json, events)


@router.get("/{version}/card.html", response_class=HTMLResponse, responses={404: {"model": ErrorResponse}})
def get_card_html(version: VersionPath, caller: AnyRoleCaller, services: ServicesDep) -> HTMLResponse:
    """The self-contained HTML model card. Roles: all."""
    with transaction(services.sessions) as session:
        row = get_version_or_raise(session, version)
    if row.card_html is None:
        raise NotFoundError(MSG_NO_CARD.format(version=version, kind="HTML"))
    return HTMLResponse(row.card_html)


@router.post(
    "/{version}/approval",
    response_model=ModelVersionPublic,
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
def review_version(
    version: VersionPath, request: ApprovalCreate, caller: EthicsCaller, services: ServicesDep
) -> ModelVersionPublic:
    """Approve or reject a version, with a comment (who and when are recorded). Role: ethics reviewer."""
    row, events = review_model_version(
        services, version=version, approve=request.decision == "approve", caller=caller, comment=request.comment
    )
    return _public(row, events)


@router.post(
    "/{version}/promote",
    response_model=ReloadResponse,
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
def promote_version(
    version: VersionPath, caller: AdminCaller, services: ServicesDep, request: PromotionCreate | None = None
) -> ReloadResponse:
    """Make an approved version the champion (the previous one is retired) and serve it. Role: admin. The body
    (a comment for the record) may be left out."""
    comment = request.comment if request is not None else None
    return promote_and_serve(services, version=version, caller=caller, comment=comment)
