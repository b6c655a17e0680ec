"""Executing the scoring request's prebuilt statements with as little Python around them as possible.

On SQLite nearly all of a statement's time is SQLAlchemy's execution machinery, not SQLite: a one-row select by
primary key costs ~15 µs through Core and ~1.5 µs on the sqlite3 connection (``bench/service_phases.py``), the
scoring request's select with ``IN`` lists ~38 against ~4 µs, and a scoring request runs about a dozen statements.
So on SQLite :func:`execute` compiles each Core statement once per shape (the parameter names given and the lengths
of ``IN`` lists) with SQLAlchemy's own compiler, converts every value with the column types' own bind and result
processors (dates, JSON, booleans exactly as Core stores and reads them), and runs it on the driver's connection
under the caller's, inside the caller's transaction. Database errors come out as SQLAlchemy's
(``IntegrityError``, ``OperationalError``, ...), as they would through Core.

On PostgreSQL, where each statement's network round trip dominates, statements simply go through Core. Either way
the caller gets a list of rows with attribute access by column name.

Only statements whose every value comes from the parameters qualify: a column with a Python-side default (which
Core would compute) is refused when the statement is first compiled.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.expression import Executable

#: How SQLAlchemy names the members of an expanded ``IN`` list when it renders them: ``household_ids_1``, ...
_EXPANDED_MEMBER = re.compile(r"^(?P<name>.+)_(?P<number>\d+)$")

Parameters = Mapping[str, Any]


class _Slot(NamedTuple):
    """Where the value of one ``?`` comes from: a parameter, one member of a list parameter (``index``), or a value
    bound into the statement when it was built (``column == "literal"``: ``name`` is ``None``)."""

    name: str | None
    index: int | None
    process: Callable[[Any], Any] | None
    constant: Any = None


@dataclass(frozen=True)
class _Prepared:
    """A statement compiled for SQLite in one shape."""

    sql: str
    slots: tuple[_Slot, ...]
    row: type | None
    processors: tuple[Callable[[Any], Any] | None, ...]

    def arguments(self, parameters: Parameters) -> list[Any]:
        values = []
        for name, index, process, constant in self.slots:  # runs for every value of every statement: kept flat
            if name is None:
                value = constant
            elif index is None:
                value = parameters[name]
            else:
                value = parameters[name][index]
            values.append(value if process is None else process(value))
        return values

    def rows(self, fetched: Sequence[tuple[Any, ...]]) -> list[Any]:
        assert self.row is not None
        processors = self.processors
        if not any(processors):  # nothing to convert: the driver's tuples as they are (no generator per row)
            return list(map(self.row._make, fetched))
        return [
            self.row(*(value if process is None else process(value) for process, value in zip(processors, raw)))
            for raw in fetched
        ]


#: Compiled statements by (statement, its parameter names, then the length of each ``IN`` list).
_prepared: dict[tuple[Any, ...], _Prepared] = {}
#: The names of each statement's ``IN`` list parameters (``bindparam(..., expanding=True)``).
_expanding: dict[Executable, frozenset[str]] = {}


def execute(
    connection: Connection, statement: Executable, parameters: dict[str, Any] | list[dict[str, Any]] | None = None
) -> list[Any]:
    """Run ``statement`` on ``connection`` (inside its transaction): once with a dict of parameters, or once per
    dict of a list (all with the same keys). The rows it returns, if any."""
    if connection.dialect.name != "sqlite":
        result = connection.execute(statement, parameters)
        return list(result) if result.returns_rows else []
    batch = parameters if isinstance(parameters, list) else [parameters or {}]
    if not batch:
        return []
    prepared = _prepare(statement, batch[0], connection.dialect)
    driver = connection.connection.driver_connection
    try:
        if prepared.row is None:
            driver.executemany(prepared.sql, [prepared.arguments(row) for row in batch])
            return []
        fetched: list[Any] = []
        for row in batch:  # sqlite3's executemany discards what RETURNING gives back
            fetched.extend(driver.execute(prepared.sql, prepared.arguments(row)).fetchall())
        return prepared.rows(fetched)
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            prepared.sql, batch, error, connection.dialect.loaded_dbapi.Error, dialect=connection.dialect
        ) from error


def _prepare(statement: Executable, parameters: Parameters, dialect: Dialect) -> _Prepared:
    # Keys in the caller's order: another order only makes another entry (the slots find values by name).
    key: tuple[Any, ...] = (statement, *parameters)
    expanding = _expanding.get(statement)
    if expanding is None:
        expanding = _expanding[statement] = frozenset(
            element.key
            for element in visitors.iterate(statement)
            if isinstance(element, BindParameter) and element.expanding
        )
    lists = {name: len(parameters[name]) for name in expanding if name in parameters} if expanding else {}
    if lists:
        key += tuple(lists.items())
    prepared = _prepared.get(key)
    if prepared is None:
        prepared = _prepared[key] = _compile(statement, tuple(parameters), lists, dialect)
    return prepared


def _compile(statement: Executable, keys: Sequence[str], lists: Mapping[str, int], dialect: Dialect) -> _Prepared:
    # Lists get placeholder members of the right number, so the compiler renders one "?" per member (rendering them
    # wants a placeholder for every other parameter too).
    placeholders = {name: [None] * lists[name] if name in lists else None for name in keys}
    shaped = statement.params(placeholders) if lists else statement
    compiled = shaped.compile(
        dialect=dialect, column_keys=list(keys), compile_kwargs={"render_postcompile": bool(lists)}
    )
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise ValueError(f"statement computes Python-side defaults, run it through Core: {compiled}")
    slots = []
    for name in compiled.positiontup or ():
        bind = compiled.binds.get(name)
        index = None
        if name not in keys:
            member = _EXPANDED_MEMBER.match(name)
            if member is not None and member["name"] in lists:
                name, index = member["name"], int(member["number"]) - 1
                bind = compiled.binds[name]
            elif bind is None or bind.value is None:
                raise ValueError(f"no value for the parameter {name!r} of: {compiled}")
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        slots.append(_Slot(name, index, process) if name in keys else _Slot(None, None, process, bind.value))
    dml = compiled.isinsert or compiled.isupdate or compiled.isdelete
    columns = list(compiled.effective_returning or ()) if dml else list(statement.selected_columns)
    return _Prepared(
        sql=compiled.string,
        slots=tuple(slots),
        row=namedtuple("Row", [column.key for column in columns]) if columns else None,
        processors=tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns),
    )
