"""Plain functions behind the service's CLI commands (``vroegsignaal serve``, ``db upgrade``, ``audit-verify``,
``purge``, ``export-decisions``, ``promote``, ``issue-demo-tokens``). The typer wiring lives in ``vroegsignaal.cli``.

Each takes optional :class:`Settings` (the environment's when omitted), does its work in one transaction, and
returns a typed result the CLI prints; errors are :class:`~vroegsignaal.errors.VroegsignaalError` with a clear
message.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from vroegsignaal.errors import VroegsignaalError
from vroegsignaal.schemas.enums import ModelStatus, Role
from vroegsignaal.service.audit import AuditCheckpoint, AuditVerification, verify_audit_log
from vroegsignaal.service.db import (
    create_db_engine,
    create_session_factory,
    database_url_or_raise,
    ensure_sqlite_folder,
    timed_out,
)
from vroegsignaal.service.export import ExportReport
from vroegsignaal.service.export import export_decisions as _export_decisions
from vroegsignaal.service.migrate import (
    current_revision,
    require_migrated,
    require_sqlite_file,
    upgrade_database,
)
from vroegsignaal.service.registry import alias_mirror
from vroegsignaal.service.retention import PurgeReport, purge_expired
from vroegsignaal.service.security import DEMO_MUNICIPALITY, DEMO_TEAM, Caller
from vroegsignaal.service.security import issue_demo_tokens as _issue_demo_tokens
from vroegsignaal.service.settings import Settings, get_maintenance_settings, get_settings
from vroegsignaal.service.serving import default_scorer_loader, load_version
from vroegsignaal.service.versions import change_status, get_version_or_raise

if TYPE_CHECKING:
    import uvicorn

MSG_TIMED_OUT = (
    "the database did not finish within {seconds} s (VROEGSIGNAAL_DB_TIMEOUT_SECONDS): another transaction held a "
    "lock this command needed; nothing was changed, run the command again"
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _operator() -> str:
    """The token-subject-like name of the person at the command line (their login, never a resident's data)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """A session on the service's database, which must exist and be migrated (a clear error otherwise); its
    statements may run long on a big database, but a silent network or a lock held by a stuck transaction ends them
    (``db_timeout_seconds``)."""
    require_sqlite_file(settings.database_url)
    engine = create_db_engine(
        settings.database_url, pool_size=1, connect_timeout=settings.db_connect_timeout_seconds,
        timeout_seconds=settings.db_timeout_seconds, long_statements=True,
        pooler=settings.db_pooler,
    )
    try:
        require_migrated(engine)
        with create_session_factory(engine)() as session:
            yield session
    except DBAPIError as error:
        if timed_out(error):
            raise VroegsignaalError(MSG_TIMED_OUT.format(seconds=settings.db_timeout_seconds)) from None
        raise
    finally:
        engine.dispose()


def server_config(
    settings: Settings, *, host: str | None = None, port: int | None = None, log_level: str | None = None
) -> uvicorn.Config:
    """How uvicorn runs the service, for ``vroegsignaal serve`` and the demo alike."""
    import uvicorn  # noqa: PLC0415 - only the serving process needs it

    from vroegsignaal.service.app import create_app  # noqa: PLC0415 - keeps the other commands light

    return uvicorn.Config(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=(log_level or settings.log_level).lower(),
        # The C parser (a dependency): ~0.07 ms (4%) less per one-household scoring request than uvicorn's
        # pure-Python h11 here (bench/RESULTS.md, "Scoring service over HTTP").
        http="httptools",
        access_log=False,  # our middleware logs the route template, uvicorn's log would show the raw path
    )


def serve(settings: Settings | None = None, *, host: str | None = None, port: int | None = None,
          upgrade: bool = True) -> None:
    """Run the service with uvicorn (migrating the database first unless ``upgrade`` is false)."""
    import uvicorn  # noqa: PLC0415 - only the serving process needs it

    settings = settings or get_settings()
    # Checked here, not only where the app builds its engine: uvicorn would report that as a failed start-up.
    database_url_or_raise(settings.database_url)
    # uvicorn configures only its own loggers; ours (access lines, warnings) go to stderr in the same shape.
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if upgrade:
        upgrade_database(settings.database_url)
    else:
        # Replicas behind a separate migration job: a database not yet (or no longer) at the newest migration
        # would answer every write with "database unavailable" while /ready said ready.
        require_sqlite_file(settings.database_url)
        engine = create_db_engine(
            settings.database_url, pool_size=1, connect_timeout=settings.db_connect_timeout_seconds,
            pooler=settings.db_pooler,
        )
        try:
            require_migrated(engine)
        finally:
            engine.dispose()
    uvicorn.Server(server_config(settings, host=host, port=port)).run()


def db_upgrade(settings: Settings | None = None, *, revision: str = "head") -> tuple[str | None, str | None]:
    """Create or migrate the service database to ``revision``; return the migration it was at before and is at
    after (an upgrade never goes back: a database already past ``revision`` stays where it is)."""
    database_url = (settings or get_maintenance_settings()).database_url
    ensure_sqlite_folder(database_url)  # an upgrade may create the database, and its folder
    try:
        before = current_revision(database_url)
    except DBAPIError:
        before = None  # the upgrade below reports what is wrong
    upgrade_database(database_url, revision=revision)
    return before, current_revision(database_url)


def audit_verify(
    settings: Settings | None = None, *, checkpoints: Sequence[AuditCheckpoint] = ()
) -> AuditVerification:
    """Walk the audit log's hash chain; ``result.ok`` is false when any record was edited, deleted or reordered, or
    a checkpoint (a record copied elsewhere earlier) is no longer in the chain as it was."""
    with _session(settings or get_maintenance_settings()) as session, session.begin():
        return verify_audit_log(session, checkpoints=checkpoints)


def purge(settings: Settings | None = None, *, now: dt.datetime | None = None) -> PurgeReport:
    """Delete data past its retention period and report what was deleted per table."""
    settings = settings or get_maintenance_settings()
    with _session(settings) as session:
        return purge_expired(session, settings=settings, now=now or _now(), actor=_operator())


def export_decisions(
    out_dir: Path,
    settings: Settings | None = None,
    *,
    municipality: str | None = None,
    since: dt.date | None = None,
) -> ExportReport:
    """Write decisions, signals and household facts as labelled data for retraining into ``out_dir``."""
    with _session(settings or get_maintenance_settings()) as session:
        return _export_decisions(
            session, out_dir=out_dir, municipality=municipality, since=since, actor=_operator(), now=_now()
        )


def promote(version: str, settings: Settings | None = None, *, comment: str | None = None) -> ModelStatus:
    """Make an approved version the champion from the command line (as an admin); a running service picks it up
    on its next reload (``POST /v1/admin/reload``)."""
    settings = settings or get_maintenance_settings()
    caller = Caller(subject=_operator(), role=Role.ADMIN)
    mirror = alias_mirror(settings.mlflow_tracking_uri) if settings.model_uri else None
    with _session(settings) as session, session.begin():
        source_uri = get_version_or_raise(session, version).source_uri
    # Loaded first, as a promotion through the service is: a version that cannot be served is never promoted (the
    # champion it would retire keeps serving).
    load_version(default_scorer_loader(settings), version, source_uri)
    with _session(settings) as session, session.begin():
        row = change_status(
            session, version=version, target=ModelStatus.CHAMPION, caller=caller, comment=comment, now=_now(),
            mirror=mirror,
        )
        return ModelStatus(row.status)


def issue_demo_tokens(
    settings: Settings | None = None, *, municipality: str = DEMO_MUNICIPALITY, team: str = DEMO_TEAM
) -> dict[str, str]:
    """One bearer token per role (role value → token); demo mode only."""
    tokens = _issue_demo_tokens(settings or get_settings(), municipality=municipality, team=team)
    return {role.value: token for role, token in tokens.items()}
