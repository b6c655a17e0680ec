"""Model versions: the service's own register of versions, their life cycle, and which one to serve.

A version moves ``candidate → approved`` (an ethics reviewer signs off, with a comment) ``→ champion`` (an admin
promotes it; the previous champion is retired). A reviewer may reject a version at any point before it is rejected:
a candidate, an approved one, the champion in use (its review continues after release; the service stops serving it
at once) or a retired one (so it is never served again). Every
move is an append-only :class:`~vroegsignaal.service.models.ModelStatusEvent` (who, role, when, comment) and an audit
record. When a version came from the MLflow registry, its status is mirrored there as an alias.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event as orm_events
from sqlalchemy import select
from sqlalchemy.orm import Session

from vroegsignaal.errors import ConflictError, ModelNotApprovedError, NotFoundError, PermissionDeniedError
from vroegsignaal.schemas.enums import ModelStatus, Role
from vroegsignaal.service.audit import AuditAction, AuditEntry, audit
from vroegsignaal.service.models import ModelStatusEvent, ModelVersion
from vroegsignaal.service.runtime import APPROVED_STATUSES, BundleInfo, LoadedModel, ModelCard, ScorerProtocol
from vroegsignaal.service.security import Caller

MSG_UNKNOWN_VERSION = "model version {version!r} does not exist"
MSG_BAD_TRANSITION = "model version {version!r} is {current}; it cannot become {target}"
MSG_TRANSITION_ROLE = "role '{role}' may not move a model version to {target} (only {allowed})"
MSG_GATES_FAILED = (
    "model version {version!r} cannot become {target}: its model card's verdict is 'not promotable' (a fairness gate "
    "or the proxy check failed, its data did not validate, or it did worse than the rule); see the reasons on the "
    "card, and train a new version"
)
MSG_NOT_APPROVED = (
    "model version {version!r} is {status}: only an approved version may be served (or start in demo mode)"
)

REGISTRY_PREFIX = "models:/"
BUNDLE_PREFIX = "bundle:"

#: (from, to) -> the role that may make the move.
TRANSITIONS: dict[tuple[ModelStatus, ModelStatus], Role] = {
    (ModelStatus.CANDIDATE, ModelStatus.APPROVED): Role.ETHICS_REVIEWER,
    (ModelStatus.CANDIDATE, ModelStatus.REJECTED): Role.ETHICS_REVIEWER,
    (ModelStatus.APPROVED, ModelStatus.REJECTED): Role.ETHICS_REVIEWER,
    (ModelStatus.CHAMPION, ModelStatus.REJECTED): Role.ETHICS_REVIEWER,
    (ModelStatus.RETIRED, ModelStatus.REJECTED): Role.ETHICS_REVIEWER,
    (ModelStatus.APPROVED, ModelStatus.CHAMPION): Role.ADMIN,
    (ModelStatus.RETIRED, ModelStatus.CHAMPION): Role.ADMIN,
    (ModelStatus.CHAMPION, ModelStatus.RETIRED): Role.ADMIN,
}

#: Called after a status change of a version from the MLflow registry: (model name, registry version, status).
RegistryMirror = Callable[[str, str, ModelStatus], None]

logger = logging.getLogger("vroegsignaal.service")


def get_version_or_raise(session: Session, version: str, *, lock: bool = False) -> ModelVersion:
    """The version's row; with ``lock``, locked until the transaction ends and read afresh (PostgreSQL)."""
    row = session.get(ModelVersion, version, with_for_update=lock or None, populate_existing=lock)
    if row is None:
        raise NotFoundError(MSG_UNKNOWN_VERSION.format(version=version))
    return row


def list_versions(session: Session) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).order_by(ModelVersion.created_at, ModelVersion.version)))


def events_of(session: Session, versions: Sequence[str]) -> dict[str, list[ModelStatusEvent]]:
    """Status events per version, oldest first (one query for all versions)."""
    result: dict[str, list[ModelStatusEvent]] = {version: [] for version in versions}
    rows = session.scalars(
        select(ModelStatusEvent).where(ModelStatusEvent.version.in_(versions)).order_by(ModelStatusEvent.id)
    )
    for event in rows:
        result[event.version].append(event)
    return result


