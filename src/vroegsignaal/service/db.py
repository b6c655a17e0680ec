"""Database engines and sessions: SQLite by default, PostgreSQL through the same code.

SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` transactions, so concurrent writers queue for the one write
lock instead of failing halfway (and the audit chain can never fork); within a process they queue on a lock of
our own, which wakes the next one at once instead of SQLite's polling. A short SQLite write can
run on the event loop itself when the write lock is free at that moment (:func:`run_write`), saving the hop to a
worker thread. PostgreSQL connections are checked before use (``pool_pre_ping``), so after an outage the pool
replaces dead connections by itself. The service's PostgreSQL engine bounds every wait for the database by the setting
``db_timeout_seconds`` (:func:`network_timeouts`, :func:`server_timeouts`, :class:`AnswerDeadlineConnection`), so a
frozen host, a silent network or a lock held by a stuck transaction makes a request fail (503) instead of hang. Behind
a connection pooler (PgBouncer) the engine keeps nothing on the server beyond a transaction.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from vroegsignaal.errors import ConfigError

logger = logging.getLogger("vroegsignaal.service")

SQLITE_BUSY_TIMEOUT_SECONDS = 30
#: The server cancels a statement over ``db_timeout_seconds`` itself and answers at once; the service gives up on a
#: connection this much later, when no answer came at all.
NO_ANSWER_GRACE_SECONDS = 5
#: Unanswered TCP keepalive probes after which a silent peer counts as gone.
KEEPALIVE_PROBES = 3
MSG_NO_ANSWER = (
    "the database gave no answer within {seconds} s (db_timeout_seconds plus {grace} s); the connection was closed"
)
#: PostgreSQL's statement, lock and idle-in-transaction timeouts: what ``db_timeout_seconds`` sets off on the server.
TIMEOUT_SQLSTATES = frozenset({"57014", "55P03", "25P03"})
_HOLDS_WRITER = "vroegsignaal_holds_writer_lock"
#: Set while a transaction must not wait for SQLite's write lock (see :func:`run_write`).
_NO_WAIT: ContextVar[bool] = ContextVar("vroegsignaal_no_wait_for_writer", default=False)

# The messages about DATABASE_URL never quote it: it holds the database password.
MSG_URL_NOT_A_URL = (
    "DATABASE_URL: not a database URL; write it as dialect+driver://user:password@host:port/database, "
    "e.g. postgresql+psycopg://... (PostgreSQL) or sqlite:///var/service.db"
)
MSG_URL_POSTGRES_SCHEME = (
    "DATABASE_URL: the scheme 'postgres://' (as some providers write it) is not a SQLAlchemy dialect; "
    "write the same URL with postgresql+psycopg:// instead"
)
MSG_URL_NO_DRIVER = (
    "DATABASE_URL: no installed database driver for the scheme '{scheme}://'; "
    "use postgresql+psycopg:// (PostgreSQL) or sqlite:/// (SQLite)"
)

T = TypeVar("T")


class WriterBusyError(Exception):
    """A transaction begun inside :func:`without_waiting` found SQLite's write lock taken; nothing was done."""


