"""The model bundle: a directory holding everything needed to score, explain and review one model version.

Written once by training (atomically: a temporary directory renamed into place), read by the service, the CLI and
the MLflow wrapper. No pickle anywhere: the boosters are LightGBM text files, everything else JSON or YAML. The
manifest lists a SHA-256 checksum of every file, and :func:`load_bundle` refuses a bundle whose files do not match.
See ``docs/contracts.md`` ("Model bundle").
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from vroegsignaal.errors import ConfigError, ModelBundleError
from vroegsignaal.schemas.catalogue import CATALOGUE_VERSION, FEATURE_CATALOGUE
from vroegsignaal.schemas.dataset_config import DatasetConfig, check_features_allowed, parse_dataset_config
from vroegsignaal.scoring.model import Calibration, RiskBands, TreeEnsemble, ensemble_from_model_strings
from vroegsignaal.scoring.preprocess import FeaturePreprocessor

BUNDLE_FORMAT = 1
MANIFEST = "manifest.json"
#: The files besides the model files (``manifest["model_files"]``) that loading a bundle reads.
LOADED_FILES = ("config.yaml", "preprocess.json", "calibration.json", "bands.json", "metrics.json", "fairness.json")
MSG_CHECKSUM_MISMATCH = "does not match its checksum in the manifest"
MSG_NOT_A_BUNDLE = "is not a model bundle (no manifest.json)"
MSG_CATALOGUE_MISMATCH = "does not fit the feature catalogue"
LIBRARIES = ("vroegsignaal", "lightgbm", "scikit-learn", "fairlearn", "pandas", "numpy", "mlflow")

FeatureSet = Literal["catalogue", "custom"]


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dump_json(data: Any) -> str:
    """Deterministic JSON (sorted keys, NaN refused) for files in a bundle."""
    return json.dumps(data, indent=2, sort_keys=True, default=_json_default, allow_nan=False, ensure_ascii=False)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def make_model_version(name: str, created_at: datetime, model_texts: list[str]) -> str:
    """A readable, unique version id: ``<config name>-<UTC timestamp>-<8 hex of the model's hash>``."""
    digest = hashlib.sha256("".join(model_texts).encode()).hexdigest()[:8]
    return f"{name}-{created_at:%Y%m%dT%H%M%SZ}-{digest}"


def feature_set_of(feature_names: list[str] | tuple[str, ...]) -> FeatureSet:
    """``catalogue`` when every feature is a catalogue feature (signal data), else ``custom``."""
    return "catalogue" if all(name in FEATURE_CATALOGUE for name in feature_names) else "custom"


def monotone_vector(config: DatasetConfig, feature_names: list[str] | tuple[str, ...]) -> list[int]:
    return [
        1 if name in config.monotone_increasing else -1 if name in config.monotone_decreasing else 0
        for name in feature_names
    ]


@dataclass(frozen=True)
class ModelBundle:
    """A loaded, verified model bundle."""

    path: Path
    manifest: Mapping[str, Any]
    ensemble: TreeEnsemble
    preprocessor: FeaturePreprocessor
    calibration: Calibration
    bands: RiskBands
    config: DatasetConfig
    metrics: Mapping[str, Any] = field(default_factory=dict)
    fairness: Mapping[str, Any] = field(default_factory=dict)

    @property
    def model_version(self) -> str:
        return str(self.manifest["model_version"])

    @property
    def model_name(self) -> str:
        return str(self.manifest["model_name"])

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.preprocessor.feature_names

    @property
    def feature_set(self) -> FeatureSet:
        return self.manifest["feature_set"]

    @cached_property
    def card(self) -> dict[str, Any]:
        """The model card as JSON data (empty when the bundle carries no card)."""
        path = self.path / "card" / "card.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def card_html(self, lang: str = "nl") -> str | None:
        name = "card.html" if lang == "nl" else f"card.{lang}.html"
        path = self.path / "card" / name
        return path.read_text(encoding="utf-8") if path.is_file() else None


