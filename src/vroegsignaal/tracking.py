"""MLflow tracking and model registry: with ``mlflow_model.py`` (the logged model's code), the only module that
imports mlflow.

Training logs one run per model (params, metrics, the model card with its plots) and logs the model as an
``mlflow.pyfunc`` model whose single artefact is the whole model bundle directory. The model is logged from code
(``vroegsignaal/mlflow_model.py``), not pickled; its :class:`BundleModel` loads the bundle with
:func:`~vroegsignaal.scoring.bundle.load_bundle` and scores with the :class:`~vroegsignaal.scoring.scorer.Scorer`,
so MLflow serving, the CLI and the service give the same advice. The model is registered and gets the alias
``candidate``; further status moves (``approved``, ``champion``, ...) are aliases too (MLflow 3 has aliases, not
stages).

Embedded default: a local SQLite store ``<base>/mlflow.db`` with artefacts under ``<base>/artifacts``; a server (or
any other store) through ``MLFLOW_TRACKING_URI``. Every function takes ``tracking_uri``; ``None`` means MLflow's own
resolution (the environment variable, then its default). MLflow's fluent API (``start_run``, ``log_model``) reads a
process-global URI, so :func:`log_training_run` sets it for the duration of the run and restores it afterwards;
everything else goes through an explicit :class:`~mlflow.tracking.MlflowClient`.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import Model, infer_signature
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    ErrorCode,
)
from mlflow.tracking import MlflowClient

from vroegsignaal.errors import ConfigError, ModelBundleError, NotFoundError, ServiceUnavailableError
from vroegsignaal.scoring.bundle import load_bundle, verify_bundle
from vroegsignaal.scoring.scorer import Scorer
# Kept in tracking_store, which does not import MLflow (the service's settings need the default); used here too.
from vroegsignaal.tracking_store import DB_FILE, TRACKING_URI_ENV, default_tracking_uri  # noqa: F401

ARTIFACTS_DIR = "artifacts"
#: Name of the logged model inside its run, and of the bundle artefact inside the pyfunc model.
MODEL_NAME_IN_RUN = "model"
BUNDLE_ARTIFACT = "bundle"
CARD_ARTIFACT_PATH = "model_card"
CANDIDATE_ALIAS = "candidate"
#: Default of the pyfunc model's ``explain`` parameter: reasons for every row (``"listed"``, ``"none"`` also allowed).
DEFAULT_PARAMS: dict[str, str] = {"explain": "all"}
#: The file MLflow logs as the pyfunc model's code (models from code: nothing is pickled).
MODEL_CODE = Path(__file__).with_name("mlflow_model.py")
#: Libraries the pyfunc model needs at load time (pinned to the versions that logged it).
RUNTIME_REQUIREMENTS = ("vroegsignaal", "lightgbm", "numpy", "pandas", "pyarrow", "PyYAML", "pydantic", "pandera")

MSG_NO_VERSION = "the registered model has no such version or alias"
MSG_NOT_A_MODELS_URI = "model_uri must look like models:/NAME@alias, models:/NAME/VERSION or runs:/RUN_ID/model"
MSG_NO_BUNDLE_IN_MODEL = "the MLflow model holds no Vroegsignaal bundle"
MSG_INVALID_REQUEST = "MLflow refused the request"
MSG_REGISTRY_UNAVAILABLE = (
    "{what}: the MLflow registry did not answer or failed ({code}); check MLFLOW_TRACKING_URI and that the server runs"
)
MSG_UNKNOWN_EXPLAIN = "params.explain must be one of"
MSG_NO_CARD = "holds no model card: card.json is missing"

_MODELS_URI = re.compile(r"^(?:models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>\d+))|runs:/[^/]+/.+)$")
_EXPLAIN: dict[str, bool | Literal["listed"]] = {"all": True, "listed": "listed", "none": False}


@dataclass(frozen=True)
class TrackedRun:
    """Where a training run and its registered model ended up."""

    run_id: str
    model_uri: str
    registered_name: str
    registered_version: str
    model_id: str


@dataclass(frozen=True)
class RegisteredVersion:
    """One version of a registered model, as the registry knows it."""

    name: str
    version: str
    aliases: tuple[str, ...]
    tags: Mapping[str, str] = field(default_factory=dict)
    run_id: str | None = None
    created_at: datetime | None = None

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


# --- where things are stored ---------------------------------------------------------------------------------------


def local_sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` tracking URI, or ``None`` for any other store."""
    parsed = urlparse(tracking_uri)
    if parsed.scheme != "sqlite" or not parsed.path or parsed.path == "/:memory:":
        return None
    # sqlite:///relative.db → path "/relative.db"; sqlite:////abs.db → "//abs.db" (SQLAlchemy's convention).
    raw = unquote(parsed.path)
    return Path(raw[1:]).absolute() if raw.startswith("/") else Path(raw).absolute()


