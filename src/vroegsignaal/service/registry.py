"""The MLflow registry as a model source, through ``vroegsignaal.tracking`` (the only module importing mlflow).

A ``models:/NAME@alias`` URI is downloaded into the model cache and loaded like a bundle directory; the version is
recorded as ``models:/NAME/VERSION`` so later status changes can be mirrored onto that registry version as aliases
(``approved``, ``champion``, ...).
"""

from __future__ import annotations

import re
from pathlib import Path

from vroegsignaal.errors import ConfigError
from vroegsignaal.schemas.enums import ModelStatus

MSG_BAD_URI = "model_uri must look like models:/NAME@alias or models:/NAME/VERSION, got {uri!r}"
_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[^/]+))$")


def parse_model_uri(uri: str) -> tuple[str, str | None, str | None]:
    """``(name, alias, version)`` of a registry URI; exactly one of alias and version is set."""
    match = _URI.match(uri)
    if match is None:
        raise ConfigError(MSG_BAD_URI.format(uri=uri))
    return match["name"], match["alias"], match["version"]


def download_registry_bundle(uri: str, *, cache_dir: Path) -> Path:
    """Download the bundle behind ``uri`` into ``cache_dir`` and return its directory."""
    from vroegsignaal import tracking  # noqa: PLC0415 - mlflow is heavy and only needed for registry sources

    name, alias, version = parse_model_uri(uri)
    destination = cache_dir / name / (alias or version or "latest")
    destination.mkdir(parents=True, exist_ok=True)
    result = tracking.download_bundle(uri, destination)
    return Path(result) if result is not None else destination


def mirror_status_as_alias(model_name: str, registry_version: str, status: ModelStatus) -> None:
    """Point the alias named after ``status`` at the registry version (e.g. ``champion``)."""
    from vroegsignaal import tracking  # noqa: PLC0415

    tracking.set_alias(model_name, status.value, registry_version)
