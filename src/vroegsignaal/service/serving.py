"""What one running service holds (:class:`Services`), and how it picks, loads and reloads its model.

At start-up the service registers the bundles in ``models_dir`` (and the registry version behind ``model_uri``) as
candidates, then serves the champion. Outside demo mode an unapproved version is never served: without a champion the
service starts without a model (``/ready`` says so, scoring answers 503) until an admin promotes an approved version
and reloads. In demo mode it serves the newest version anyway, and every response says so in a header.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from sqlalchemy import Engine, Integer, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from vroegsignaal.errors import ConflictError, ModelBundleError, ModelNotApprovedError, VroegsignaalError
from vroegsignaal.schemas.api import ReloadResponse
from vroegsignaal.schemas.enums import ModelStatus
from vroegsignaal.service import advisory_locks
from vroegsignaal.service.audit import AuditAction, AuditEntry, audit
from vroegsignaal.service.clock import dutch_today
from vroegsignaal.service.db import transaction
from vroegsignaal.service.metrics import ServiceMetrics
from vroegsignaal.service.models import ModelStatusEvent, ModelVersion, ReviewItem, Score
from vroegsignaal.service.scores import STATUS_OPEN
from vroegsignaal.service.registry import download_registry_bundle, parse_model_uri, resolve_registry_version
from vroegsignaal.service.runtime import (
    BundleInfo,
    FeatureBuilder,
    LoadedModel,
    ModelCard,
    ModelHolder,
    ScorerProtocol,
    discover_bundles,
    load_scorer_from_bundle,
    read_bundle_info,
)
from vroegsignaal.service.security import Caller, TokenVerifier
from vroegsignaal.service.settings import Settings
from vroegsignaal.service.versions import (
    REGISTRY_PREFIX,
    RegistryMirror,
    bundle_path,
    change_status,
    check_servable,
    events_of,
    get_version_or_raise,
    loaded,
    register_bundles,
    register_version,
    servable_version,
)

logger = logging.getLogger("vroegsignaal.service")

INJECTED_PREFIX = "injected:"
DEMO_UNAPPROVED = "unapproved-model"
DEMO_MODE = "demo-mode"
#: The standard reason of an open case whose model was rejected after it scored the case.
MODEL_WITHDRAWN = "model_withdrawn"
MSG_NOTHING_TO_SERVE = "there is no champion to serve: promote an approved version first"
MSG_CHANGED_WHILE_LOADING = (
    "the version to serve changed while version {version} was loading (promoted or rejected meanwhile): "
    "nothing was swapped; reload again"
)
MSG_CANNOT_LOAD = "cannot load a model version from a {source!r} source: only bundle directories and models:/ URIs"
MSG_SOURCE_HOLDS_OTHER_VERSION = (
    "model version {version} cannot be served: its source now holds version {found} (the bundle folder was "
    "overwritten after registration); restore the folder, or have the new version approved and promote it"
)

ScorerLoader = Callable[[str], ScorerProtocol]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class QueueReader:
    """Reads the database's numbers for the metrics in a worker of its own, so a scrape can stop waiting; while a
    read hangs (a database that does not answer), later scrapes wait for that read rather than start more."""

    def __init__(self) -> None:
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics-queue")
        self._reading: Future[dict[str, tuple[int, int]]] | None = None
        self._lock = threading.Lock()

    def read(self, services: Services, *, timeout: float) -> dict[str, tuple[int, int]] | None:
        """Backlog and overdue per municipality (the served model's status refreshed on the way), or ``None``
        when the database did not answer within ``timeout`` seconds or failed (or the app is shutting down)."""
        try:
            with self._lock:  # scrapes at the same moment share one read
                if self._reading is None or self._reading.done():
                    self._reading = self._worker.submit(_read_queue, services)
                reading = self._reading
            return reading.result(timeout=timeout)
        except (FutureTimeout, CancelledError, SQLAlchemyError, RuntimeError):  # the last two: shut down
            return None

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


def _read_queue(services: Services) -> dict[str, tuple[int, int]]:
    served_status(services)
    return queue_counts(services)


@dataclass
class Services:
    """Everything the routes need, built once per app by the lifespan."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    holder: ModelHolder
    verifier: TokenVerifier
    metrics: ServiceMetrics
    build_features: FeatureBuilder
    load_scorer: ScorerLoader
    injected: ScorerProtocol | None = None
    mirror: RegistryMirror | None = None
    clock: Callable[[], dt.datetime] = field(default=utc_now)
    queue_reader: QueueReader = field(default_factory=QueueReader)

    def now(self) -> dt.datetime:
        return self.clock()

    def demo_state(self) -> str | None:
        """The value of the demo header: ``None`` outside demo mode."""
        if not self.settings.demo_mode:
            return None
        model = self.holder.current
        return DEMO_UNAPPROVED if model is None or not model.approved else DEMO_MODE


def default_scorer_loader(settings: Settings) -> ScorerLoader:
    """Loads a version from its source URI: a bundle directory or the MLflow registry."""

    def load(source_uri: str) -> ScorerProtocol:
        path = bundle_path(source_uri)
        moved = settings.models_dir / path.name if path is not None and settings.models_dir is not None else None
        if path is not None and not path.exists() and moved is not None and moved.is_dir():
            # The models folder moved (another mount, another working directory): the bundle keeps its folder
            # name. load_version still checks that the folder holds the registered version.
            path = moved
        if path is None and source_uri.startswith(REGISTRY_PREFIX):
            path = download_registry_bundle(
                source_uri, cache_dir=settings.model_cache_dir, tracking_uri=settings.mlflow_tracking_uri
            )
        if path is None:
            raise ConflictError(MSG_CANNOT_LOAD.format(source=source_uri.split(":", 1)[0]))
        return load_scorer_from_bundle(path)

    return load


def load_version(load_scorer: ScorerLoader, version: str, source_uri: str) -> ScorerProtocol:
    """The scorer of ``version`` from its source, refused when the source now holds another model: a bundle folder
    overwritten after registration (``train --overwrite`` into it) would otherwise be served, and its scores stored,
    under the name of the version the ethics reviewer approved."""
    scorer = load_scorer(source_uri)
    if scorer.model_version != version:
        raise ModelBundleError(MSG_SOURCE_HOLDS_OTHER_VERSION.format(version=version, found=scorer.model_version))
    return scorer


@dataclass(frozen=True)
class RegistryVersion:
    """A registry version that ``MODEL_URI`` (or training's ``@candidate``) points at, found and downloaded."""

    name: str
    #: ``models:/NAME/VERSION``: the registry version itself, whatever alias points where later.
    source_uri: str
    info: BundleInfo


def fetch_registry_versions(settings: Settings) -> list[RegistryVersion]:
    """With ``MODEL_URI``: the registry version it points at now and the newest one training registered (alias
    ``candidate``; on a fresh install no version is ``@champion`` yet), each that can be found.

    Called before the registration's transaction opens: the registry may be slow, or retrying a server that does not
    answer, and a transaction waiting for it would hold the registration lock (other replicas wait) until
    PostgreSQL ends it (``db_timeout_seconds``). A version that cannot be found is logged and left out: the service
    must start without one, for an admin to promote a version through it."""
    if not settings.model_uri:
        return []
    name, _alias, _version = parse_model_uri(settings.model_uri)
    tracking_uri = settings.mlflow_tracking_uri
    found = []
    for uri in dict.fromkeys((settings.model_uri, f"{REGISTRY_PREFIX}{name}@{ModelStatus.CANDIDATE.value}")):
        try:
            pinned = f"{REGISTRY_PREFIX}{name}/{resolve_registry_version(uri, tracking_uri=tracking_uri)}"
            info = read_bundle_info(
                download_registry_bundle(pinned, cache_dir=settings.model_cache_dir, tracking_uri=tracking_uri)
            )
        except (VroegsignaalError, OSError) as error:
            logger.warning("registry model %s not registered: %s", uri, error)
            continue
        found.append(RegistryVersion(name, pinned, info))
    return found


def register_sources(
    session: Session,
    services: Services,
    *,
    registry: Sequence[RegistryVersion],
    now: dt.datetime,
    by: Caller | None = None,
) -> list[str]:
    """Register what the service can find as candidates: the bundles in the models folder and the ``registry``
    versions (:func:`fetch_registry_versions`, called before this transaction). Registered by ``by`` (discovery on
    request), else by the service itself. Returns the versions new to the service."""
    # Replicas starting together register the same versions: the second waits for the first, then finds them known.
    advisory_locks.lock_for_transaction(session.connection(), advisory_locks.REGISTRATION)
    new = register_bundles(session, discover_bundles(services.settings.models_dir), now=now, by=by)
    for found in registry:
        if found.info.version in new or session.get(ModelVersion, found.info.version) is not None:
            continue
        register_version(
            session,
            version=found.info.version,
            model_name=found.name,
            source_uri=found.source_uri,
            card=found.info.card,
            actor=by.subject if by is not None else "system",
            role=by.role.value if by is not None else "system",
            now=now,
        )
        new.append(found.info.version)
    return new


def _register_sources(
    session: Session, services: Services, *, registry: Sequence[RegistryVersion], now: dt.datetime
) -> None:
    register_sources(session, services, registry=registry, now=now)
    if services.injected is not None:
        register_version(
            session,
            version=services.injected.model_version,
            model_name="injected",
            source_uri=f"{INJECTED_PREFIX}{services.injected.model_version}",
            card=ModelCard(None, None),
            actor="system",
            role="system",
            now=now,
        )


def _load(services: Services, row: ModelVersion) -> LoadedModel:
    check_servable(row, demo_mode=services.settings.demo_mode)
    return loaded(row, _scorer_of(services, row.version, row.source_uri))


def _scorer_of(services: Services, version: str, source_uri: str) -> ScorerProtocol:
    """The injected scorer when it is ``version``, else the version loaded from its source."""
    if services.injected is not None and version == services.injected.model_version:
        return services.injected
    return load_version(services.load_scorer, version, source_uri)


def start_model(services: Services) -> LoadedModel | None:
    """Register the known sources and load the version to serve (see the module docstring)."""
    registry = fetch_registry_versions(services.settings)
    now = services.now()  # after the registry answered: audit records are written in time order
    with transaction(services.sessions) as session:
        _register_sources(session, services, registry=registry, now=now)
        if services.injected is not None:
            row = get_version_or_raise(session, services.injected.model_version)
        else:
            row = servable_version(session, demo_mode=services.settings.demo_mode)
    try:
        model = _load(services, row) if row is not None else None
    except ModelNotApprovedError:
        raise  # the configuration is wrong (an unapproved version outside demo mode): not a missing file
    except (VroegsignaalError, OSError) as error:
        # The service starts without a model rather than not at all: /ready says so, scoring answers 503, and a
        # reload or a promotion serves a version once its files are back (the pages and approvals keep working).
        logger.error("model version %s could not be loaded, serving none: %s", row.version if row else "-", error)
        model = None
    services.holder.swap(model)
    services.metrics.set_model(model.version if model else None, model.status.value if model else None)
    if model is None:
        logger.warning("no approved model to serve: scoring answers 503 until an admin promotes one")
    return model


def reload_model(services: Services, *, caller: Caller) -> ReloadResponse:
    """Serve the current champion (or the demo choice) from now on; in-flight requests finish on the old one."""
    served = services.holder.current
    registry = fetch_registry_versions(services.settings)
    now = services.now()  # after the registry answered: audit records are written in time order
    with transaction(services.sessions) as session:
        # The registration lock first, then rows, then the audit chain's head (a replica starting takes them in that
        # order too, and so does every writer of cases: the head last).
        advisory_locks.lock_for_transaction(session.connection(), advisory_locks.REGISTRATION)
        withdrawn_cases = None
        if served is not None and _status_now(session, served.version) is ModelStatus.REJECTED:
            # Rejected through another replica while this one kept serving it. The rejection waited for the scoring
            # requests in flight (advisory_locks.MODEL_REJECTION), so this finds nothing left to withdraw unless the
            # database was changed by other means: a safety net, idempotent.
            withdrawn_cases = _withdraw_cases(session, services, version=served.version, now=now)
        register_sources(session, services, registry=registry, now=now)  # takes the lock it already holds
        if withdrawn_cases is not None:
            _audit_withdrawal(session, version=served.version, cases=withdrawn_cases, caller=caller, now=now)
        row = servable_version(session, demo_mode=services.settings.demo_mode)
        if row is None:
            if served is None:
                raise ConflictError(MSG_NOTHING_TO_SERVE)
            # The version this process serves is no longer servable (rejected in use, through another replica):
            # it stops here too.
            _audit_reload(session, caller, serving=None, previous=served.version, now=now)
        else:
            check_servable(row, demo_mode=services.settings.demo_mode)
            chosen = (row.version, row.source_uri)
    if row is None:
        _serve_none(services, version=served.version)
        return ReloadResponse(previous_version=served.version, serving_version=None, approved=False)
    # Loading reads a bundle or downloads one from the MLflow registry, which can take long: outside any
    # transaction, so that no lock is held meanwhile and PostgreSQL does not end a session left idle in its
    # transaction (``idle_in_transaction_session_timeout``, see ``service/db.py``).
    scorer = _scorer_of(services, *chosen)
    now = services.now()  # the reload is recorded when it happens, after records written while it loaded
    with transaction(services.sessions) as session:
        row = servable_version(session, demo_mode=services.settings.demo_mode)
        if row is None or (row.version, row.source_uri) != chosen:
            # Another replica promoted or rejected a version while this one loaded: nothing is swapped.
            raise ConflictError(MSG_CHANGED_WHILE_LOADING.format(version=chosen[0]))
        model = loaded(row, scorer)
        previous = _record_reload(session, services, model, caller=caller, now=now)
    # Swap only after the audit record is committed: a reload that is not recorded does not happen.
    return _swap(services, model, previous)


def _record_reload(
    session: Session, services: Services, model: LoadedModel, *, caller: Caller, now: dt.datetime
) -> LoadedModel | None:
    """Audit that ``model`` is about to be served (in the caller's transaction); returns the one served now."""
    previous = services.holder.current
    _audit_reload(session, caller, serving=model.version, previous=previous.version if previous else None, now=now)
    return previous


def _audit_reload(
    session: Session, caller: Caller, *, serving: str | None, previous: str | None, now: dt.datetime
) -> None:
    """The audit record of a reload: the version served from now on (``None``: no model any more) and the one before."""
    version = serving or previous
    audit(
        session,
        AuditEntry.by(
            caller,
            municipality_code=caller.municipality,
            action=AuditAction.MODEL_RELOAD,
            object_id=version,
            model_version=version,
            detail={"previous": previous, "serving": serving},
        ),
        now=now,
    )


def _swap(services: Services, model: LoadedModel, previous: LoadedModel | None) -> ReloadResponse:
    services.holder.swap(model)
    services.metrics.set_model(model.version, model.status.value)
    return ReloadResponse(
        previous_version=previous.version if previous else None, serving_version=model.version, approved=model.approved
    )


def promote_and_serve(services: Services, *, version: str, caller: Caller, comment: str | None) -> ReloadResponse:
    """Make ``version`` the champion and serve it. The scorer is loaded first, so a version that cannot be loaded
    is never promoted; the status change and the reload are recorded in one transaction."""
    with transaction(services.sessions) as session:
        source_uri = get_version_or_raise(session, version).source_uri
    scorer = _scorer_of(services, version, source_uri)
    now = services.now()
    with transaction(services.sessions) as session:
        row = change_status(
            session, version=version, target=ModelStatus.CHAMPION, caller=caller, comment=comment, now=now,
            mirror=services.mirror,
        )
        model = loaded(row, scorer)
        previous = _record_reload(session, services, model, caller=caller, now=now)
    return _swap(services, model, previous)


def review_model_version(
    services: Services, *, version: str, approve: bool, caller: Caller, comment: str
) -> tuple[ModelVersion, list[ModelStatusEvent]]:
    """An ethics reviewer's verdict: approve or reject ``version`` (the life cycle and the role are checked by
    :func:`~vroegsignaal.service.versions.change_status`), and keep the served model's status current.

    Returns the version and its status history, oldest first. The API and the pages both review through here.
    """
    target = ModelStatus.APPROVED if approve else ModelStatus.REJECTED
    served = services.holder.current
    withdrawn = target is ModelStatus.REJECTED and served is not None and served.version == version
    now = services.now()
    with transaction(services.sessions) as session:
        withdrawn_cases = None
        if target is ModelStatus.REJECTED:  # after the scoring requests in flight, which the withdrawal must see
            advisory_locks.lock_for_transaction(session.connection(), advisory_locks.MODEL_REJECTION)
            # The open cases before the audit chain's head, which the status change locks: every writer takes the
            # head last, and a decision or objection on such a case would otherwise deadlock with the rejection.
            # An invalid change rolls this back with the rest.
            withdrawn_cases = _withdraw_cases(session, services, version=version, now=now)
        row = change_status(
            session, version=version, target=target, caller=caller, comment=comment, now=now, mirror=services.mirror
        )
        events = events_of(session, [version])[version]
        if withdrawn_cases is not None:
            _audit_withdrawal(session, version=version, cases=withdrawn_cases, caller=caller, now=now)
        if withdrawn:
            _audit_reload(session, caller, serving=None, previous=version, now=now)
    if withdrawn:
        _serve_none(services, version=version)
    else:
        refresh_status(services, version=version, status=target)
    return row, events


def _status_now(session: Session, version: str) -> ModelStatus | None:
    status = session.scalar(select(ModelVersion.status).where(ModelVersion.version == version))
    return None if status is None else ModelStatus(status)


def _withdraw_cases(session: Session, services: Services, *, version: str, now: dt.datetime) -> int:
    """A rejected model no longer steers the open cases it scored: they switch to the standard approach (standard
    contact, no score shown, placed on the list like the control sample) until a new signal is scored by a model
    in use. How many cases changed (for :func:`_audit_withdrawal`, called once the transaction's rows are
    written: the audit chain's head is the last lock a writer takes)."""
    scored_by_it = select(Score.id).where(Score.model_version == version)
    return session.execute(
        update(ReviewItem)
        .where(ReviewItem.status == STATUS_OPEN, ReviewItem.score_id.in_(scored_by_it))
        .values(
            approach="standard",
            standard_reason=MODEL_WITHDRAWN,
            suggested_intensity=services.settings.standard_intensity.value,
            updated_at=now,  # the case changed: a decision made on the withdrawn advice is refused (decisions.py)
        )
        .execution_options(synchronize_session=False)
    ).rowcount


def _audit_withdrawal(session: Session, *, version: str, cases: int, caller: Caller, now: dt.datetime) -> None:
    audit(
        session,
        AuditEntry.by(
            caller, action=AuditAction.MODEL_ADVICE_WITHDRAWN, model_version=version, detail={"open_cases": cases}
        ),
        now=now,
    )


def _serve_none(services: Services, *, version: str) -> None:
    """Serve no model from now on (requests in flight finish on the one they took)."""
    services.holder.swap(None)
    services.metrics.set_model(None, None)
    logger.warning("model %s is rejected: scoring answers 503 until an admin promotes another version or switches "
                   "to the rule-based order", version)


def refresh_status(services: Services, *, version: str, status: ModelStatus) -> None:
    """Keep the served model's status current after a status change (e.g. approved → champion)."""
    model = services.holder.current
    if model is not None and model.version == version:
        services.holder.swap(LoadedModel(model.scorer, model.version, status))
        services.metrics.set_model(version, status.value)


def served_status(services: Services) -> ModelStatus | None:
    """The served model's status as the database holds it now, kept in the metrics too; ``None`` without a model.

    An ethics reviewer may reject the version through another replica: this one still holds the model, refuses to
    score with it (``MSG_MODEL_REJECTED``), and must say so in ``/ready`` and ``/metrics`` rather than "champion".
    Raises ``DBAPIError`` when the database does not answer.
    """
    model = services.holder.current
    if model is None:
        return None
    with transaction(services.sessions) as session:
        stored = session.scalar(select(ModelVersion.status).where(ModelVersion.version == model.version))
    status = ModelStatus(stored) if stored is not None else model.status
    services.metrics.set_model(model.version, status.value)
    return status


def queue_counts(services: Services) -> dict[str, tuple[int, int]]:
    """Open listed items and overdue items per municipality, for the metrics."""
    today = dutch_today(services.now())
    listed = (ReviewItem.held_until.is_(None)) | (ReviewItem.held_until <= today)
    with transaction(services.sessions) as session:
        rows = session.execute(
            select(
                ReviewItem.municipality_code,
                func.count(),
                func.sum((ReviewItem.deadline < today).cast(type_=Integer)),
            )
            .where(ReviewItem.status == "open", listed)
            .group_by(ReviewItem.municipality_code)
        ).all()
    return {municipality: (int(n), int(overdue or 0)) for municipality, n, overdue in rows}