def database_url_or_raise(url: str) -> URL:
    """``url`` (the setting ``database_url``) parsed, or :class:`ConfigError` when it cannot be parsed or
    names no installed dialect and driver. Every engine on the setting is built through here, so a mistyped
    URL gives one clear message instead of SQLAlchemy's traceback."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(MSG_URL_NOT_A_URL) from None
    if parsed.get_backend_name() == "postgres":
        raise ConfigError(MSG_URL_POSTGRES_SCHEME)
    try:
        parsed.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        raise ConfigError(MSG_URL_NO_DRIVER.format(scheme=parsed.drivername)) from None
    return parsed


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite database file (a fresh checkout has no ``var/``); other URLs are left alone."""
    parsed = database_url_or_raise(url)
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def create_db_engine(
    url: str, *, pool_size: int = 5, connect_timeout: int = 5, timeout_seconds: int | None = None,
    long_statements: bool = False, pooler: bool = False,
) -> Engine:
    """An engine for ``url`` with the settings this service relies on (see module docstring).

    On PostgreSQL, ``timeout_seconds`` (the setting ``db_timeout_seconds``) bounds the waits for the database:

    * the service (``long_statements=False``) gets every bound of :func:`network_timeouts` and
      :func:`server_timeouts`, waits at most that long for a pooled connection, and gives up on a connection that has
      not answered for ``timeout_seconds`` plus :data:`NO_ANSWER_GRACE_SECONDS` (:class:`AnswerDeadlineConnection`);
    * the maintenance commands (``long_statements=True``: purge, export, audit-verify, promote) get the network bounds
      and ``lock_timeout`` only, as a purge or export on a big database may rightly run for minutes;
    * ``None`` bounds nothing: the tests' own engines. Migrations use an engine of their own without bounds (replicas
      wait on each other's migration lock, and a migration may rewrite a big table).

    ``pooler`` (the setting ``db_pooler``): ``url`` leads to a connection pooler such as PgBouncer, which passes no
    start-up options on to the server and, in transaction mode, gives each transaction whichever server connection
    is free. Then nothing may outlive a transaction on the server: no statement is prepared there
    (:data:`NO_PREPARED_STATEMENTS`), and the server's bounds are set at the start of every transaction
    (:func:`_bound_every_transaction`) instead of once in the connection's start-up options.

    SQLite ignores all three. An unusable ``url`` raises :class:`ConfigError` (:func:`database_url_or_raise`).
    """
    parsed = database_url_or_raise(url)
    if parsed.get_backend_name() == "sqlite":
        ensure_sqlite_folder(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            pool_size=pool_size,
        )
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {"connect_timeout": connect_timeout}
    if pooler:
        connect_args |= NO_PREPARED_STATEMENTS
    if timeout_seconds is None:
        return create_engine(
            url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size, connect_args=connect_args
        )
    connect_args |= network_timeouts(timeout_seconds)
    bounds = server_timeouts(timeout_seconds, long_statements=long_statements)
    if not pooler:
        # The operator's options (PGOPTIONS, then the URL's: a search_path, say) come after ours: PostgreSQL applies
        # them in order, so theirs win. libpq reads PGOPTIONS only when no options are passed, as they are here.
        connect_args["options"] = " ".join(f"-c {name}={value}" for name, value in bounds.items())
        url_options = parsed.query.get("options", ())
        for extra in (
            os.environ.get("PGOPTIONS", ""), *([url_options] if isinstance(url_options, str) else url_options)
        ):
            if extra.strip():
                connect_args["options"] += f" {extra.strip()}"
    engine = create_engine(
        url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size, pool_timeout=timeout_seconds,
        connect_args=connect_args,
    )
    if pooler:
        _bound_every_transaction(engine, bounds)
    if not long_statements:
        deadline = timeout_seconds + NO_ANSWER_GRACE_SECONDS

        @event.listens_for(engine, "do_connect")
        def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> AnswerDeadlineConnection:
            connection = AnswerDeadlineConnection.connect(*cargs, **cparams)
            connection.answer_deadline_seconds = deadline
            return connection

    return engine


