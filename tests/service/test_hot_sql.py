"""``hot_sql.execute`` stores and reads every value exactly as SQLAlchemy Core does, on SQLite (where it runs the
statement on the driver's cursor) and on PostgreSQL (where it goes through Core)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from tests.service.conftest import MUNICIPALITY, TODAY, TestClient, auth, batch, household, signal
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.db import create_db_engine
from vroegsignaal.service.hot_sql import execute
from vroegsignaal.service.models import Household, UtcDateTime
from vroegsignaal.service.score_store import _SELECT_SIGNALS, _SELECT_STATES

metadata = MetaData()
things = Table(
    "hot_sql_things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), unique=True, nullable=False),
    Column("amount", Float),
    Column("flag", Boolean),
    Column("day", Date),
    Column("at", UtcDateTime),
    Column("tags", JSON),
    Column("note", String(40), nullable=True),
)
with_default = Table("hot_sql_defaults", metadata, Column("id", Integer, primary_key=True), Column("n", Integer, default=7))

INSERT_RETURNING = insert(things).returning(things.c.id, things.c.name)
INSERT = insert(things)
SELECT_NAMED = (
    select(things)
    .where(things.c.name.in_(bindparam("names", expanding=True)), things.c.day >= bindparam("since"))
    .order_by(things.c.name)
)
SELECT_ALL = select(things).order_by(things.c.name)
SELECT_FIXED = select(things.c.id.label("thing_id")).where(things.c.name == "fixed")
UPDATE = update(things).where(things.c.id == bindparam("thing_id"))
EVERYTHING_GONE = delete(things)


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path_factory.mktemp('hot') / 'hot.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


names = st.text(alphabet="abcdefghij", min_size=1, max_size=12)
utc_times = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
    lambda moment: moment.replace(tzinfo=dt.UTC)
)
thing_rows = st.fixed_dictionaries(
    {
        "amount": st.floats(allow_nan=False, allow_infinity=False, width=64),
        "flag": st.booleans(),
        "day": st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)),
        "at": utc_times,
        "tags": st.lists(st.text(max_size=5), max_size=3),
        "note": st.none() | st.text(max_size=10),
    }
)
batches = st.dictionaries(names, thing_rows, min_size=1, max_size=6).map(
    lambda by_name: [{"name": name, **row} for name, row in by_name.items()]
)


def _plain(rows: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in rows]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=batches, wanted=st.lists(names, max_size=4), since=st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)))
def test_rows_written_and_read_on_the_driver_are_what_core_writes_and_reads(
    sqlite_engine: Engine, batch: list[dict[str, Any]], wanted: list[str], since: dt.date
):
    with sqlite_engine.begin() as connection:
        connection.execute(EVERYTHING_GONE)
        returned = execute(connection, INSERT_RETURNING, batch)
        through_core = connection.execute(SELECT_ALL).all()
        parameters = {"names": wanted, "since": since}
        named_hot = execute(connection, SELECT_NAMED, parameters)
        named_core = connection.execute(SELECT_NAMED, parameters).all()
        connection.rollback()
    assert sorted((row.name, row.id) for row in returned) == sorted((row.name, row.id) for row in through_core)
    assert [{key: value for key, value in row._asdict().items() if key != "id"} for row in through_core] == sorted(
        batch, key=lambda row: row["name"]
    )
    assert _plain(named_hot) == _plain(named_core)
    assert [row._asdict() for row in named_hot] == [row._asdict() for row in named_core]


def test_many_rows_without_returning_an_update_and_a_value_bound_into_the_statement(sqlite_engine: Engine):
    row = {"amount": 1.5, "flag": True, "day": dt.date(2026, 3, 4), "at": None, "tags": [], "note": None}
    with sqlite_engine.begin() as connection:
        connection.execute(EVERYTHING_GONE)
        assert execute(connection, INSERT, [{**row, "name": "fixed"}, {**row, "name": "other"}]) == []
        fixed = execute(connection, SELECT_FIXED)
        assert [tuple(found) for found in fixed] == connection.execute(SELECT_FIXED).all()
        execute(connection, UPDATE, [{"thing_id": fixed[0].thing_id, "note": "changed", "flag": False}])
        stored = {found.name: found for found in connection.execute(SELECT_ALL)}
        connection.rollback()
    assert (stored["fixed"].note, stored["fixed"].flag) == ("changed", False)
    assert (stored["other"].note, stored["other"].flag) == (None, True)


def test_an_empty_in_list_matches_nothing(sqlite_engine: Engine):
    row = {"name": "x", "amount": 0.0, "flag": False, "day": dt.date(2026, 1, 1), "at": None, "tags": [], "note": None}
    with sqlite_engine.begin() as connection:
        connection.execute(EVERYTHING_GONE)
        execute(connection, INSERT, [row])
        assert execute(connection, SELECT_NAMED, {"names": [], "since": dt.date(2000, 1, 1)}) == []
        assert len(execute(connection, SELECT_NAMED, {"names": ["x"], "since": dt.date(2000, 1, 1)})) == 1
        connection.rollback()


def test_database_errors_come_out_as_sqlalchemy_errors_and_the_transaction_can_roll_back(sqlite_engine: Engine):
    row = {"name": "twice", "amount": 0.0, "flag": False, "day": None, "at": None, "tags": [], "note": None}
    with sqlite_engine.begin() as connection:
        connection.execute(EVERYTHING_GONE)
        with pytest.raises(IntegrityError, match="UNIQUE constraint failed: hot_sql_things.name"):
            execute(connection, INSERT, [row, row])
        connection.rollback()


def test_a_statement_with_python_side_defaults_is_refused(sqlite_engine: Engine):
    with sqlite_engine.begin() as connection, pytest.raises(ValueError, match="Python-side defaults"):
        execute(connection, insert(with_default), [{"id": 1}])


def test_the_scoring_reads_answer_alike_through_core_and_hot_sql(engine: Engine, client: TestClient):
    """On the migrated database of each backend, after a real scoring request: the rows of the scoring path's two
    reads (on PostgreSQL both go through Core; on SQLite one runs on the driver)."""
    households = [household(f"hot-sql-household-{n}", signal(f"sig-{n}-a"), signal(f"sig-{n}-b", partner="energy")) for n in range(3)]
    response = client.post("/v1/scores", json=batch(*households), headers=auth(Role.CASEWORKER))
    assert response.status_code == 200, response.text
    with engine.connect() as connection:
        ids = connection.execute(select(Household.id)).scalars().all()
        reads = [
            (_SELECT_STATES, {"household_ids": ids, "since": TODAY - dt.timedelta(days=180)}),
            (_SELECT_SIGNALS, {"municipality": MUNICIPALITY, "refs": ["sig-0-a", "nope"], "household_ids": ids[:2]}),
        ]
        for statement, parameters in reads:
            through_core = connection.execute(statement, parameters).all()
            assert through_core
            assert sorted(_plain(execute(connection, statement, parameters))) == sorted(_plain(through_core))
