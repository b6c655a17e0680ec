"""Benchmark: the scoring service over HTTP, side by side with a bare FastAPI endpoint and `mlflow models serve`.

All run here, in one run, each as its own uvicorn/MLflow process with one worker, on the same machine:

* **Vroegsignaal** ``POST /v1/scores``: one household's signals and facts in; features built, scored, explained
  (exact TreeSHAP reasons), flagged, persisted (household, signals, score, review item, audit record) in one
  transaction on SQLite (the default database), and answered.
* **Vroegsignaal on PostgreSQL**: the same service on the PostgreSQL at ``--postgres-url`` (a schema of its own,
  dropped afterwards), as a municipality runs it in production; left out when that server does not answer. Its
  tables are analysed every few seconds while it is measured (:func:`analyzed_while_running`): more often than
  autovacuum would in production, so its numbers are for statistics that are always fresh.
* **bare FastAPI**: a ``POST`` endpoint that parses the same JSON body and returns a constant — the ceiling of a
  Python ASGI service on this machine.
* **mlflow models serve** of the same model (the bundle logged as an MLflow pyfunc), given the household's
  ready-made feature row; it scores and explains but builds no features and persists nothing.

Requests are sent one at a time over a keep-alive connection (concurrency 1, issue #3's measure), after a
warm-up; latencies are medians over all requests, throughput is requests per second of wall time. With
``--concurrency N`` each server also gets N clients at once (threads, one keep-alive connection each; the same
client for all three servers). The machine is shared and noisy, so the script repeats each measurement and reports
the median run, and the servers are measured one after the other within each repeat.

Usage::

    .venv/bin/python bench/service.py --requests 2000 --results bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from results_file import replace_section  # bench/results_file.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: The servers, in the order of the result tables.
SERVERS = ("service", "service_pg", "bare", "mlflow")
BIN = Path(sys.executable).parent
BARE_APP = '''
from fastapi import FastAPI, Request
app = FastAPI()
@app.post("/score")
async def score(request: Request):
    await request.json()
    return {"score": 0.5, "band": "low"}
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(port: int, path: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode()[-2000:] if process.stderr else ""
            raise SystemExit(f"server on port {port} exited with {process.returncode}:\n{error}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server on port {port} not ready after {timeout} s")


def start(command: Sequence[str], *, env: dict[str, str], port: int, ready_path: str, cwd: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        list(command), env={**os.environ, **env}, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )
    wait_until_ready(port, ready_path, process)
    return process


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def _post_all(
    connection: http.client.HTTPConnection, path: str, bodies: Sequence[bytes], headers: dict[str, str]
) -> list[float]:
    """Send every body in turn; the latency of each (a non-200 answer ends the benchmark)."""
    latencies = []
    for body in bodies:
        start = time.perf_counter()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            raise SystemExit(f"request to {connection.port}{path} failed: {response.status} {payload[:200]!r}")
    return latencies


def measure(
    port: int, path: str, bodies: Sequence[bytes], headers: dict[str, str], warmup: int, concurrency: int = 1
) -> dict:
    """Warm up, then send the other bodies from ``concurrency`` clients at once, each over its own keep-alive
    connection; latency per request and overall throughput."""
    all_headers = {"Content-Type": "application/json", **headers}
    measured = bodies[warmup:]
    shares = [measured[client::concurrency] for client in range(concurrency)]
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(concurrency)]
    for client, connection in enumerate(connections):
        _post_all(connection, path, bodies[client:warmup:concurrency], all_headers)
    results: list[list[float]] = [[] for _ in range(concurrency)]
    ready = threading.Barrier(concurrency + 1)

    def client(index: int) -> None:
        ready.wait()
        results[index] = _post_all(connections[index], path, shares[index], all_headers)

    threads = [threading.Thread(target=client, args=(index,)) for index in range(concurrency)]
    for thread in threads:
        thread.start()
    ready.wait()
    start_all = time.perf_counter()
    for thread in threads:
        thread.join()
    total = time.perf_counter() - start_all
    latencies = sorted(latency for share in results for latency in share)
    if len(latencies) != len(measured):
        raise SystemExit(f"a client of {port}{path} stopped early ({len(latencies)} of {len(measured)} answered)")
    return {
        "requests": len(latencies),
        "concurrency": concurrency,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "requests_per_s": len(latencies) / total,
    }


def median_run(runs: list[dict]) -> dict:
    best = sorted(runs, key=lambda run: run["p50_ms"])[len(runs) // 2]
    return {**best, "runs_p50_ms": [round(run["p50_ms"], 3) for run in runs]}


# ------------------------------------------------------------------------------------------------------- workload


def prepare_model(work: Path, households: int) -> tuple[Path, str, str]:
    """A synthetic municipality, a trained bundle in ``work/models`` and its MLflow registration."""
    from vroegsignaal import tracking
    from vroegsignaal.schemas.dataset_config import load_dataset_config
    from vroegsignaal.training.pipeline import run_pipeline
    from vroegsignaal.training.synth import generate_municipality, write_municipality

    data = work / "data"
    write_municipality(generate_municipality(households=households, seed=7), data)
    tracking_uri = tracking.default_tracking_uri(work / "mlflow")
    result = run_pipeline(load_dataset_config(data / "dataset.yaml"), work / "models" / "bench", tracking_uri=tracking_uri)
    return result.bundle_dir, tracking_uri, f"models:/{result.tracked.registered_name}/{result.tracked.registered_version}"


def workload(data: Path, count: int, households_per_request: int, run: str) -> tuple[list[bytes], list[bytes]]:
    """Service bodies (signals and facts of new households) and the same households' feature rows for MLflow."""
    import pandas as pd

    from vroegsignaal.demo import facts_body, signal_bodies
    from vroegsignaal.scoring.household import household_features

    signals = pd.read_parquet(data / "signals.parquet")
    facts = pd.read_parquet(data / "households.parquet").set_index("household_id")
    today = dt.date.today()
    reference = signals["signal_date"].max()
    shift = pd.Timestamp(today) - reference
    recent = signals[signals["signal_date"] > reference - pd.Timedelta(days=365)]
    groups = [rows for _, rows in recent.groupby("household_id") if rows["signal_date"].max() > reference - pd.Timedelta(days=90)]
    service_bodies, mlflow_bodies = [], []
    columns = None
    for i in range(count):
        households, rows_for_mlflow = [], []
        for j in range(households_per_request):
            rows = groups[(i * households_per_request + j) % len(groups)]
            household_id = f"bench_{run}_{i:07d}_{j:03d}"
            fact_body = facts_body(facts.loc[rows["household_id"].iloc[0]])
            signals_body = signal_bodies(rows, shift=shift, id_prefix=household_id)
            households.append(
                {"household_id": household_id, "team": "team-noord", "facts": fact_body, "signals": signals_body}
            )
            features = household_features(signals_body, fact_body, today)
            columns = columns or list(features)
            rows_for_mlflow.append([features[c] for c in columns])
        service_bodies.append(
            json.dumps({"municipality_code": "GM0344", "reference_date": today.isoformat(), "households": households}).encode()
        )
        mlflow_bodies.append(json.dumps({"dataframe_split": {"columns": columns, "data": rows_for_mlflow}}).encode())
    return service_bodies, mlflow_bodies