def network_timeouts(seconds: int) -> dict[str, Any]:
    """libpq connection parameters under which a silent network ends a connection within about ``seconds``: TCP
    keepalives probe a connection that has been silent for a quarter of ``seconds``, and :data:`KEEPALIVE_PROBES`
    unanswered probes, or data unacknowledged for ``seconds`` (``tcp_user_timeout``, in milliseconds), end it. A
    frozen host or a partition that drops packets becomes an error instead of an endless ``recv()``."""
    probe_seconds = max(1, seconds // (KEEPALIVE_PROBES + 1))
    return {
        "keepalives": 1,
        "keepalives_idle": probe_seconds,
        "keepalives_interval": probe_seconds,
        "keepalives_count": KEEPALIVE_PROBES,
        "tcp_user_timeout": seconds * 1000,
    }


def server_timeouts(seconds: int, *, long_statements: bool = False) -> dict[str, str]:
    """PostgreSQL's own bounds of about ``seconds``: ``lock_timeout`` (a lock held by a stuck transaction) and,
    unless ``long_statements``, ``statement_timeout`` and ``idle_in_transaction_session_timeout`` (a client that
    stopped in the middle of a transaction loses it, and its locks). A maintenance export writes files inside its
    transaction."""
    server = {"lock_timeout": f"{seconds}s"}
    if not long_statements:
        server |= {"statement_timeout": f"{seconds}s", "idle_in_transaction_session_timeout": f"{seconds}s"}
    return server


#: psycopg prepares a statement on the server once a connection has run it five times (``prepare_threshold``).
#: Behind a pooler in transaction mode the next transaction may run on another server connection, which does not
#: know the statement, or has one of the same name from another client ("prepared statement "_pg3_0" already
#: exists", PgBouncer before 1.21 or with ``max_prepared_statements = 0``).
NO_PREPARED_STATEMENTS: dict[str, Any] = {"prepare_threshold": None}


def _bound_every_transaction(engine: Engine, bounds: dict[str, str]) -> None:
    """Set ``bounds`` (server settings) in each transaction's first statement, ``set_config(..., true)`` (that is
    ``SET LOCAL``: it ends with the transaction and never reaches the pooler's next client).

    It runs as part of the dialect's begin, so a failure there is handled as any statement's (a lost connection is
    invalidated; the error is SQLAlchemy's), where an event listener's exception would bypass that."""
    sql = "SELECT " + ", ".join(f"set_config('{name}', '{value}', true)" for name, value in bounds.items())
    begin = engine.dialect.do_begin

    def do_begin(dbapi_connection: Any) -> None:
        begin(dbapi_connection)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    engine.dialect.do_begin = do_begin  # type: ignore[method-assign]


#: "prepared statement ... already exists" / "... does not exist": what a server connection shared by a pooler in
#: transaction mode answers when the service prepares statements (see :data:`NO_PREPARED_STATEMENTS`).
PREPARED_STATEMENT_SQLSTATES = frozenset({"42P05", "26000"})


def lost_prepared_statement(error: DBAPIError) -> bool:
    """Whether ``error`` says a prepared statement was missing or already there: a pooler in transaction mode
    without the setting ``db_pooler``."""
    return getattr(error.orig, "sqlstate", None) in PREPARED_STATEMENT_SQLSTATES


def describe_failure(error: DBAPIError) -> str:
    """How a log line names a database failure: its kind and class, and the setting that bears on it (never the
    driver's message, which may quote data)."""
    kind = type(error.orig).__name__
    if timed_out(error):
        return f"timed out ({kind}, VROEGSIGNAAL_DB_TIMEOUT_SECONDS)"
    if lost_prepared_statement(error):
        return f"unavailable ({kind}: behind a connection pooler? set VROEGSIGNAAL_DB_POOLER=true)"
    return f"unavailable ({kind})"


def timed_out(error: DBAPIError) -> bool:
    """Whether ``error`` is a bound of ``db_timeout_seconds``: a timeout of the server or :class:`NoAnswerError`."""
    return getattr(error.orig, "sqlstate", None) in TIMEOUT_SQLSTATES or isinstance(error.orig, NoAnswerError)


class NoAnswerError(psycopg.OperationalError):
    """The database did not answer within the deadline; the connection was closed (SQLAlchemy counts it as a
    disconnect, so the pool replaces it)."""


class AnswerDeadlineConnection(psycopg.Connection):  # type: ignore[type-arg]
    """A psycopg connection that stops waiting for the server after ``answer_deadline_seconds`` and closes itself.

    The last of the bounds: TCP keepalives are answered by a host whose database is frozen, or by a connection pooler
    or proxy in between that keeps the socket open, and the server's own timeouts need a server that runs. The wait
    ends in the waiting thread itself, so no other thread ever touches the connection.
    """

    answer_deadline_seconds: float | None = None

    def wait(self, gen: Any, *args: Any, **kwargs: Any) -> Any:
        if self.answer_deadline_seconds is None or kwargs.get("timeout") is not None:
            return super().wait(gen, *args, **kwargs)
        kwargs["timeout"] = self.answer_deadline_seconds
        try:
            return super().wait(gen, *args, **kwargs)
        except psycopg.errors._WaitTimeout:  # noqa: SLF001 - psycopg asks callers of wait() to convert it
            # The answer may still arrive, half-way through the protocol: the connection is never used again.
            self.close()
            raise NoAnswerError(
                MSG_NO_ANSWER.format(seconds=self.answer_deadline_seconds, grace=NO_ANSWER_GRACE_SECONDS)
            ) from None


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module, which would otherwise begin lazily and let two
        # writers read the same state before either takes the write lock.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable in WAL mode except on power loss of the machine itself; FULL costs an fsync per commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # One transaction at a time per process, queued on a lock. SQLite admits one writer (and every transaction
    # here begins IMMEDIATE); a thread it turns away waits in SQLite's busy handler, which polls with sleeps
    # growing to 100 ms, so at 8 concurrent scoring requests the slowest 1% waited ~450 ms. A thread waiting
    # on this lock is woken as soon as the transaction before it has returned its connection. Another process
    # on the same file still queues in the busy handler, and a wait longer than the busy timeout falls back to
    # it.
    writer = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if _NO_WAIT.get():
            _begin_without_waiting(connection, writer)
            return
        if not connection.info.get(_HOLDS_WRITER) and writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_SECONDS):
            connection.info[_HOLDS_WRITER] = True
        _begin_immediate(connection)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # Released when the connection goes back to the pool: after its COMMIT or ROLLBACK, on every path.
        if record.info.pop(_HOLDS_WRITER, False):
            writer.release()