def write_bundle(
    out_dir: Path,
    *,
    model_version: str,
    created_at: datetime,
    ensemble: TreeEnsemble,
    preprocessor: FeaturePreprocessor,
    calibration: Calibration,
    bands: RiskBands,
    config: DatasetConfig,
    metrics: Mapping[str, Any],
    fairness: Mapping[str, Any],
    input_example: pd.DataFrame,
    write_extras: Callable[[Path], None] | None = None,
    overwrite: bool = False,
    after_publish: Callable[[Path], None] | None = None,
) -> Path:
    """Write a bundle to ``out_dir`` atomically and return its path.

    ``write_extras`` may add files (the model card) to the temporary directory before the checksums are taken.
    ``after_publish`` runs on the bundle in place (logging it to MLflow, say) while a bundle it replaces is still
    kept aside. A failure anywhere, ``after_publish`` included, leaves ``out_dir`` as it was: a previous bundle is
    put back.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out: '{out_dir}' is a file, not a folder; choose a folder for the bundle")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise ConfigError(f"--out: folder '{out_dir}' is not empty; choose a new folder or allow overwriting")
        if not (out_dir / MANIFEST).is_file():
            # Overwriting replaces a bundle; it must never take a folder of data (or anything else) with it.
            raise ConfigError(f"--out: folder '{out_dir}' is not a model bundle (no {MANIFEST}); it is not replaced")
    check_features_allowed(list(preprocessor.feature_names), config.sensitive_columns)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        model_files = []
        for i, booster in enumerate(ensemble.boosters):
            name = "model.txt" if len(ensemble.boosters) == 1 else f"model_{i}.txt"
            booster.save_model(str(staging / name))
            model_files.append(name)
        (staging / "preprocess.json").write_text(dump_json(preprocessor.to_dict()), encoding="utf-8")
        (staging / "calibration.json").write_text(dump_json(calibration.to_dict()), encoding="utf-8")
        (staging / "bands.json").write_text(dump_json(bands.to_dict()), encoding="utf-8")
        (staging / "config.yaml").write_text(
            yaml.safe_dump(config.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        (staging / "metrics.json").write_text(dump_json(metrics), encoding="utf-8")
        (staging / "fairness.json").write_text(dump_json(fairness), encoding="utf-8")
        input_example[list(preprocessor.feature_names)].to_parquet(staging / "input_example.parquet", index=False)
        if write_extras is not None:
            write_extras(staging)
        feature_names = list(preprocessor.feature_names)
        manifest = {
            "bundle_format": BUNDLE_FORMAT,
            "model_version": model_version,
            "model_name": config.model_name,
            "dataset_config": config.name,
            "created_at": created_at.isoformat(),
            "feature_set": feature_set_of(feature_names),
            "catalogue_version": CATALOGUE_VERSION,
            "feature_names": feature_names,
            "monotone": monotone_vector(config, feature_names),
            "model_files": model_files,
            "ensemble_weights": list(ensemble.weights),
            "libraries": library_versions(),
            "checksums": {
                str(path.relative_to(staging)): sha256_file(path)
                for path in sorted(staging.rglob("*"))
                if path.is_file()
            },
        }
        (staging / MANIFEST).write_text(dump_json(manifest), encoding="utf-8")
        for path in [staging, *staging.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        previous = None
        if out_dir.exists():
            previous = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.previous.", dir=out_dir.parent))
            os.replace(out_dir, previous / out_dir.name)
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        if after_publish is not None:
            after_publish(out_dir)
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        if previous is not None:
            os.replace(previous / out_dir.name, out_dir)
            shutil.rmtree(previous, ignore_errors=True)
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
    return out_dir


def verify_bundle(path: Path) -> dict[str, Any]:
    """Check every file against the manifest; return the manifest or raise :class:`ModelBundleError`."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise ModelBundleError(f"model bundle '{path}' {MSG_NOT_A_BUNDLE}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ModelBundleError(f"model bundle '{path}': manifest.json is not valid JSON ({error})") from None
    if not isinstance(manifest, dict):
        raise ModelBundleError(f"model bundle '{path}': manifest.json is not a JSON object")
    if manifest.get("bundle_format") != BUNDLE_FORMAT:
        raise ModelBundleError(
            f"model bundle '{path}': bundle_format {manifest.get('bundle_format')!r} is not supported "
            f"(expected {BUNDLE_FORMAT})"
        )
    checksums = manifest.get("checksums")
    if not isinstance(checksums, dict) or not checksums:
        raise ModelBundleError(f"model bundle '{path}': manifest.json lists no checksums; it cannot be verified")
    # Every file the loader reads must be covered: a manifest that leaves one out would let it change unnoticed.
    model_files = manifest.get("model_files")
    read = [*LOADED_FILES, *(model_files if isinstance(model_files, list) else [])]
    problems = [f"'{name}' has no checksum in the manifest" for name in read if name not in checksums]
    for name, expected in checksums.items():
        file = path / name
        if not file.is_file():
            problems.append(f"'{name}' is missing")
        elif sha256_file(file) != expected:
            problems.append(f"'{name}' {MSG_CHECKSUM_MISMATCH}")
    if problems:
        raise ModelBundleError(f"model bundle '{path}' was changed after training: {'; '.join(problems)}")
    return manifest