def artifact_location(tracking_uri: str, experiment: str) -> str | None:
    """Artefact root for a new experiment: ``<base>/artifacts/<experiment>`` beside a local SQLite store.

    ``None`` for other stores: a tracking server decides where its artefacts go.
    """
    database = local_sqlite_path(tracking_uri)
    if database is None:
        return None
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", experiment).strip("_") or "experiment"
    return (database.parent / ARTIFACTS_DIR / slug).as_uri()


@contextmanager
def _using_tracking_uri(tracking_uri: str) -> Iterator[None]:
    # mlflow.set_tracking_uri sets a process-global and the MLFLOW_TRACKING_URI variable; put both back afterwards,
    # also when the caller had only the variable set (which mlflow's own helper would erase).
    from mlflow.tracking._tracking_service import utils as tracking_utils  # noqa: PLC0415 - the saved global

    previous_global = tracking_utils._tracking_uri
    previous_env = os.environ.get(TRACKING_URI_ENV)
    mlflow.set_tracking_uri(tracking_uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous_global)
        if previous_env is None:
            os.environ.pop(TRACKING_URI_ENV, None)
        else:
            os.environ[TRACKING_URI_ENV] = previous_env


def _client(tracking_uri: str | None) -> MlflowClient:
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


@contextmanager
def _registry_errors(what: str) -> Iterator[None]:
    """Turn MLflow's refusals into our errors, naming what was asked for."""
    try:
        yield
    except MlflowException as error:
        code = error.error_code
        # MLflow reports a missing alias as an invalid parameter rather than a missing resource.
        missing_alias = code == ErrorCode.Name(INVALID_PARAMETER_VALUE) and "alias" in error.message.lower() and (
            "not found" in error.message.lower()
        )
        if code == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST) or missing_alias:
            raise NotFoundError(f"{what}: {MSG_NO_VERSION}") from None
        if code == ErrorCode.Name(INVALID_PARAMETER_VALUE):
            raise ConfigError(f"{what}: {MSG_INVALID_REQUEST} ({error.message})") from None
        # Not answering, or failing on its side: a dependency that is down (503), whose message is not repeated (it
        # names the tracking URI, which may hold credentials).
        raise ServiceUnavailableError(MSG_REGISTRY_UNAVAILABLE.format(what=what, code=code)) from None


# --- the pyfunc model ----------------------------------------------------------------------------------------------