def card_with_history(card_json: dict[str, Any], events: Sequence[ModelStatusEvent]) -> dict[str, Any]:
    """The card as trained, with the version's status moves by staff (approvals, promotion, rejection) as its
    approval history; the service's own registration steps are not part of it."""
    staff = {role.value for role in Role}
    history = [
        {
            "from_status": event.from_status,
            "to_status": event.to_status,
            "by": event.actor,
            "role": event.role,
            "at": event.created_at.isoformat(),
            "comment": event.comment or "",
        }
        for event in events
        if event.role in staff
    ]
    return {**card_json, "approval_history": history}


def register_version(
    session: Session,
    *,
    version: str,
    model_name: str,
    source_uri: str,
    card: ModelCard,
    actor: str,
    role: str,
    now: dt.datetime,
) -> ModelVersion:
    """Record a version as a candidate; a version already known is returned unchanged."""
    existing = session.get(ModelVersion, version)
    if existing is not None:
        return existing
    row = ModelVersion(
        version=version,
        model_name=model_name,
        source_uri=source_uri,
        status=ModelStatus.CANDIDATE.value,
        card_json=card.json,
        card_html=card.html,
        card_html_en=card.html_en,
        created_at=now,
        status_changed_at=now,
    )
    session.add(row)
    session.flush()  # the version row first: its events reference it
    session.add(
        ModelStatusEvent(
            version=version, from_status=None, to_status=row.status, actor=actor, role=role, comment=None, created_at=now
        )
    )
    session.flush()
    audit(
        session,
        AuditEntry(actor=actor, role=role, action=AuditAction.MODEL_REGISTERED, object_id=version, model_version=version,
                   detail={"source": source_uri.split(":", 1)[0]}),
        now=now,
    )
    return row


def register_bundles(
    session: Session, bundles: Sequence[BundleInfo], *, now: dt.datetime, by: Caller | None = None
) -> list[str]:
    """Register every bundle not yet known as a candidate (by ``by``, else by the service itself at its start);
    returns the new versions."""
    known = set(session.scalars(select(ModelVersion.version)))
    new = [info for info in bundles if info.version not in known]
    for info in new:
        register_version(
            session,
            version=info.version,
            model_name=info.model_name,
            source_uri=f"{BUNDLE_PREFIX}{info.path.resolve()}",
            card=info.card,
            actor=by.subject if by is not None else "system",
            role=by.role.value if by is not None else "system",
            now=now,
        )
    return [info.version for info in new]


def gates_failed(row: ModelVersion) -> bool:
    """Whether the version's model card says it may not be promoted: a fairness gate or the proxy check failed, its
    data did not validate, or it did worse than the rule (``verdict.promotable`` false; a card without a verdict
    says nothing)."""
    verdict = (row.card_json or {}).get("verdict") or {}
    return verdict.get("promotable") is False


def change_status(
    session: Session,
    *,
    version: str,
    target: ModelStatus,
    caller: Caller,
    comment: str | None,
    now: dt.datetime,
    mirror: RegistryMirror | None = None,
) -> ModelVersion:
    """Move ``version`` to ``target`` if the life cycle and the caller's role allow it (see :data:`TRANSITIONS`).

    The row is locked before its status is checked: two changes of one version at once (a promotion while an ethics
    reviewer rejects it, on two replicas) take turns, and the second is checked against the first's outcome instead
    of overwriting it (a rejected version became champion)."""
    row = get_version_or_raise(session, version, lock=True)
    current = ModelStatus(row.status)
    allowed_role = TRANSITIONS.get((current, target))
    if allowed_role is None:
        raise ConflictError(MSG_BAD_TRANSITION.format(version=version, current=current.value, target=target.value))
    if caller.role is not allowed_role:
        raise PermissionDeniedError(
            MSG_TRANSITION_ROLE.format(role=caller.role.value, target=target.value, allowed=allowed_role.value)
        )
    if target in (ModelStatus.APPROVED, ModelStatus.CHAMPION) and gates_failed(row):
        raise ConflictError(MSG_GATES_FAILED.format(version=version, target=target.value))
    changed = [(row, current)]
    if target is ModelStatus.CHAMPION:
        for previous in session.scalars(
            select(ModelVersion).where(ModelVersion.status == ModelStatus.CHAMPION.value).with_for_update()
        ):
            changed.append((previous, ModelStatus.CHAMPION))
            _set_status(session, previous, ModelStatus.RETIRED, caller=caller, now=now,
                        comment=f"retired: {version} promoted to champion")
        # The old champion's row is written first: the unit of work orders updates by key, and at most one row
        # may be champion at any moment (a unique index; a concurrent promotion fails on it, 409).
        session.flush()
    _set_status(session, row, target, caller=caller, now=now, comment=comment)
    if mirror is not None:
        moves = [
            (changed_row.model_name, registry_version(changed_row.source_uri), ModelStatus(changed_row.status))
            for changed_row, _ in changed
            if changed_row.source_uri.startswith(REGISTRY_PREFIX)
        ]
        if moves:
            _after_commit(session, lambda: _mirror_moves(mirror, moves))
    return row


