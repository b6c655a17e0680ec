"""The ``vroegsignaal`` command line: synthesise, validate, train, score, render cards, and run the service.

Every command exits with a non-zero code and a readable message on bad input; nothing half-written stays behind.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from vroegsignaal.errors import ConfigError, DataValidationError, VroegsignaalError

# MLflow logs its store migrations and serialisation notes at INFO; the CLI shows its own progress instead.
logging.getLogger("mlflow").setLevel(logging.WARNING)

app = typer.Typer(
    name="vroegsignaal",
    help="Explainable, fairness-audited risk scoring for proactive debt assistance (vroegsignalering).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)
# Results (paths, URLs, tokens) are never wrapped: a narrow terminal must not break a path someone copies.
out = Console(soft_wrap=True)

EXIT_INPUT_ERROR = 1
F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_VAR = Path("var")
#: The training summary's words and colour for each verdict outcome of a model card.
VERDICT_LINES = {
    "promotable": ("green", "promotable"),
    "reviewer_decides": ("yellow", "promotable, but the ethics reviewer must decide (the reasons say why)"),
    "not_promotable": ("red", "NOT promotable"),
}


def friendly_errors(command: F) -> F:
    """Turn our errors into a readable message and a non-zero exit code (no traceback for user mistakes)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DataValidationError as error:
            print_validation_error(error)
            raise typer.Exit(EXIT_INPUT_ERROR) from None
        except VroegsignaalError as error:
            console.print(f"[bold red]Error:[/] {error}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(EXIT_INPUT_ERROR) from None

    return wrapper  # type: ignore[return-value]


def print_validation_error(error: DataValidationError) -> None:
    console.print(f"[bold red]Error:[/] {error.summary}", highlight=False)
    if not console.is_terminal:
        # Into a file or a pipe (a scheduled job's log): whole lines, never a table cut at 80 columns.
        for failure in error.failures:
            console.print(f"  - {failure.describe()}", highlight=False, markup=False, soft_wrap=True)
        return
    table = Table("table", "column", "rule", "rows", "example rows", "examples", show_lines=False)
    for failure in error.failures:
        table.add_row(
            failure.table,
            failure.column or "—",
            failure.check,
            str(failure.count),
            ", ".join(str(r) for r in failure.rows),
            ", ".join(repr(v) for v in failure.examples),
        )
    console.print(table)


@contextmanager
def progress_steps(description: str) -> Iterator[Callable[[str], None]]:
    """A rich spinner whose text follows the pipeline's steps."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(step: str) -> None:
            progress.update(task, description=f"{description}: {step}")
            console.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {description}: {step}", highlight=False)

        yield update


# ------------------------------------------------------------------------------------------------------------ synth


@app.command()
@friendly_errors
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the tables and dataset.yaml.")],
    households: Annotated[int, typer.Option(min=100, help="Number of households.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 42,
    months: Annotated[int, typer.Option(min=26, help="Months to simulate (12 history + reference months + 12).")] = 36,
    bias: Annotated[
        list[str] | None,
        typer.Option(help="Bias knob(s) to plant for fairness tests: under_recording, proxy. Off by default."),
    ] = None,
    municipality: Annotated[
        list[str] | None, typer.Option(help="CBS municipality code(s), e.g. GM0344; repeat for several.")
    ] = None,
    under_recording_probability: Annotated[
        float, typer.Option(help="Strength of the under_recording knob (share of affected positives lost).")
    ] = 0.6,
) -> None:
    """Generate a synthetic municipality: signals, household facts, audit attributes, outcomes and true risk."""
    from vroegsignaal.training.synth import generate_municipality, write_municipality

    with progress_steps("synthetic municipality") as step:
        step(f"simulating {households:,} households over {months} months")
        result = generate_municipality(
            households=households,
            seed=seed,
            months=months,
            municipalities=tuple(municipality or ("GM0344",)),
            bias=tuple(bias or ()),
            under_recording_probability=under_recording_probability,
        )
        step("writing tables")
        path = write_municipality(result, out_dir)
    table = Table("measure", "value", title="Synthetic municipality")
    for key, value in result.summary.items():
        table.add_row(str(key), f"{value:.4g}" if isinstance(value, float) else str(value))
    out.print(table)
    out.print(f"Dataset config: [bold]{path / 'dataset.yaml'}[/]")


# --------------------------------------------------------------------------------------------------------- validate


@app.command()
@friendly_errors
def validate(config: Annotated[Path, typer.Option("--config", help="Dataset config (YAML).")]) -> None:
    """Validate a data set against its dataset config and the data contract; list every problem."""
    from vroegsignaal.schemas.dataset_config import load_dataset_config
    from vroegsignaal.training.data import load_dataset

    dataset_config = load_dataset_config(config)
    with progress_steps("validate") as step:
        step("reading and checking every table")
        dataset = load_dataset(dataset_config)
    table = Table("table", "rows", "columns", title="Validated")
    for name, size in dataset.report.tables.items():
        table.add_row(name, f"{size['rows']:,}", str(size["columns"]))
    out.print(table)
    for warning in dataset.report.warnings:
        out.print(f"[yellow]Warning:[/] {warning}")
    out.print(
        f"OK: {dataset.rows:,} rows, {dataset.positives:,} positive, {len(dataset.feature_names)} features, "
        f"audit attributes: {', '.join(dataset.audit.columns) or 'none'}"
    )


# ------------------------------------------------------------------------------------------------------------ train


def default_tracking_uri() -> str:
    from vroegsignaal import tracking

    return tracking.default_tracking_uri(DEFAULT_VAR / "mlflow")


@app.command()
@friendly_errors
def train(
    config: Annotated[Path, typer.Option("--config", help="Dataset config (YAML).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the model bundle.")],
    track: Annotated[bool, typer.Option(help="Log the run to MLflow and register the model as 'candidate'.")] = True,
    tracking_uri: Annotated[
        str | None, typer.Option(help="MLflow tracking URI; default $MLFLOW_TRACKING_URI or var/mlflow (SQLite).")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing bundle in --out.")] = False,
) -> None:
    """Train, evaluate, audit and explain a model; write its bundle and model card."""
    from vroegsignaal.schemas.dataset_config import load_dataset_config
    from vroegsignaal.training.pipeline import run_pipeline

    dataset_config = load_dataset_config(config)
    uri = (tracking_uri or default_tracking_uri()) if track else None
    with progress_steps("train") as step:
        result = run_pipeline(dataset_config, out_dir, tracking_uri=uri, progress=step, overwrite=overwrite)
    print_training_summary(result)


def print_training_summary(result: Any) -> None:
    performance = result.card.performance
    table = Table("model", "AUC", "PR-AUC", "precision@k", "recall@k", title=f"Test set (k = {result.card.capacity.k} per period)")
    for name, metrics in performance.models.items():
        table.add_row(name, *(_fmt(getattr(metrics, m)) for m in ("auc", "pr_auc", "precision_at_k", "recall_at_k")))
    out.print(table)
    if performance.bayes_auc is not None:
        out.print(f"Bayes-limit AUC {_fmt(performance.bayes_auc)}; the model reaches {_fmt(performance.share_of_bayes_auc)} of it")
    for name in ("rule", "scorecard"):
        lift = getattr(performance, f"lift_over_{name}")
        if lift is not None:
            out.print(f"Finds {lift:.2f}× as many at-risk households within capacity as the {name}")
    in_use = performance.in_use
    if in_use is not None and in_use.lift_over_rule is not None:
        out.print(
            f"As the list is used ({in_use.cooldown_days} days' wait after contact): reaches "
            f"{in_use.lift_over_rule:.2f}× as many households in need as the rule"
        )
    verdict = result.card.verdict
    colour, words = VERDICT_LINES[verdict.outcome]
    out.print(f"[{colour}]Verdict: {words}[/]")
    for reason in verdict.reasons:
        out.print(f"  - {reason.en}")
    out.print(f"Model version: [bold]{result.model_version}[/]")
    out.print(f"Bundle:        {result.bundle_dir}")
    out.print(f"Model card:    {result.card_html}")
    if result.tracked is not None:
        out.print(f"MLflow:        {result.tracked.model_uri} (alias candidate)")


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


# ------------------------------------------------------------------------------------------------------------ score


@contextmanager
def resolved_bundle(model: str) -> Iterator[Path]:
    """A bundle directory from a path, or from an MLflow ``models:/`` URI (downloaded from the store ``train`` logs
    to, and removed again afterwards)."""
    if not (model.startswith("models:/") or model.startswith("runs:/")):
        yield Path(model)
        return
    import tempfile

    from vroegsignaal import tracking

    with tempfile.TemporaryDirectory(prefix="vroegsignaal-bundle-") as folder:
        yield tracking.download_bundle(model, Path(folder), tracking_uri=default_tracking_uri())


@app.command()
@friendly_errors
def score(
    model: Annotated[str, typer.Option("--model", help="Model bundle folder or MLflow URI (models:/NAME@alias).")],
    input_path: Annotated[Path, typer.Option("--input", help="Flat table (csv or parquet) with the model's features.")],
    output_path: Annotated[Path, typer.Option("--out", help="Output file (csv or parquet by extension).")],
    explain: Annotated[
        str, typer.Option(help="Reasons for: 'listed' (households on a list or flagged), 'all' or 'none'.")
    ] = "listed",
    lang: Annotated[str, typer.Option(help="Language of the reasons: nl or en.")] = "nl",
    top: Annotated[int, typer.Option(min=1, max=10, help="Reasons per household.")] = 3,
) -> None:
    """Score a batch: one output row per input row with id, score, risk band, suggested contact, flags and reasons."""
    from vroegsignaal.scoring.batch import score_file

    if explain not in ("listed", "all", "none") or lang not in ("nl", "en"):
        raise typer.BadParameter("--explain must be listed, all or none; --lang nl or en")
    with progress_steps("score") as step, resolved_bundle(model) as bundle_dir:
        step("scoring")
        summary = score_file(
            bundle_dir,
            input_path,
            output_path,
            explain=_explain_mode(explain),
            lang=lang,  # type: ignore[arg-type]
            top_n=top,
        )
    out.print(
        f"Scored {summary.rows:,} rows with model {summary.model_version} ({summary.explained:,} explained) → {output_path}"
    )


def _explain_mode(explain: str) -> bool | Literal["listed"]:
    return {"listed": "listed", "all": True, "none": False}[explain]  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------------------------- card


@app.command()
@friendly_errors
def card(
    model: Annotated[Path, typer.Option("--model", help="Model bundle folder.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Where to write the card; default a new folder.")] = None,
) -> None:
    """Re-render a model card (Markdown, HTML, plots) from the card.json in a bundle."""
    from vroegsignaal.model_cards.render import load_card, render_card

    source = model / "card" / "card.json"
    if not source.is_file():
        raise VroegsignaalError(f"--model: '{model}' has no card/card.json; is it a model bundle?")
    card_data = load_card(source)
    target = out_dir or Path(f"{model.name}-card")
    files = render_card(card_data, target)
    out.print(f"Card written to {files.directory}: {', '.join(str(p) for p in files.html.values())}")


# ---------------------------------------------------------------------------------------------------------- service

db_app = typer.Typer(help="The service database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
@friendly_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default from settings: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings: 8000).")] = None,
    upgrade: Annotated[bool, typer.Option(help="Migrate the database before serving.")] = True,
) -> None:
    """Run the scoring service (settings from VROEGSIGNAAL_* environment variables; see docs/operations.md)."""
    from vroegsignaal.service import commands

    commands.serve(host=host, port=port, upgrade=upgrade)


@db_app.command("upgrade")
@friendly_errors
def db_upgrade(revision: Annotated[str, typer.Option(help="Alembic revision.")] = "head") -> None:
    """Create or migrate the service database."""
    from vroegsignaal.service import commands

    before, at = commands.db_upgrade(revision=revision)
    if before == at and revision != "head" and revision != at:
        # Asked for an older migration than the database has: an upgrade never goes back.
        out.print(f"Database is at migration {at}, past {revision}: 'db upgrade' never goes back, nothing changed.")
    elif before == at:
        out.print(f"Database is at migration {at}; nothing to do.")
    else:
        out.print(f"Database migrated from {before or 'empty'} to {at}.")


@app.command("audit-verify")
@friendly_errors
def audit_verify(
    checkpoint: Annotated[
        list[str] | None,
        typer.Option(
            help="SEQ:HASH:TIME of a head printed by an earlier run and kept on another system: the chain must still "
            "hold that record as it was (catches the newest records deleted or rewritten together with the head, and "
            "records younger than 183 days deleted under a feigned purge). Repeatable.",
        ),
    ] = None,
) -> None:
    """Check the audit log's hash chain; exit 1 when any record was edited, deleted or reordered. Prints the head to
    keep as a checkpoint for later runs."""
    from vroegsignaal.service import commands
    from vroegsignaal.service.audit import AuditCheckpoint

    try:
        checkpoints = [AuditCheckpoint.parse(text) for text in checkpoint or ()]
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--checkpoint") from None
    result = commands.audit_verify(checkpoints=checkpoints)
    if result.ok:
        out.print(f"[green]Audit log intact[/]: {result.records_checked:,} records verified.")
        out.print(f"Head (keep it elsewhere, check it later with --checkpoint): {result.head}")
        return
    console.print(f"[bold red]Audit log broken[/] ({result.records_checked:,} records checked):")
    for problem in result.problems:
        console.print(f"  - record {problem.seq if problem.seq is not None else '?'}: {problem.message}")
    raise typer.Exit(EXIT_INPUT_ERROR)


@app.command()
@friendly_errors
def purge() -> None:
    """Delete signals and scores past the retention period (the audit log is kept at least 6 months)."""
    from vroegsignaal.service import commands
    from vroegsignaal.service.settings import get_maintenance_settings

    settings = get_maintenance_settings()
    report = commands.purge(settings)
    if settings.retention_warning is not None:
        console.print(f"[yellow]warning:[/] {settings.retention_warning}")
    table = Table("table", "rows deleted", title="Retention purge")
    for name, count in report.deleted.items():
        table.add_row(name, f"{count:,}")
    out.print(table)
    out.print(
        f"Open cases marked changed (cases_changed): {report.cases_changed:,}; a decision on what was shown "
        "before the purge is refused, the caseworker looks again."
    )
    out.print(
        f"Cases whose arrears total counted a purged signal, summed again over the signals kept "
        f"(arrears_recounted): {report.arrears_recounted:,}."
    )


@app.command("export-decisions")
@friendly_errors
def export_decisions(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the labelled tables.")],
    municipality: Annotated[
        str | None, typer.Option(help="Only this municipality (CBS code, e.g. GM0344).")
    ] = None,
) -> None:
    """Export caseworkers' decisions with signals and household facts as labelled data for retraining."""
    from vroegsignaal.service import commands

    report = commands.export_decisions(out_dir, municipality=municipality)
    out.print(
        f"Exported to {out_dir}: {report.decisions:,} decisions ({report.labelled:,} with a label in outcomes.parquet), "
        f"{report.households:,} households, {report.signals:,} signals; {report.skipped_objected:,} decisions of "
        "households that objected left out."
    )
    if report.skipped_purged_history:
        out.print(
            f"[yellow]{report.skipped_purged_history:,} decisions[/] left out: the retention purge deleted signals of "
            "the 12 months before them, so their features would be wrong. Export regularly to keep them."
        )
    if report.facts_from_household_row:
        out.print(
            f"[yellow]{report.facts_from_household_row:,} households[/] have decisions from before decisions kept the "
            "household's facts: their facts are the latest on file, which may be from after the decision."
        )
    out.print(
        f"Before training, add {out_dir / 'audit.parquet'} with the audit attributes (age band, gender, origin, "
        f"neighbourhood) from your own records; then: vroegsignaal train --config {out_dir / 'dataset.yaml'} --out "
        "MODEL_DIR"
    )


@app.command()
@friendly_errors
def promote(
    version: Annotated[str, typer.Option("--version", help="The approved model version to serve.")],
    comment: Annotated[str | None, typer.Option(help="Why (recorded in the history).")] = None,
) -> None:
    """Make an approved model version the champion (an ethics reviewer must have approved it first)."""
    from vroegsignaal.service import commands

    status = commands.promote(version, comment=comment)
    out.print(f"{version} is now {status.value}; reload the running service (POST /v1/admin/reload).")


@app.command("demo-tokens")
@friendly_errors
def demo_tokens() -> None:
    """Print a demo bearer token per role (demo mode only)."""
    from vroegsignaal.service import commands

    for role, token in commands.issue_demo_tokens().items():
        out.print(f"{role}: {token}", soft_wrap=True)


# ------------------------------------------------------------------------------------------------------------- demo


@app.command()
@friendly_errors
def demo(
    households: Annotated[
        int, typer.Option(min=10_000, help="Households in the synthetic municipality (fewer give too few cases to learn from).")
    ] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the service.")] = 8000,
    var: Annotated[Path, typer.Option(help="Folder for data, models, MLflow and the database.")] = DEFAULT_VAR,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Keep serving after setting up.")] = True,
) -> None:
    """The main job end to end: synthetic municipality → trained, audited model with its card → the service."""
    import datetime as dt

    from vroegsignaal.demo import DemoPaths, prepare_model
    from vroegsignaal.service import commands
    from vroegsignaal.service.clock import dutch_today
    from vroegsignaal.service.settings import build_settings

    paths = DemoPaths(var)
    _port_free_or_raise(host, port)  # before minutes of training, not after
    with progress_steps("demo") as step:
        bundle = prepare_model(paths, households=households, seed=seed, progress=step)
        paths.database.parent.mkdir(parents=True, exist_ok=True)
        paths.database.unlink(missing_ok=True)
        settings = build_settings(
            demo_mode=True,
            database_url=f"sqlite:///{paths.database}",
            models_dir=paths.models,
            model_cache_dir=var / "model-cache",
            host=host,
            port=port,
        )
        step("creating the service database")
        commands.db_upgrade(settings)
        tokens = commands.issue_demo_tokens(settings)
        base = f"http://{host}:{port}"
        server = _start_server(settings)
        step("sending the households with recent signals to the service")
        scored = _seed(base, tokens["admin"], paths, today=dutch_today(dt.datetime.now(dt.UTC)))
    print_demo_summary(
        bundle, paths, base, tokens, scored, token_hours=settings.demo_token_hours, serving=serve_after
    )
    if serve_after:
        out.print("[bold]The service is running.[/] Stop it with Ctrl-C.")
        server.wait()
    else:
        server.stop()


def print_demo_summary(
    bundle: Path, paths: Any, base: str, tokens: dict[str, str], scored: int, *, token_hours: int,
    serving: bool = True,
) -> None:
    from vroegsignaal import tracking

    out.rule("Vroegsignaal demo")
    out.print(f"Model bundle:  {bundle}")
    out.print(f"Model card:    {bundle / 'card' / 'card.html'}  (English: card.en.html)")
    out.print(
        f"MLflow runs:   .venv/bin/mlflow ui --backend-store-uri {tracking.default_tracking_uri(paths.mlflow)}"
    )
    out.print(f"Households on the outreach lists: {scored:,} (municipality GM0344, teams team-noord and team-zuid)")
    out.print("")
    database_url = f"sqlite:///{paths.database}"
    if serving:
        out.print(f"Pages:         {base}/  (sign in with a token below)")
        out.print(f"API docs:      {base}/docs")
        out.print(f"Health:        {base}/health   Metrics: {base}/metrics")
    else:  # --no-serve: nothing answers at those addresses
        out.print(
            f"The service was stopped (--no-serve). To open the pages: DATABASE_URL={database_url} "
            f"VROEGSIGNAAL_DEMO_MODE=true VROEGSIGNAAL_MODELS_DIR={paths.models} .venv/bin/vroegsignaal serve"
        )
    out.print(
        f"Database:      {paths.database}  (for the maintenance commands: DATABASE_URL={database_url} "
        ".venv/bin/vroegsignaal audit-verify)"
    )
    out.print("")
    out.print(f"Demo tokens (valid {token_hours} hours; never use demo secrets in production):")
    for role, token in tokens.items():
        out.print(f"  {role}: {token}")


class _Server:
    """uvicorn in a background thread, so the demo can send its households through the real HTTP API."""

    def __init__(self, settings: Any) -> None:
        import threading

        import uvicorn

        from vroegsignaal.service.commands import server_config

        self.server = uvicorn.Server(server_config(settings, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name="vroegsignaal-service", daemon=True)

    def start(self, base: str) -> None:
        import time
        import urllib.error
        import urllib.request

        self.thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not self.thread.is_alive():
                raise VroegsignaalError("the service stopped while starting (is the port already in use?)")
            if not self.server.started:  # until it listens, whatever answers on the port is another server
                time.sleep(0.1)
                continue
            try:
                with urllib.request.urlopen(f"{base}/ready", timeout=2) as response:  # noqa: S310 - our own localhost
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise VroegsignaalError(f"the service at {base} did not become ready within 60 s")

    def wait(self) -> None:
        try:
            self.thread.join()
        except KeyboardInterrupt:
            self.stop()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _port_free_or_raise(host: str, port: int) -> None:
    """Refuse a port another process listens on (a demo still running): the demo would otherwise print the URLs
    and tokens of that other server."""
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigError(
                f"--port: port {port} on {host} is in use ({error.strerror}); stop the other service (an earlier "
                "demo?) or choose another port with --port"
            ) from None


def _start_server(settings: Any) -> _Server:
    server = _Server(settings)
    server.start(f"http://{settings.host}:{settings.port}")
    return server


def _seed(base: str, token: str, paths: Any, *, today: Any) -> int:
    import json
    import urllib.error
    import urllib.request

    from vroegsignaal.demo import seed_service

    class _Response:
        def __init__(self, status_code: int, text: str) -> None:
            self.status_code, self.text = status_code, text

    def post(body: dict[str, Any]) -> _Response:
        request = urllib.request.Request(  # noqa: S310 - our own localhost
            f"{base}/v1/scores",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                return _Response(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return _Response(error.code, error.read().decode())

    return seed_service(post, paths.data, today=today)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
