"""Benchmark: where the time of one scoring request goes, measured in-process (no sockets).

``bench/service.py`` measures the service over HTTP against its alternatives; this script splits one
single-household ``POST /v1/scores`` into its parts, so work on the latency targets of issue #3 starts from
measurements rather than guesses. Everything runs in this process, on SQLite, one request at a time:

* **whole app**: the request through the ASGI app (middleware, FastAPI's dependencies and body validation, the
  transaction, the response), without uvicorn and the socket. One household on SQLite with the write lock free is
  scored on the event loop (``service.db.run_write``), so there is no thread-pool hop here.
* **app without the transaction**: the same, with ``score_batch`` answering a stored response: what FastAPI and the
  middleware cost.
* **transaction, step by step**: ``score_batch`` called directly, with a timer around each of its steps; "the
  rest" is what the steps leave over (begin and commit, the request's JSON copy, building the response). Its
  database connections also count the time spent inside the sqlite3 driver's calls (statements, fetches, begin,
  commit): SQLite's own work, which any implementation that stores these rows pays, whatever the code around it.

The three parts take turns, 200 requests at a time, each on its own database, so the drift of this shared machine
hits all three alike. Medians over all requests, each step timed on its own (so the steps' medians need not add up
to the total's).

Usage::

    .venv/bin/python bench/service_phases.py --requests 2000 --results bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import json
import multiprocessing
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from results_file import replace_section  # bench/results_file.py, beside this script
from service import prepare_model, workload  # bench/service.py: the same model and request bodies

#: The steps of ``vroegsignaal.service.scores.score_batch`` that get a timer, in the order they run.
STEPS: dict[str, str] = {
    "ordering_and_rejection": "read the ordering switch and the served model's status",
    "upsert_households": "upsert the household",
    "household_states": "read objection, open review item, latest contact",
    "_record_signals": "read stored signals, insert new ones",
    "_score": "features, score, flags and TreeSHAP reasons",
    "insert_scores": "insert the score",
    "_queue": "plan and insert or update the review item, build the result",
    "input_hash": "hash the household's input for the audit record",
    "append_audit_records": "append the hash-chained audit record",
}


#: The three parts, measured in turns.
PARTS = ("whole_app", "framework", "transaction")
#: Requests per part and turn.
ROUND = 200


def _timed(timings: dict[str, list[float]], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            timings[name].append(time.perf_counter() - started)

    return timed


def _prepare(work: Path, households: int, requests: int) -> tuple[Path, list[bytes]]:
    """The trained bundle and ``requests`` single-household request bodies."""
    bundle, _, _ = prepare_model(work, households)
    bodies, _ = workload(work / "data", requests, 1, "phases")
    return bundle, bodies


#: Seconds spent inside the sqlite3 driver's calls on the connections of :class:`_TimedConnection`, since the last reset.
_in_driver = [0.0]


class _TimedCursor(sqlite3.Cursor):
    """A cursor that adds the time of its driver calls to :data:`_in_driver`."""

    def execute(self, *args: Any) -> Any:
        return _driver_call(super().execute, *args)

    def executemany(self, *args: Any) -> Any:
        return _driver_call(super().executemany, *args)

    def fetchone(self) -> Any:
        return _driver_call(super().fetchone)

    def fetchmany(self, *args: Any) -> Any:
        return _driver_call(super().fetchmany, *args)

    def fetchall(self) -> Any:
        return _driver_call(super().fetchall)


class _TimedConnection(sqlite3.Connection):
    """A connection whose statements (on its own cursors too), commits and rollbacks count in :data:`_in_driver`."""

    def cursor(self, factory: Any = _TimedCursor) -> Any:  # noqa: ARG002 - always a timed cursor
        return super().cursor(_TimedCursor)

    def execute(self, *args: Any) -> Any:
        return self.cursor().execute(*args)

    def executemany(self, *args: Any) -> Any:
        return self.cursor().executemany(*args)

    def commit(self) -> None:
        _driver_call(super().commit)

    def rollback(self) -> None:
        _driver_call(super().rollback)


def _driver_call(call: Callable[..., Any], *args: Any) -> Any:
    started = time.perf_counter()
    try:
        return call(*args)
    finally:
        _in_driver[0] += time.perf_counter() - started


def _time_the_driver_of(database: Path) -> None:
    """Connections to the SQLite file ``database`` (made from now on, by any engine) count their driver time."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def with_timed_connection(dialect: Any, _record: Any, cargs: tuple, cparams: dict) -> None:
        if dialect.name == "sqlite" and cargs and Path(cargs[0]) == database:
            cparams["factory"] = _TimedConnection

    event.listen(Engine, "do_connect", with_timed_connection)