def _after_commit(session: Session, work: Callable[[], None]) -> None:
    """Run ``work`` once the session's transaction has committed; never when it rolls back."""
    orm_events.listen(session, "after_commit", lambda _session: work(), once=True)


def _mirror_moves(mirror: RegistryMirror, moves: list[tuple[str, str, ModelStatus]]) -> None:
    """Mirror committed status changes to the registry. The service's own status is what counts (it decides what
    is served); an alias the registry refuses now is logged and set again at the version's next move."""
    for name, version, status in moves:
        try:
            mirror(name, version, status)
        except Exception as error:  # noqa: BLE001 - the registry is another system; the change stands
            logger.warning("MLflow alias of %s version %s not set to %s: %s", name, version, status.value, error)


def _set_status(
    session: Session, row: ModelVersion, target: ModelStatus, *, caller: Caller, now: dt.datetime, comment: str | None
) -> None:
    previous = row.status
    row.status = target.value
    row.status_changed_at = now
    session.add(
        ModelStatusEvent(
            version=row.version,
            from_status=previous,
            to_status=target.value,
            actor=caller.subject,
            role=caller.role.value,
            comment=comment,
            created_at=now,
        )
    )
    session.flush()
    audit(
        session,
        AuditEntry.by(
            caller,
            municipality_code=caller.municipality,
            action=AuditAction.MODEL_STATUS,
            object_id=row.version,
            model_version=row.version,
            detail={"from": previous, "to": target.value},
        ),
        now=now,
    )


def registry_version(source_uri: str) -> str:
    """The registry version of ``models:/NAME/VERSION``."""
    return source_uri.rstrip("/").rsplit("/", 1)[-1]


def servable_version(session: Session, *, demo_mode: bool) -> ModelVersion | None:
    """The version to serve: the champion; in demo mode without a champion, the newest approved or candidate."""
    champion = session.scalars(select(ModelVersion).where(ModelVersion.status == ModelStatus.CHAMPION.value)).first()
    if champion is not None or not demo_mode:
        return champion
    for status in (ModelStatus.APPROVED, ModelStatus.CANDIDATE):
        newest = session.scalars(
            select(ModelVersion)
            .where(ModelVersion.status == status.value)
            .order_by(ModelVersion.created_at.desc(), ModelVersion.version.desc())
        ).first()
        if newest is not None:
            return newest
    return None


def check_servable(row: ModelVersion, *, demo_mode: bool) -> None:
    """Refuse an unapproved version outside demo mode."""
    if ModelStatus(row.status) not in APPROVED_STATUSES and not demo_mode:
        raise ModelNotApprovedError(MSG_NOT_APPROVED.format(version=row.version, status=row.status))


def loaded(row: ModelVersion, scorer: ScorerProtocol) -> LoadedModel:
    return LoadedModel(scorer=scorer, version=row.version, status=ModelStatus(row.status))


def bundle_path(source_uri: str) -> Path | None:
    """The directory of a ``bundle:`` source URI, or ``None`` for other sources."""
    return Path(source_uri[len(BUNDLE_PREFIX):]) if source_uri.startswith(BUNDLE_PREFIX) else None
