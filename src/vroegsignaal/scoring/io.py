"""Reading and writing tables (csv or parquet, chosen by extension) with clear errors and atomic writes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from vroegsignaal.errors import DataValidationError, ValidationFailure

MSG_EMPTY_FILE = "file is empty"
CSV_SUFFIXES = (".csv", ".txt", ".data", ".tsv")


def _refuse(table: str, check: str, summary: str) -> DataValidationError:
    return DataValidationError([ValidationFailure(table, None, check, 1)], summary=summary)


def read_table(path: Path, *, table: str, csv: Any = None) -> pd.DataFrame:
    """Read a csv or parquet file; missing, empty, unreadable or unknown files raise :class:`DataValidationError`.

    ``csv`` is a :class:`~vroegsignaal.schemas.dataset_config.CsvOptions` (separator, decimal mark, header,
    column names), the same for every csv table of a dataset config.
    """
    path = Path(path)
    if not path.is_file():
        raise _refuse(table, f"file '{path}' exists", f"{table}: file not found")
    if path.stat().st_size == 0:
        raise _refuse(table, MSG_EMPTY_FILE, f"{table}: '{path}' is empty")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in CSV_SUFFIXES:
            options: dict[str, Any] = {}
            if csv is not None:
                options["sep"] = r"\s+" if csv.sep == " " else csv.sep
                options["decimal"] = csv.decimal
                if not csv.header:
                    options["header"] = None
                    options["names"] = csv.columns
            return pd.read_csv(path, **options)
    except pd.errors.EmptyDataError:
        raise _refuse(table, MSG_EMPTY_FILE, f"{table}: '{path}' is empty") from None
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise _refuse(table, "readable csv/parquet", f"{table}: cannot read '{path}': {error}") from None
    raise _refuse(
        table, "extension .csv or .parquet", f"{table}: '{path.name}' has an unknown extension {suffix!r} (use .csv or .parquet)"
    )


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write csv or parquet by extension, atomically (a failed write leaves no partial file)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise _refuse("output", "extension .csv or .parquet", f"--out: '{path.name}' must end in .csv or .parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        if suffix == ".csv":
            frame.to_csv(temporary, index=False)
        else:
            frame.to_parquet(temporary, index=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