def _asgi_post(app: Any, body: bytes, token: str) -> Any:
    """One ``POST /v1/scores`` through the ASGI app; a coroutine that fails unless the answer is 200."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/scores",
        "raw_path": b"/v1/scores",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    statuses: list[int] = []

    async def receive() -> dict:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client never disconnects
        return {}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def post() -> None:
        await app(scope, receive, send)
        if statuses != [200]:
            raise SystemExit(f"POST /v1/scores answered {statuses}")

    return post()


def _statement_cost(database_url: str, repeats: int) -> dict[str, list[float]]:
    """One-row primary-key select, through SQLAlchemy Core (built once), through ``hot_sql.execute`` and as plain
    SQL on the raw sqlite3 connection of the same engine: what a statement costs besides SQLite's own work."""
    from sqlalchemy import bindparam, select

    from vroegsignaal.service.db import create_db_engine
    from vroegsignaal.service.hot_sql import execute
    from vroegsignaal.service.models import AuditChainHead

    head = AuditChainHead.__table__
    statement = select(head.c.last_seq).where(head.c.id == bindparam("id"))
    sql = "SELECT last_seq FROM audit_chain_head WHERE id = ?"
    engine = create_db_engine(database_url)
    timings: dict[str, list[float]] = defaultdict(list)
    try:
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            for _ in range(repeats):
                started = time.perf_counter()
                connection.execute(statement, {"id": 1}).one()
                timings["core"].append(time.perf_counter() - started)
                started = time.perf_counter()
                execute(connection, statement, {"id": 1})
                timings["hot_sql"].append(time.perf_counter() - started)
                started = time.perf_counter()
                driver.execute(sql, (1,)).fetchone()
                timings["driver"].append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return dict(timings)