# ------------------------------------------------------------------------------------------------------------- run


@contextmanager
def postgres_database(url: str, *, schema: str | None = None, options: str = "") -> Iterator[str | None]:
    """A ``DATABASE_URL`` on a schema of its own on the PostgreSQL at ``url`` (dropped afterwards); ``None`` when
    no ``url`` is given or the server does not answer. ``options``: more server settings for its connections, as in
    a URL (``-csynchronous_commit%3Doff``)."""
    import psycopg

    if not url:
        yield None
        return
    try:
        admin = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        print(f"PostgreSQL at {url} does not answer ({type(error).__name__}): measuring SQLite only", flush=True)
        yield None
        return
    schema = schema or f"vs_bench_{os.getpid()}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{url}?options=-csearch_path%3D{schema}" + (f"%20{options}" if options else "")
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def analyze_tables(database_url: str) -> None:
    """``ANALYZE`` the service's tables on the PostgreSQL schema of ``database_url``, as autovacuum does while tables
    grow. The test server here runs without autovacuum; without fresh statistics a connection keeps the plans it
    cached while the tables were nearly empty and its statements come to scan whole tables (measured here: the read
    of a household's signals 0.5 ms with 200 households, 3.8 ms with 4,000; a request 7.7 → 11.4 ms)."""
    import psycopg

    from vroegsignaal.service.models import Base

    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as connection:
        for table in Base.metadata.sorted_tables:
            connection.execute(f'ANALYZE "{table.name}"')


#: Seconds between two ``ANALYZE`` runs while the PostgreSQL service is measured (autovacuum's stand-in, and more
#: eager: autovacuum looks at most once a minute and analyses a table after 10% of its rows changed).
ANALYZE_EVERY_SECONDS = 2.0


