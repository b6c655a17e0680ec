"""SQLite transactions of one process queue on a lock of their own: it is released on every way a transaction
ends, so the next one never waits for a transaction that is over. A short write from an async endpoint runs on the
event loop only when nobody holds the write lock, and otherwise never waits there. On PostgreSQL the setting
``db_timeout_seconds`` reaches every connection of the service, and the maintenance commands' connections in part."""

from __future__ import annotations

import asyncio
import gc
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from vroegsignaal.errors import ConfigError
from vroegsignaal.service.db import (
    MSG_URL_NO_DRIVER,
    MSG_URL_NOT_A_URL,
    MSG_URL_POSTGRES_SCHEME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    WriterBusyError,
    create_db_engine,
    create_session_factory,
    database_url_or_raise,
    run_write,
    without_waiting,
)

SERVER_TIMEOUTS = ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")

#: Generous: a released lock lets the other thread through at once; a leaked one would hold it for 30 s.
LIVENESS_SECONDS = 10


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    yield engine
    engine.dispose()


def _another_thread_can_write(engine: Engine) -> bool:
    def write() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (2)"))

    # Keep the pooled connection the transaction used, so the other thread writes through a fresh one.
    with engine.connect():
        thread = threading.Thread(target=write, daemon=True)
        thread.start()
        thread.join(LIVENESS_SECONDS)
    return not thread.is_alive()


def _commit(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))


def _fail_inside(engine: Engine) -> None:
    with pytest.raises(ZeroDivisionError), engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        1 / 0  # noqa: B018 - any error inside the transaction