def _check_catalogue(path: Path, manifest: Mapping[str, Any]) -> None:
    if manifest["feature_set"] != "catalogue":
        return
    bundle_major = str(manifest["catalogue_version"]).split(".")[0]
    if bundle_major != CATALOGUE_VERSION.split(".")[0]:
        raise ModelBundleError(
            f"model bundle '{path}' {MSG_CATALOGUE_MISMATCH}: catalogue version {manifest['catalogue_version']} "
            f"vs {CATALOGUE_VERSION} here"
        )
    problems = []
    for name, direction in zip(manifest["feature_names"], manifest["monotone"], strict=True):
        spec = FEATURE_CATALOGUE.get(name)
        if spec is None:
            problems.append(f"'{name}' is not in the catalogue")
        elif spec.monotone != 0 and direction != spec.monotone:
            problems.append(f"'{name}' was trained with monotone direction {direction}, the catalogue says {spec.monotone}")
    if problems:
        raise ModelBundleError(f"model bundle '{path}' {MSG_CATALOGUE_MISMATCH}: {'; '.join(problems)}")


def load_bundle(path: str | Path) -> ModelBundle:
    """Load and verify a bundle: checksums, format, catalogue compatibility, and no sensitive feature."""
    path = Path(path)
    manifest = verify_bundle(path)
    _check_catalogue(path, manifest)
    try:
        config = parse_dataset_config(yaml.safe_load((path / "config.yaml").read_text(encoding="utf-8")))
        preprocessor = FeaturePreprocessor.from_dict(json.loads((path / "preprocess.json").read_text(encoding="utf-8")))
        check_features_allowed(list(preprocessor.feature_names), config.sensitive_columns)
        if list(preprocessor.feature_names) != list(manifest["feature_names"]):
            raise ModelBundleError(f"model bundle '{path}': preprocess.json and manifest list different features")
        ensemble = ensemble_from_model_strings(
            [(path / name).read_text(encoding="utf-8") for name in manifest["model_files"]],
            manifest["ensemble_weights"],
        )
        calibration = Calibration.from_dict(json.loads((path / "calibration.json").read_text(encoding="utf-8")))
        bands = RiskBands.from_dict(json.loads((path / "bands.json").read_text(encoding="utf-8")))
        metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
        fairness = json.loads((path / "fairness.json").read_text(encoding="utf-8"))
    except ModelBundleError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise ModelBundleError(f"model bundle '{path}' cannot be read: {error}") from None
    for booster in ensemble.boosters:
        if booster.num_feature() != len(preprocessor.feature_names):
            raise ModelBundleError(
                f"model bundle '{path}': a booster expects {booster.num_feature()} features, "
                f"the bundle lists {len(preprocessor.feature_names)}"
            )
    return ModelBundle(path, manifest, ensemble, preprocessor, calibration, bands, config, metrics, fairness)