@contextmanager
def analyzed_while_running(database_url: str | None) -> Iterator[None]:
    """Within the block, :func:`analyze_tables` once at its start and then every :data:`ANALYZE_EVERY_SECONDS`, in a
    thread (nothing when ``database_url`` is ``None``)."""
    if database_url is None:
        yield
        return
    stop = threading.Event()

    def keep_analyzing() -> None:
        while True:
            analyze_tables(database_url)
            if stop.wait(ANALYZE_EVERY_SECONDS):
                return

    thread = threading.Thread(target=keep_analyzing, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def run(options: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="vroegsignaal-bench-service-"))
    processes: list[subprocess.Popen] = []
    try:
        with postgres_database(options.postgres_url) as postgres_url:
            try:
                return _run(options, work, processes, postgres_url)
            finally:  # the servers go before their schema does
                for process in processes:
                    stop(process)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(options: argparse.Namespace, work: Path, processes: list[subprocess.Popen], postgres_url: str | None) -> dict:
    from vroegsignaal.schemas.enums import Role
    from vroegsignaal.service.security import issue_demo_tokens
    from vroegsignaal.service.settings import build_settings

    print("training the model ...", flush=True)
    bundle, tracking_uri, model_uri = prepare_model(work, options.households)
    (work / "bare_app.py").write_text(BARE_APP)
    databases = {"service": f"sqlite:///{work / 'service.db'}", "service_pg": postgres_url}
    settings = build_settings(demo_mode=True, database_url=databases["service"], models_dir=bundle.parent)
    admin = issue_demo_tokens(settings)[Role.ADMIN]
    ports = {name: free_port() for name in SERVERS}
    print("starting the servers ...", flush=True)
    for name, database_url in databases.items():
        if database_url is None:
            continue
        service_env = {
            "VROEGSIGNAAL_DEMO_MODE": "true",
            "DATABASE_URL": database_url,
            "VROEGSIGNAAL_MODELS_DIR": str(bundle.parent),
            "VROEGSIGNAAL_LOG_LEVEL": "WARNING",
        }
        processes.append(start([str(BIN / "vroegsignaal"), "serve", "--port", str(ports[name])],
                               env=service_env, port=ports[name], ready_path="/ready", cwd=work))
    processes.append(start([str(BIN / "uvicorn"), "bare_app:app", "--port", str(ports["bare"]), "--log-level", "warning",
                            "--no-access-log"], env={}, port=ports["bare"], ready_path="/docs", cwd=work))
    processes.append(start([str(BIN / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local",
                            "-p", str(ports["mlflow"]), "-h", "127.0.0.1"],
                           env={"MLFLOW_TRACKING_URI": tracking_uri, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"},
                           port=ports["mlflow"], ready_path="/ping", cwd=work))
    measured = [name for name in SERVERS if name != "service_pg" or postgres_url is not None]
    results: dict = {"phases": [], "date": dt.date.today().isoformat(), "requests": options.requests}
    phases = [(1, 1), (options.batch, 1)] + ([(1, options.concurrency)] if options.concurrency > 1 else [])
    headers = {"Authorization": f"Bearer {admin}"}
    for size, concurrency in phases:
        count = options.requests if size == 1 else max(options.requests // 10, 50)
        runs: dict[str, list[dict]] = {name: [] for name in measured}
        for repeat in range(options.repeats):
            run_id = f"{size}c{concurrency}r{repeat}"
            service_bodies, mlflow_bodies = workload(work / "data", count + options.warmup, size, run_id)
            print(f"  {size} household(s) per request, concurrency {concurrency}, run {repeat + 1}/"
                  f"{options.repeats} ...", flush=True)
            requests = {
                "service": ("/v1/scores", service_bodies, headers),
                "service_pg": ("/v1/scores", service_bodies, headers),
                "bare": ("/score", service_bodies, {}),
                "mlflow": ("/invocations", mlflow_bodies, {}),
            }
            for name in measured:
                path, bodies, auth = requests[name]
                with analyzed_while_running(postgres_url if name == "service_pg" else None):
                    runs[name].append(measure(ports[name], path, bodies, auth, options.warmup, concurrency))
        servers = {name: median_run(r) for name, r in runs.items()}
        results["phases"].append({"households": size, "concurrency": concurrency, "servers": servers})
    return results


#: Issue #3's targets for one household at concurrency 1.
TARGET_P50_MS = 2.0
TARGET_TIMES_MLFLOW = 10.0
TARGET_SHARE_OF_BARE = 0.40


def target_verdicts(servers: dict) -> list[str]:
    """One line per target of issue #3, met or not, with the measured value."""
    service, bare, mlflow = (servers[name] for name in ("service", "bare", "mlflow"))
    checks = (
        (f"p50 ≤ {TARGET_P50_MS:g} ms", service["p50_ms"] <= TARGET_P50_MS, f"{service['p50_ms']:.2f} ms"),
        (
            f"≥ {TARGET_TIMES_MLFLOW:g}× the requests/s of `mlflow models serve`",
            service["requests_per_s"] >= TARGET_TIMES_MLFLOW * mlflow["requests_per_s"],
            f"{service['requests_per_s'] / mlflow['requests_per_s']:.1f}×",
        ),
        (
            f"≥ {TARGET_SHARE_OF_BARE:.0%} of the bare FastAPI ceiling",
            service["requests_per_s"] >= TARGET_SHARE_OF_BARE * bare["requests_per_s"],
            f"{service['requests_per_s'] / bare['requests_per_s']:.0%}",
        ),
    )
    return [f"- {name}: **{'met' if met else 'not met'}** ({value})" for name, met, value in checks]


def budget_line(servers: dict) -> str:
    """What the two throughput targets leave per request at concurrency 1 (one request at a time: requests/s is
    one over the time per request)."""
    bare, mlflow = servers["bare"], servers["mlflow"]
    times_mlflow = 1000 / (TARGET_TIMES_MLFLOW * mlflow["requests_per_s"])
    share_of_bare = 1000 / (TARGET_SHARE_OF_BARE * bare["requests_per_s"])
    return (
        f"At concurrency 1 the throughput targets leave {times_mlflow:.2f} ms (≥ {TARGET_TIMES_MLFLOW:g}× mlflow) and "
        f"{share_of_bare:.2f} ms (≥ {TARGET_SHARE_OF_BARE:.0%} of bare) per request over HTTP, the client's share "
        f"included; the bare endpoint alone takes {bare['p50_ms']:.2f} ms of that (p50)."
    )


def write_results(results: dict, path: Path, command: str) -> None:
    lines = [
        "## Scoring service over HTTP",
        "",
        f"Measured {results['date']} on this machine ({os.cpu_count()} cores, shared with other work), one worker "
        "per server, SQLite unless the row says PostgreSQL (the local server, over TCP, its tables analysed every "
        f"{ANALYZE_EVERY_SECONDS:g} s while measured, more often than autovacuum would: the server here runs "
        "without it); the servers are measured one after the other; command:",
        "",
        f"    {command}",
        "",
    ]
    labels: dict[str, Callable[[int], str]] = {
        "service": lambda n: f"Vroegsignaal `POST /v1/scores` ({n} household(s): features, score, reasons, persisted)",
        "service_pg": lambda n: "the same on PostgreSQL",
        "bare": lambda n: "bare FastAPI endpoint returning a constant (ceiling)",
        "mlflow": lambda n: f"`mlflow models serve`, same model ({n} ready-made feature row(s), nothing persisted)",
    }
    for phase in results["phases"]:
        size, entry = phase["households"], phase["servers"]
        service = entry["service"]
        lines += [
            f"{size} household(s) per request, concurrency {phase['concurrency']} ({service['requests']} requests "
            f"per run, median run shown; p50 of each run: {service['runs_p50_ms']} ms):",
            "",
            "| server | p50 | p95 | p99 | requests/s | service ÷ this (req/s) |",
            "|---|---|---|---|---|---|",
        ]
        for name in (name for name in SERVERS if name in entry):
            row = entry[name]
            ratio = service["requests_per_s"] / row["requests_per_s"]
            lines.append(
                f"| {labels[name](size)} | {row['p50_ms']:.2f} ms | {row['p95_ms']:.2f} ms | {row['p99_ms']:.2f} ms | "
                f"{row['requests_per_s']:,.0f} | {ratio:.2f} |"
            )
        lines.append("")
    single = next(p["servers"] for p in results["phases"] if p["households"] == 1 and p["concurrency"] == 1)
    lines += [
        "Targets (issue #3), one household scored, explained and persisted, concurrency 1:",
        "",
        *target_verdicts(single),
        "",
        budget_line(single),
        "",
    ]
    section = "\n".join(lines)
    replace_section(path, section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="Measured single-household requests per run.")
    parser.add_argument("--batch", type=int, default=100, help="Households per request in the batch measurement.")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--concurrency", type=int, default=8, help="Clients at once in the extra single-household run (1: none)."
    )
    parser.add_argument("--households", type=int, default=20_000, help="Size of the synthetic municipality.")
    parser.add_argument(
        "--postgres-url", default=POSTGRES_URL, help="PostgreSQL server for the second service ('' to leave it out)."
    )
    parser.add_argument("--results", type=Path, default=None)
    options = parser.parse_args()
    results = run(options)
    print(json.dumps(results, indent=2))
    if options.results:
        write_results(results, options.results, "python bench/service.py " + " ".join(sys.argv[1:]))
        print(f"results written to {options.results}")


if __name__ == "__main__":
    main()