def run(options: argparse.Namespace) -> dict:
    from contextlib import AsyncExitStack

    from vroegsignaal.schemas.api import ScoreBatchRequest
    from vroegsignaal.schemas.enums import Role
    from vroegsignaal.service import scores
    from vroegsignaal.service.app import create_app
    from vroegsignaal.service.migrate import upgrade_database
    from vroegsignaal.service.routes import scores as scores_route
    from vroegsignaal.service.security import issue_demo_tokens
    from vroegsignaal.service.settings import build_settings

    work = Path(tempfile.mkdtemp(prefix="vroegsignaal-bench-phases-"))
    try:
        print("training the model ...", flush=True)
        rounds = max(1, options.requests // ROUND)
        per_part = options.warmup + rounds * ROUND
        # In a child process: training leaves its heap and its thread pools behind, and a server process has
        # neither (measured here: the parts ran up to a third slower in the process that had trained).
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            bundle, bodies = pool.apply(_prepare, (work, options.households, 3 * per_part))
        shares = {part: bodies[i * per_part : (i + 1) * per_part] for i, part in enumerate(PARTS)}

        _time_the_driver_of(work / "transaction.db")
        apps: dict[str, tuple[Any, str]] = {}
        for part in PARTS:
            settings = build_settings(
                demo_mode=True,
                database_url=f"sqlite:///{work / part}.db",
                models_dir=bundle.parent,
                log_level="WARNING",
            )
            upgrade_database(settings.database_url)
            apps[part] = (create_app(settings), issue_demo_tokens(settings)[Role.ADMIN])

        real_score_batch = scores_route.score_batch
        stored: list[Any] = []

        def stored_answer(engine: Any, **arguments: Any) -> Any:
            if not stored:
                stored.append(real_score_batch(engine, **arguments))
            return stored[0]

        timings: dict[str, list[float]] = defaultdict(list)
        originals = {name: getattr(scores, name) for name in STEPS}
        timed = {name: _timed(timings, name, function) for name, function in originals.items()}

        async def through_app(part: str, share: list[bytes]) -> None:
            app, token = apps[part]
            for body in share:
                started = time.perf_counter()
                await _asgi_post(app, body, token)
                timings[part].append(time.perf_counter() - started)

        def transaction(share: list[bytes]) -> None:
            app, token = apps["transaction"]
            services = app.state.services
            caller = services.verifier.verify(token)
            for name, function in timed.items():
                setattr(scores, name, function)
            try:
                for body in share:
                    _in_driver[0] = 0.0
                    started = time.perf_counter()
                    request = ScoreBatchRequest.model_validate_json(body)
                    context = scores.ScoringContext(
                        settings=services.settings,
                        model=services.holder.current,
                        build_features=services.build_features,
                        now=services.now(),
                    )
                    scores.score_batch(services.engine, request=request, caller=caller, context=context)
                    timings["transaction"].append(time.perf_counter() - started)
                    timings["in_driver"].append(_in_driver[0])
            finally:
                for name, function in originals.items():
                    setattr(scores, name, function)

        async def all_parts() -> None:
            async with AsyncExitStack() as stack:
                for app, _ in apps.values():
                    await stack.enter_async_context(app.router.lifespan_context(app))
                # The parts take turns, ROUND requests at a time, so the machine's drift hits all three alike.
                for index in range(rounds + 1):
                    chunk = (
                        slice(0, options.warmup)
                        if index == 0
                        else slice(options.warmup + (index - 1) * ROUND, options.warmup + index * ROUND)
                    )
                    print(f"  round {index}/{rounds}", flush=True)
                    await through_app("whole_app", shares["whole_app"][chunk])
                    scores_route.score_batch = stored_answer
                    try:
                        await through_app("framework", shares["framework"][chunk])
                    finally:
                        scores_route.score_batch = real_score_batch
                    transaction(shares["transaction"][chunk])
                    if index == 0:
                        timings.clear()

        asyncio.run(all_parts())
        statement = _statement_cost(f"sqlite:///{work / 'transaction'}.db", options.requests)
        return {
            "date": dt.date.today().isoformat(),
            "requests": rounds * ROUND,
            "whole_app": timings.pop("whole_app"),
            "framework": timings.pop("framework"),
            "steps": dict(timings),
            "statement": statement,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _us(values: list[float]) -> float:
    return 1e6 * statistics.median(values)


def summary(results: dict) -> dict[str, float]:
    """Medians in µs: the whole app, the framework part, the transaction and each step, and the rest."""
    steps = results["steps"]
    medians = {name: _us(steps[name]) for name in STEPS if name in steps}
    transaction = _us(steps["transaction"])
    return {
        "whole_app": _us(results["whole_app"]),
        "framework": _us(results["framework"]),
        "transaction": transaction,
        **medians,
        "rest": transaction - sum(medians.values()),
        "in_driver": _us(steps["in_driver"]),
    }


def write_results(results: dict, path: Path, command: str) -> None:
    medians = summary(results)
    lines = [
        "## Where a scoring request's time goes",
        "",
        (
            f"Measured {results['date']} on this machine ({os.cpu_count()} cores, shared with other work), in-process "
            f"(no sockets), SQLite, one household per request, {results['requests']} requests, medians; command:"
        ),
        "",
        f"    {command}",
        "",
        "| part | median |",
        "|---|---|",
        f"| whole app: middleware, FastAPI, transaction, response | {medians['whole_app']:,.0f} µs |",
        f"| the app without the transaction (FastAPI, middleware) | {medians['framework']:,.0f} µs |",
        f"| the transaction, called directly (request parsing included) | {medians['transaction']:,.0f} µs |",
    ]
    for name, label in STEPS.items():
        if name in medians:
            lines.append(f"| — {label} (`{name}`) | {medians[name]:,.0f} µs |")
    lines += [
        f"| — the rest: begin and commit, the request's JSON copy, the response | {medians['rest']:,.0f} µs |",
        f"| SQLite's own work, over all the steps: inside the sqlite3 driver's calls (statements, fetches, begin, "
        f"commit) | {medians['in_driver']:,.0f} µs |",
        "",
        (
            f"SQLite's own work ({medians['in_driver']:,.0f} µs) is what any implementation pays that stores the same "
            "rows in one transaction, whatever the code around it; with the features, score and reasons (`_score`, "
            f"{medians.get('_score', 0):,.0f} µs: LightGBM's single-row prediction and TreeSHAP, the calibration, "
            f"the reason sentences) that is {medians['in_driver'] + medians.get('_score', 0):,.0f} µs before the "
            "request is parsed, checked, queued and audited, and before FastAPI and HTTP."
        ),
        "",
        (
            "A one-row select by primary key on the same database costs "
            f"{_us(results['statement']['core']):,.1f} µs through SQLAlchemy Core (statement built once), "
            f"{_us(results['statement']['hot_sql']):,.1f} µs through `service/hot_sql.py` (what the scoring path "
            "uses on SQLite: the same statement compiled once, run on the driver's cursor) and "
            f"{_us(results['statement']['driver']):,.1f} µs as plain SQL on the raw sqlite3 connection. Over HTTP "
            "(`bench/service.py`) uvicorn and the socket come on top."
        ),
        "",
    ]
    replace_section(path, "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="Measured requests per part.")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--households", type=int, default=20_000, help="Size of the synthetic municipality.")
    parser.add_argument("--results", type=Path, default=None)
    options = parser.parse_args()
    results = run(options)
    print(json.dumps(summary(results), indent=2))
    if options.results:
        write_results(results, options.results, "python bench/service_phases.py " + " ".join(sys.argv[1:]))
        print(f"results written to {options.results}")


if __name__ == "__main__":
    main()