class BundleModel(mlflow.pyfunc.PythonModel):
    """An MLflow pyfunc model around a Vroegsignaal model bundle.

    ``predict`` takes a feature frame (extra columns are ignored) and returns, per row: ``score`` (calibrated
    probability), ``band``, ``intensity``, ``uncertain``, ``out_of_distribution`` and ``flags`` (lists of names), and
    ``reasons`` as a JSON string (``null`` where not explained). Parameter ``explain``: ``"all"`` (default),
    ``"listed"`` or ``"none"``.
    """

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self._scorer = Scorer(load_bundle(context.artifacts[BUNDLE_ARTIFACT]))

    def predict(
        self,
        context: mlflow.pyfunc.PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        explain = str((params or {}).get("explain", DEFAULT_PARAMS["explain"]))
        if explain not in _EXPLAIN:
            raise ConfigError(f"{MSG_UNKNOWN_EXPLAIN} {', '.join(_EXPLAIN)} (got {explain!r})")
        return pyfunc_output(self._scorer.score_frame(model_input, explain=_EXPLAIN[explain]))


def pyfunc_output(scored: pd.DataFrame) -> pd.DataFrame:
    """The scorer's frame in a shape MLflow can describe: lists of names stay lists, reasons become JSON text."""
    return pd.DataFrame(
        {
            "score": scored["score"].astype(float),
            "band": scored["band"].astype(str),
            "intensity": scored["intensity"].astype(str),
            "uncertain": scored["uncertain"].astype(bool),
            "out_of_distribution": [list(names) for names in scored["out_of_distribution"]],
            "flags": [list(names) for names in scored["flags"]],
            "reasons": [
                None if reasons is None else json.dumps(reasons, default=_plain) for reasons in scored["reasons"]
            ],
        },
        index=scored.index,
    )


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


# --- logging a training run ----------------------------------------------------------------------------------------


def log_training_run(
    *,
    tracking_uri: str,
    experiment: str,
    run_name: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, float | None],
    bundle_dir: Path,
    card_dir: Path,
    input_example: pd.DataFrame,
    registered_model_name: str,
    tags: Mapping[str, str],
) -> TrackedRun:
    """Log one training run and register its model with the alias ``candidate``.

    Logs ``params``; ``metrics`` (values that could not be computed — ``None``, ``NaN`` — are left out); the card
    folder under ``model_card/``; and the model as a pyfunc model (:class:`BundleModel`, logged from
    :data:`MODEL_CODE`) whose artefact is the whole bundle directory, with a signature inferred from the input
    example (restricted to the model's features, so no audit column can reach MLflow) and the model's output on it.
    The registered version carries ``tags`` too.

    Raises :class:`~vroegsignaal.errors.ConfigError` when ``card_dir`` holds no card and
    :class:`~vroegsignaal.errors.ModelBundleError` when ``bundle_dir`` is not a valid bundle.
    """
    bundle_dir, card_dir = Path(bundle_dir), Path(card_dir)
    if not (card_dir / "card.json").is_file():
        # A model without its card cannot be reviewed, so it is not registered either.
        raise ConfigError(f"card_dir: '{card_dir}' {MSG_NO_CARD}")
    bundle = load_bundle(bundle_dir)
    example = model_input_example(input_example, bundle.feature_names)
    output = pyfunc_output(Scorer(bundle).score_frame(example, explain=True))
    signature = infer_signature(example, output, params=DEFAULT_PARAMS)
    database = local_sqlite_path(tracking_uri)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)

    client = _client(tracking_uri)
    with _using_tracking_uri(tracking_uri):
        experiment_id = _experiment_id(client, experiment, tracking_uri)
        with mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=dict(tags)) as run:
            if params:
                mlflow.log_params({key: _param_value(value) for key, value in params.items()})
            computable = {key: float(value) for key, value in metrics.items() if _is_finite(value)}
            if computable:
                mlflow.log_metrics(computable)
            mlflow.log_artifacts(str(card_dir), artifact_path=CARD_ARTIFACT_PATH)
            info = mlflow.pyfunc.log_model(
                name=MODEL_NAME_IN_RUN,
                python_model=str(MODEL_CODE),
                artifacts={BUNDLE_ARTIFACT: str(bundle_dir.absolute())},
                signature=signature,
                input_example=example,
                pip_requirements=runtime_requirements(),
                registered_model_name=registered_model_name,
                tags=dict(tags),
            )
    version = str(info.registered_model_version)
    with _registry_errors(f"model '{registered_model_name}' version {version}"):
        client.set_registered_model_alias(registered_model_name, CANDIDATE_ALIAS, version)
        for key, value in tags.items():
            client.set_model_version_tag(registered_model_name, version, key, str(value))
    return TrackedRun(
        run_id=run.info.run_id,
        model_uri=f"models:/{registered_model_name}/{version}",
        registered_name=registered_model_name,
        registered_version=version,
        model_id=str(info.model_id),
    )


