"""The ``vroegsignaal`` command line: synthesise, validate, train, score, render cards, and run the service.

Every command exits with a non-zero code and a readable message on bad input; nothing half-written stays behind.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from vroegsignaal.errors import DataValidationError, VroegsignaalError

app = typer.Typer(
    name="vroegsignaal",
    help="Explainable, fairness-audited risk scoring for proactive debt assistance (vroegsignalering).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)
out = Console()

EXIT_INPUT_ERROR = 1
F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_VAR = Path("var")


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
            console.log(f"{description}: {step}")

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
    verdict = result.card.verdict
    colour = "green" if verdict.promotable else "red"
    out.print(f"[{colour}]Fairness gates {'passed' if verdict.promotable else 'NOT passed'}[/]")
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


def resolve_bundle(model: str) -> Path:
    """A bundle directory from a path or an MLflow ``models:/`` URI."""
    if model.startswith("models:/") or model.startswith("runs:/"):
        import tempfile

        from vroegsignaal import tracking

        return tracking.download_bundle(model, Path(tempfile.mkdtemp(prefix="vroegsignaal-bundle-")))
    return Path(model)


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
    with progress_steps("score") as step:
        step("loading the model")
        bundle_dir = resolve_bundle(model)
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


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
