"""SQLite transactions of one process queue on a lock of their own: it is released on every way a transaction
ends, so the next one never waits for a transaction that is over."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from vroegsignaal.service.db import create_db_engine, create_session_factory

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
