"""The MLflow registry as a model source, through ``vroegsignaal.tracking`` (the only module importing mlflow).

A ``models:/NAME@alias`` URI is resolved to its registry version and downloaded into the model cache, then loaded
like any bundle directory. The service records the version's source as ``models:/NAME/VERSION`` so later status
changes can be mirrored onto that registry version as aliases (``approved``, ``champion``, ...).
"""

from __future__ import annotations

import re
from pathlib import Path

from vroegsignaal.errors import ConfigError, NotFoundError
from vroegsignaal.schemas.enums import ModelStatus
from vroegsignaal.service.versions import RegistryMirror

MSG_BAD_URI = "model_uri must look like models:/NAME@alias or models:/NAME/VERSION, got {uri!r}"
MSG_NO_ALIAS = "registered model {name!r} has no version with alias {alias!r}"
_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[^/]+))$")


def parse_model_uri(uri: str) -> tuple[str, str | None, str | None]:
    """``(name, alias, version)`` of a registry URI; exactly one of alias and version is set."""
    match = _URI.match(uri)
    if match is None:
        raise ConfigError(MSG_BAD_URI.format(uri=uri))
    return match["name"], match["alias"], match["version"]


def resolve_registry_version(uri: str, *, tracking_uri: str | None) -> str:
    """The registry version a URI points at now (an alias is looked up in the registry)."""
    from vroegsignaal import tracking  # noqa: PLC0415 - mlflow is heavy and only needed for registry sources

    name, alias, version = parse_model_uri(uri)
    if version is not None:
        return version
    for registered in tracking.list_versions(name, tracking_uri=tracking_uri):
        if alias in registered.aliases:
            return registered.version
    raise NotFoundError(MSG_NO_ALIAS.format(name=name, alias=alias))


def download_registry_bundle(uri: str, *, cache_dir: Path, tracking_uri: str | None) -> Path:
    """Download the verified bundle behind ``uri`` into ``cache_dir`` and return its directory."""
    from vroegsignaal import tracking  # noqa: PLC0415

    name, alias, version = parse_model_uri(uri)
    destination = cache_dir / name / (version or alias or "latest")
    return tracking.download_bundle(uri, destination, tracking_uri=tracking_uri)


STATUS_ALIASES = frozenset(status.value for status in ModelStatus)


def alias_mirror(tracking_uri: str | None) -> RegistryMirror:
    """A mirror that points the alias named after a status (e.g. ``champion``) at the registry version and takes
    the other status aliases off it: a version has one status, so a rejected one keeps no ``approved`` alias and
    an approved one no ``candidate``."""

    def mirror(model_name: str, registry_version: str, status: ModelStatus) -> None:
        from vroegsignaal import tracking  # noqa: PLC0415

        tracking.set_alias(model_name, status.value, registry_version, tracking_uri=tracking_uri)
        for registered in tracking.list_versions(model_name, tracking_uri=tracking_uri):
            if registered.version != str(registry_version):
                continue
            for alias in set(registered.aliases) & STATUS_ALIASES - {status.value}:
                tracking.delete_alias(model_name, alias, tracking_uri=tracking_uri)

    return mirror