def _explicit_rollback(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        connection.rollback()


def _two_transactions_in_one_session(engine: Engine) -> None:
    with create_session_factory(engine)() as session:
        with session.begin():
            session.execute(text("INSERT INTO t VALUES (1)"))
        with session.begin():  # the same thread again: must not wait for itself
            session.execute(text("INSERT INTO t VALUES (1)"))


def _connection_dropped(engine: Engine) -> None:
    """Never closed: the pool takes the connection back when it is garbage-collected."""
    connection = engine.connect()
    connection.execute(text("INSERT INTO t VALUES (1)"))
    del connection
    gc.collect()


ENDINGS = [_commit, _fail_inside, _explicit_rollback, _two_transactions_in_one_session, _connection_dropped]


@pytest.mark.parametrize("end_transaction", ENDINGS)
def test_sqlite_writer_lock_is_released_however_the_transaction_ends(
    sqlite_engine: Engine, end_transaction: Callable[[Engine], None]
):
    end_transaction(sqlite_engine)
    assert _another_thread_can_write(sqlite_engine)


def _insert_three(engine: Engine) -> int:
    """Insert a row; the thread it ran on."""
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (3)"))
    return threading.get_ident()


def _select_one(engine: Engine) -> int:
    with engine.begin() as connection:
        connection.execute(text("SELECT 1"))
    return threading.get_ident()


async def _run_write(engine: Engine, work: Callable[[Engine], int], *, short: bool) -> tuple[int, int]:
    """The event loop's thread and the thread ``work`` ran on."""
    return threading.get_ident(), await run_write(engine, lambda: work(engine), short=short)


def test_a_short_write_runs_on_the_event_loop_only_on_sqlite(engine: Engine):
    loop_thread, ran_on = asyncio.run(_run_write(engine, _select_one, short=True))
    assert (ran_on == loop_thread) == (engine.dialect.name == "sqlite")


def test_a_long_write_goes_to_the_thread_pool(sqlite_engine: Engine):
    loop_thread, ran_on = asyncio.run(_run_write(sqlite_engine, _insert_three, short=False))
    assert ran_on != loop_thread


def test_a_write_lock_held_until_the_loop_moves_on_is_not_waited_for_on_the_loop(sqlite_engine: Engine):
    """Like a session that an async dependency closes on the loop after the response: waiting for it on the loop
    would deadlock, so the write goes to the thread pool and runs once the holder lets go."""
    taken, released_by_loop = threading.Event(), threading.Event()
    holder_saw: list[bool] = []

    def hold() -> None:
        with sqlite_engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            taken.set()
            holder_saw.append(released_by_loop.wait(LIVENESS_SECONDS))

    async def main() -> tuple[int, int]:
        asyncio.get_running_loop().call_later(0.2, released_by_loop.set)
        return await _run_write(sqlite_engine, _insert_three, short=True)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert taken.wait(LIVENESS_SECONDS)
    loop_thread, ran_on = asyncio.run(main())
    holder.join(LIVENESS_SECONDS)
    assert holder_saw == [True], "the loop stalled while another transaction held the write lock"
    assert ran_on != loop_thread
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t WHERE x = 3")).scalar() == 1


def test_a_write_of_another_process_is_refused_at_once_and_the_busy_timeout_restored(sqlite_engine: Engine):
    other = sqlite3.connect(sqlite_engine.url.database, isolation_level=None)  # another process's connection
    other.execute("BEGIN IMMEDIATE")
    try:
        with without_waiting(), pytest.raises(WriterBusyError), sqlite_engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert _another_thread_can_write(sqlite_engine)  # our own lock went back with the connection
    with sqlite_engine.begin() as connection:
        timeout_ms = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert connection.execute(text("SELECT count(*) FROM t WHERE x = 1")).scalar() == 0
    assert timeout_ms == SQLITE_BUSY_TIMEOUT_SECONDS * 1000


def _shown(engine: Engine) -> tuple[dict[str, str], dict[str, str], str]:
    """The server's timeouts, the libpq parameters and the search_path of a connection from ``engine``."""
    with engine.connect() as connection:
        server = {name: connection.execute(text(f"SHOW {name}")).scalar_one() for name in SERVER_TIMEOUTS}
        search_path = connection.execute(text("SHOW search_path")).scalar_one()
        parameters = connection.connection.driver_connection.info.get_parameters()
    return server, parameters, search_path


def test_the_installed_psycopg_has_what_the_answer_deadline_relies_on():
    # AnswerDeadlineConnection passes a timeout to Connection.wait and catches its private _WaitTimeout (psycopg
    # 3.3.6 and later): without them every PostgreSQL statement of the service would fail.
    import inspect

    import psycopg

    assert "timeout" in inspect.signature(psycopg.Connection.wait).parameters
    assert issubclass(psycopg.errors._WaitTimeout, Exception)  # noqa: SLF001


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_db_timeout_seconds_reaches_every_connection_of_the_service(make_client, database_url: str):
    client = make_client(db_timeout_seconds=7)
    server, parameters, search_path = _shown(client.app.state.services.engine)
    assert server == dict.fromkeys(SERVER_TIMEOUTS, "7s")
    assert (parameters["keepalives"], parameters["tcp_user_timeout"]) == ("1", "7000")
    # The URL's own options (the tests' schema) still apply: they are added after ours.
    assert search_path.startswith("vs_test_")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_maintenance_connections_wait_for_locks_and_the_network_only_as_long_as_the_setting(database_url: str):
    engine = create_db_engine(database_url, timeout_seconds=7, long_statements=True)
    try:
        server, parameters, _ = _shown(engine)
    finally:
        engine.dispose()
    assert server == {"statement_timeout": "0", "lock_timeout": "7s", "idle_in_transaction_session_timeout": "0"}
    assert (parameters["keepalives"], parameters["tcp_user_timeout"]) == ("1", "7000")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_operators_pgoptions_win_over_the_setting(database_url: str, monkeypatch):
    monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=11s")
    engine = create_db_engine(database_url, timeout_seconds=7)
    try:
        server, _, search_path = _shown(engine)
    finally:
        engine.dispose()
    assert (server["lock_timeout"], server["statement_timeout"]) == ("11s", "7s")
    assert search_path.startswith("vs_test_")  # and the URL's options still apply


def _outside_any_transaction_of_the_engine(engine: Engine) -> dict[str, str]:
    """The server's timeouts on one of ``engine``'s connections, read in a transaction the engine did not begin."""
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            shown = {}
            for name in SERVER_TIMEOUTS:
                cursor.execute(f"SHOW {name}")
                shown[name] = cursor.fetchone()[0]
        raw.rollback()
    finally:
        raw.close()
    return shown


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_behind_a_pooler_the_timeouts_hold_in_each_transaction_and_stay_there(database_url: str):
    engine = create_db_engine(database_url, timeout_seconds=7, pooler=True)
    try:
        server, parameters, search_path = _shown(engine)
        outside = _outside_any_transaction_of_the_engine(engine)
        with engine.connect() as connection:
            prepare_threshold = connection.connection.driver_connection.prepare_threshold
    finally:
        engine.dispose()
    assert server == dict.fromkeys(SERVER_TIMEOUTS, "7s")
    # Set for the transaction only (a pooler hands the server connection to another client after it) ...
    assert outside == dict.fromkeys(SERVER_TIMEOUTS, "0")
    # ... and not in the start-up options, which a pooler does not pass on; the URL's own options still go out.
    assert "statement_timeout" not in parameters.get("options", "")
    assert search_path.startswith("vs_test_")
    assert (parameters["keepalives"], parameters["tcp_user_timeout"]) == ("1", "7000")
    assert prepare_threshold is None  # nothing prepared on a server connection the next transaction may not get


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_behind_a_pooler_maintenance_transactions_wait_for_locks_only_as_long_as_the_setting(
    database_url: str,
):
    engine = create_db_engine(database_url, timeout_seconds=7, long_statements=True, pooler=True)
    try:
        server, _, _ = _shown(engine)
    finally:
        engine.dispose()
    assert server == {"statement_timeout": "0", "lock_timeout": "7s", "idle_in_transaction_session_timeout": "0"}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_direct_connection_prepares_repeated_statements(database_url: str):
    # The default (no pooler): psycopg prepares what a connection runs often, which saves the server's planning.
    engine = create_db_engine(database_url, timeout_seconds=7)
    try:
        with engine.connect() as connection:
            assert connection.connection.driver_connection.prepare_threshold == 5
    finally:
        engine.dispose()


def test_a_database_failure_is_logged_with_the_setting_it_points_to():
    import psycopg
    from sqlalchemy.exc import DBAPIError

    from vroegsignaal.service.db import describe_failure

    def failure(orig: Exception) -> DBAPIError:
        return DBAPIError("SELECT 1", None, orig)

    assert describe_failure(failure(psycopg.errors.DuplicatePreparedStatement())) == (
        "unavailable (DuplicatePreparedStatement: behind a connection pooler? set VROEGSIGNAAL_DB_POOLER=true)"
    )
    assert "VROEGSIGNAAL_DB_POOLER" in describe_failure(failure(psycopg.errors.InvalidSqlStatementName()))
    assert describe_failure(failure(psycopg.errors.QueryCanceled())) == (
        "timed out (QueryCanceled, VROEGSIGNAAL_DB_TIMEOUT_SECONDS)"
    )
    assert describe_failure(failure(psycopg.OperationalError())) == "unavailable (OperationalError)"


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("notaurl", MSG_URL_NOT_A_URL),
        ("postgres//vs:s3cret-pw@db.example/vs", MSG_URL_NOT_A_URL),
        ("postgres://vs:s3cret-pw@db.example:5432/vs", MSG_URL_POSTGRES_SCHEME),
        ("postgres+psycopg://vs:s3cret-pw@db.example/vs", MSG_URL_POSTGRES_SCHEME),
        ("postgresql+nodriver://vs:s3cret-pw@db.example/vs",
         MSG_URL_NO_DRIVER.format(scheme="postgresql+nodriver")),
        ("mongodb://vs:s3cret-pw@db.example/vs", MSG_URL_NO_DRIVER.format(scheme="mongodb")),
    ],
)
def test_a_database_url_that_cannot_be_used_is_named_with_the_rule_and_without_its_password(url: str,
                                                                                             rule: str):
    with pytest.raises(ConfigError, match=re.escape(rule)) as refused:
        database_url_or_raise(url)
    assert "s3cret-pw" not in str(refused.value)
    # Nor in an error chained to it (a log's traceback would show it).
    assert refused.value.__context__ is None or refused.value.__suppress_context__
    with pytest.raises(ConfigError, match=re.escape(rule)):
        create_db_engine(url)


@pytest.mark.parametrize(
    "url", ["sqlite:///var/service.db", "sqlite://", "postgresql+psycopg://vs:pw@db.example/vs"]
)
def test_the_services_database_urls_are_accepted(url: str):
    assert database_url_or_raise(url).render_as_string(hide_password=False) == url
