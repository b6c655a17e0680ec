"""Benchmark: the SQL statements of one scoring request on PostgreSQL, and what its commit's WAL flush costs.

On PostgreSQL a single-household ``POST /v1/scores`` takes several times as long as on SQLite
(``bench/service.py``). This script shows where that time goes, statement by statement, measured in-process (no
sockets for HTTP; the database over TCP as in production): each statement from the moment SQLAlchemy hands it to
the driver until the driver returned (its round trip and the server's work), the pool's pre-ping and the
``COMMIT``. It runs twice, on two fresh schemas, in turns: with PostgreSQL's default ``synchronous_commit=on``
(the commit waits until the transaction's WAL is on disk: what the service relies on for "no acknowledged write
is lost") and with ``synchronous_commit=off`` (the commit returns before the flush; a crash of the database
server can then lose the last acknowledged transactions, though never corrupt the database). The second is not a
recommendation: it measures what durability costs here, so an operator can weigh it.

Usage::

    .venv/bin/python bench/service_statements.py --requests 1000 --results bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from results_file import replace_section  # bench/results_file.py, beside this script
from service import POSTGRES_URL, analyze_tables, postgres_database  # bench/service.py: the same server
from service_phases import ROUND, _asgi_post, _prepare  # the same model, request bodies and ASGI call

#: The two runs: a label and the extra PostgreSQL options of its connections.
MODES = {"synchronous_commit=on (default)": "", "synchronous_commit=off": "-csynchronous_commit%3Doff"}
#: Rows of the result table besides the statements.
PING, COMMIT, WHOLE = "pool pre-ping (`SELECT 1`)", "`COMMIT`", "whole request (in-process)"


def _statement_name(statement: str) -> str:
    """A statement's first words, enough to tell the scoring request's statements apart."""
    words = " ".join(statement.split())
    return f"`{words[:58]}…`" if len(words) > 58 else f"`{words}`"


def run(options: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import event

    from vroegsignaal.schemas.enums import Role
    from vroegsignaal.service.app import create_app
    from vroegsignaal.service.migrate import upgrade_database
    from vroegsignaal.service.security import issue_demo_tokens
    from vroegsignaal.service.settings import build_settings

    work = Path(tempfile.mkdtemp(prefix="vroegsignaal-bench-statements-"))
    timings: dict[str, dict[str, list[float]]] = {mode: defaultdict(list) for mode in MODES}
    current: list[str] = []  # the mode being measured; empty during the warm-up
    order: list[str] = []  # the statements of one request, in the order they ran
    try:
        print("training the model ...", flush=True)
        rounds = max(1, options.requests // ROUND)
        per_mode = options.warmup + rounds * ROUND
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            bundle, bodies = pool.apply(_prepare, (work, options.households, len(MODES) * per_mode))

        def record(name: str, seconds: float) -> None:
            if current:
                timings[current[0]][name].append(seconds)

        def timed(name: str, function: Any) -> Any:
            def call(*arguments: Any) -> Any:
                started = time.perf_counter()
                try:
                    return function(*arguments)
                finally:
                    record(name, time.perf_counter() - started)

            return call

        async def measure() -> None:
            async with AsyncExitStack() as stack:
                apps = {}
                urls = {}
                for index, (mode, extra) in enumerate(MODES.items()):
                    schema = f"vs_statements_{os.getpid()}_{index}"
                    url = stack.enter_context(postgres_database(options.postgres_url, schema=schema, options=extra))
                    if url is None:
                        raise SystemExit(f"PostgreSQL at {options.postgres_url} does not answer")
                    urls[mode] = url
                    settings = build_settings(
                        demo_mode=True, database_url=url, models_dir=bundle.parent, log_level="WARNING"
                    )
                    upgrade_database(settings.database_url)
                    app = create_app(settings)
                    await stack.enter_async_context(app.router.lifespan_context(app))
                    engine = app.state.services.engine
                    # The pre-ping and the commit run outside the statement events: timed on this engine's dialect.
                    engine.dialect.do_ping = timed(PING, engine.dialect.do_ping)
                    engine.dialect.do_commit = timed(COMMIT, engine.dialect.do_commit)

                    @event.listens_for(engine, "before_cursor_execute")
                    def _before(connection: Any, *_: Any) -> None:
                        connection.info["bench_started"] = time.perf_counter()

                    @event.listens_for(engine, "after_cursor_execute")
                    def _after(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
                        name = _statement_name(statement)
                        if current and name not in order:
                            order.append(name)
                        record(name, time.perf_counter() - connection.info.pop("bench_started"))

                    share = bodies[index * per_mode : (index + 1) * per_mode]
                    apps[mode] = (app, issue_demo_tokens(settings)[Role.ADMIN], share)
                for mode, (app, token, share) in apps.items():  # the warm-up, unmeasured
                    for body in share[: options.warmup]:
                        await _asgi_post(app, body, token)
                for index in range(rounds):  # the modes take turns, so the machine's drift hits both alike
                    print(f"  round {index + 1}/{rounds}", flush=True)
                    for mode, (app, token, share) in apps.items():
                        current[:] = [mode]
                        start = options.warmup + index * ROUND
                        analyze_tables(urls[mode])  # what autovacuum does as the tables grow (see there)
                        for body in share[start : start + ROUND]:
                            started = time.perf_counter()
                            await _asgi_post(app, body, token)
                            record(WHOLE, time.perf_counter() - started)
                        current.clear()

        asyncio.run(measure())
        return {
            "date": dt.date.today().isoformat(),
            "requests": rounds * ROUND,
            "order": [*order, PING, COMMIT, WHOLE],
            "timings": {mode: dict(values) for mode, values in timings.items()},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ms(values: list[float]) -> str:
    return f"{1e3 * statistics.median(values):.2f} ms" if values else "–"


def write_results(results: dict[str, Any], path: Path, command: str) -> None:
    modes = list(MODES)
    lines = [
        "## A scoring request's statements on PostgreSQL",
        "",
        (
            f"Measured {results['date']} on this machine ({os.cpu_count()} cores, shared with other work), in-process "
            "through the ASGI app, the local PostgreSQL over TCP, one household per request, "
            f"{results['requests']} requests per column, the two columns in turns, the tables analysed before each "
            f"round of {ROUND}, more often than autovacuum would (the server here runs without it), medians (a "
            "statement: from the driver call until it returned); command:"
        ),
        "",
        f"    {command}",
        "",
        "| step | " + " | ".join(modes) + " |",
        "|---|" + "---|" * len(modes),
    ]
    for name in results["order"]:
        lines.append(f"| {name} | " + " | ".join(_ms(results["timings"][mode].get(name, [])) for mode in modes) + " |")
    steps = {
        mode: sum(statistics.median(values) for name, values in results["timings"][mode].items() if name != WHOLE)
        for mode in modes
    }
    per_round = {
        mode: [
            f"{1e3 * statistics.median(commits[start : start + ROUND]):.2f}"
            for start in range(0, len(commits), ROUND)
        ]
        for mode in modes
        if (commits := results["timings"][mode].get(COMMIT))
    }
    lines += [
        "",
        "The steps' medians add up to "
        + "; ".join(
            f"{1e3 * steps[mode]:.2f} ms of the whole request's {_ms(results['timings'][mode].get(WHOLE, []))} "
            f"({mode})"
            for mode in modes
        )
        + ". The rest is the service's own work in Python: FastAPI and the middleware, the features, score and "
        "reasons, SQLAlchemy Core around each statement (on PostgreSQL the statements go through it; "
        "`service/hot_sql.py` bypasses it on SQLite only) and the hop to a worker thread.",
        "",
        "The commit's median in each round of " + f"{ROUND} requests (ms), in the order they ran: "
        + "; ".join(f"{mode}: {', '.join(values)}" for mode, values in per_round.items())
        + ". The disk's flush time on this shared machine drifts between rounds and between runs.",
        "",
        (
            "With the default, the commit waits for the transaction's WAL to reach the disk: that wait is what "
            "keeps an acknowledged score, case and audit record through a crash of the database server. "
            "`synchronous_commit=off` would save it at the price of losing the last acknowledged requests in such "
            "a crash; the service does not set it, and this table is no advice to. The other steps are each one "
            "round trip with the server's work."
        ),
        "",
    ]
    replace_section(path, "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="Measured requests per mode.")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--households", type=int, default=20_000, help="Size of the synthetic municipality.")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--results", type=Path, default=None)
    options = parser.parse_args()
    results = run(options)
    for name in results["order"]:
        print(f"{name:40s} " + "  ".join(_ms(results["timings"][mode].get(name, [])) for mode in MODES))
    if options.results:
        write_results(results, options.results, "python bench/service_statements.py " + " ".join(sys.argv[1:]))
        print(f"results written to {options.results}")


if __name__ == "__main__":
    main()