def model_input_example(frame: pd.DataFrame, feature_names: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """The model's feature columns of ``frame`` (a few rows), categories as plain strings, whole numbers as floats.

    Extra columns — ids, labels, audit attributes — never reach the signature or the logged example. Integer
    columns become floats: the model takes a missing value in any feature, and an MLflow signature that says
    ``long`` would refuse one.
    """
    missing = [name for name in feature_names if name not in frame.columns]
    if missing:
        raise ConfigError(f"input_example: missing model feature column(s) {', '.join(repr(m) for m in missing)}")
    example = frame[list(feature_names)].head(5).reset_index(drop=True).copy()
    for name in example.columns:
        if isinstance(example[name].dtype, pd.CategoricalDtype):
            example[name] = example[name].astype(object)
        elif pd.api.types.is_integer_dtype(example[name].dtype):
            example[name] = example[name].astype("float64")
    return example


def runtime_requirements() -> list[str]:
    """Pinned requirements of the pyfunc model (the versions installed here)."""
    pins = []
    for package in RUNTIME_REQUIREMENTS:
        try:
            pins.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pins.append(package)
    return pins


def _experiment_id(client: MlflowClient, name: str, tracking_uri: str) -> str:
    existing = client.get_experiment_by_name(name)
    if existing is None:
        return client.create_experiment(name, artifact_location=artifact_location(tracking_uri, name))
    if existing.lifecycle_stage == "deleted":
        client.restore_experiment(existing.experiment_id)
    return existing.experiment_id


def _param_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _is_finite(value: float | None) -> bool:
    return value is not None and math.isfinite(float(value))


# --- the registry --------------------------------------------------------------------------------------------------


def set_alias(name: str, alias: str, version: str, *, tracking_uri: str | None = None) -> None:
    """Point ``alias`` (e.g. ``approved``, ``champion``) of registered model ``name`` at ``version``."""
    with _registry_errors(f"model '{name}' version {version}"):
        _client(tracking_uri).set_registered_model_alias(name, alias, str(version))


def delete_alias(name: str, alias: str, *, tracking_uri: str | None = None) -> None:
    """Remove ``alias`` from registered model ``name``."""
    with _registry_errors(f"model '{name}' alias '{alias}'"):
        _client(tracking_uri).delete_registered_model_alias(name, alias)


def set_version_tags(name: str, version: str, tags: Mapping[str, str], *, tracking_uri: str | None = None) -> None:
    """Set tags (e.g. ``status``, ``approved_by``) on one registered version."""
    client = _client(tracking_uri)
    with _registry_errors(f"model '{name}' version {version}"):
        for key, value in tags.items():
            client.set_model_version_tag(name, str(version), key, str(value))


def list_versions(name: str, *, tracking_uri: str | None = None) -> list[RegisteredVersion]:
    """Every version of registered model ``name`` with its aliases and tags, oldest first (empty if unknown)."""
    client = _client(tracking_uri)
    escaped = name.replace("'", "\\'")
    with _registry_errors(f"model '{name}'"):
        found = client.search_model_versions(f"name='{escaped}'")
    aliases: dict[str, list[str]] = {}
    if found:
        with _registry_errors(f"model '{name}'"):
            for alias, version in client.get_registered_model(name).aliases.items():
                aliases.setdefault(str(version), []).append(alias)
    versions = [
        RegisteredVersion(
            name=version.name,
            version=str(version.version),
            aliases=tuple(sorted(aliases.get(str(version.version), []))),
            tags=dict(version.tags or {}),
            run_id=version.run_id,
            created_at=datetime.fromtimestamp(version.creation_timestamp / 1000, tz=UTC)
            if version.creation_timestamp
            else None,
        )
        for version in found
    ]
    return sorted(versions, key=lambda version: int(version.version))


def download_bundle(model_uri: str, dst: Path, *, tracking_uri: str | None = None) -> Path:
    """Download the model behind ``model_uri`` into ``dst`` and return its verified bundle directory.

    ``model_uri`` is ``models:/NAME@alias``, ``models:/NAME/VERSION`` or ``runs:/RUN_ID/model``. Raises
    :class:`~vroegsignaal.errors.NotFoundError` for an unknown model, version or alias and
    :class:`~vroegsignaal.errors.ModelBundleError` when the model holds no (intact) bundle.
    """
    match = _MODELS_URI.match(model_uri)
    if match is None:
        raise ConfigError(f"{MSG_NOT_A_MODELS_URI}, got {model_uri!r}")
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    with _registry_errors(model_uri):
        if match["name"] is not None:
            # Resolved here rather than by mlflow, whose models:/ resolution reads the process-global registry URI.
            client = _client(tracking_uri)
            version = match["version"] or client.get_model_version_by_alias(match["name"], match["alias"]).version
            source = client.get_model_version_download_uri(match["name"], str(version))
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=source, dst_path=str(dst), tracking_uri=tracking_uri
            )
        elif tracking_uri is not None:
            with _using_tracking_uri(tracking_uri):
                local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(dst))
        else:
            local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(dst))
    bundle_dir = _bundle_path_in_model(Path(local), model_uri)
    verify_bundle(bundle_dir)
    return bundle_dir


def _bundle_path_in_model(model_dir: Path, model_uri: str) -> Path:
    mlmodel = model_dir / "MLmodel"
    if not mlmodel.is_file():
        raise ModelBundleError(f"{model_uri}: {MSG_NO_BUNDLE_IN_MODEL} (no MLmodel file)")
    flavor = Model.load(str(mlmodel)).flavors.get("python_function", {})
    entry = flavor.get("artifacts", {}).get(BUNDLE_ARTIFACT)
    if not entry:
        raise ModelBundleError(f"{model_uri}: {MSG_NO_BUNDLE_IN_MODEL} (no '{BUNDLE_ARTIFACT}' artefact)")
    return model_dir / entry["path"]
