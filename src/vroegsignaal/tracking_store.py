"""Where MLflow runs are tracked by default: what ``vroegsignaal train`` writes to and the service reads from.

Kept apart from :mod:`vroegsignaal.tracking`, which imports MLflow: the service's settings need the default before
anything else, and importing MLflow there would make every start pay for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
DB_FILE = "mlflow.db"


def default_tracking_uri(base: Path, *, environ: Mapping[str, str] | None = None) -> str:
    """``MLFLOW_TRACKING_URI`` when set, else a local SQLite store ``sqlite:///<base>/mlflow.db``.

    ``environ`` defaults to the process environment, read when called, never at import. The SQLite store keeps its artefacts in ``<base>/artifacts``
    (see :func:`artifact_location`).
    """
    environment = os.environ if environ is None else environ
    configured = environment.get(TRACKING_URI_ENV, "").strip()
    if configured:
        return configured
    return f"sqlite:///{(Path(base) / DB_FILE).absolute()}"