def _begin_without_waiting(connection: Any, writer: threading.Lock) -> None:
    """``BEGIN IMMEDIATE`` only if neither this process nor another holds the write lock; else
    :class:`WriterBusyError` (the lock of this process, if taken here, goes back with the connection)."""
    if not connection.info.get(_HOLDS_WRITER):
        if not writer.acquire(blocking=False):
            raise WriterBusyError
        connection.info[_HOLDS_WRITER] = True
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA busy_timeout = 0")
    try:
        _begin_immediate(connection)
    except OperationalError as error:  # another process writes: SQLITE_BUSY at once
        raise WriterBusyError from error
    finally:
        driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")


def _begin_immediate(connection: Any) -> None:
    """``BEGIN IMMEDIATE`` on the driver's connection (through Core this one statement cost ~15 µs more on every
    transaction); a failure comes out as SQLAlchemy's error, as it would through Core."""
    try:
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as error:
        raise DBAPIError.instance("BEGIN IMMEDIATE", (), error, sqlite3.Error) from error


@contextmanager
def without_waiting() -> Iterator[None]:
    """Within this block a SQLite transaction that would wait for the write lock raises :class:`WriterBusyError`
    at its start instead (PostgreSQL transactions are not affected)."""
    token = _NO_WAIT.set(True)
    try:
        yield
    finally:
        _NO_WAIT.reset(token)


async def run_write(engine: Engine, work: Callable[[], T], *, short: bool) -> T:
    """Run ``work``, one transaction on ``engine``, from an ``async`` endpoint.

    A ``short`` piece of work on SQLite runs right here on the event loop when the write lock is free at that
    moment: SQLite takes one writer at a time anyway, and the hop to a worker thread and back costs about as much
    as scoring one household (measured in ``bench/service.py``). When the lock is taken it never waits on the
    loop (the holder may need the loop to finish, and the loop would stall for everyone): it runs on the thread
    pool like everything else, as does all work on PostgreSQL, whose network waits must not hold up the loop.
    A busy lock is found when the transaction begins, before anything is written, so ``work`` then simply runs
    again on the thread pool.
    """
    if short and engine.dialect.name == "sqlite":
        try:
            with without_waiting():
                return work()
        except WriterBusyError:
            pass
    return await run_in_threadpool(work)


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (responses are built after the transaction)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def database_reachable(engine: Engine) -> bool:
    """Whether a trivial query succeeds now (a pooler's prepared-statement clash, a setting to fix, is logged)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except DBAPIError as error:
        if lost_prepared_statement(error):
            logger.warning("readiness check: database %s", describe_failure(error))
        return False


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session inside one transaction: committed when the block ends, rolled back on any error."""
    with factory() as session, session.begin():
        yield session
