"""One exception hierarchy for the whole project.

Every error a user can cause is a :class:`VroegsignaalError`. Its message names the field or column, the rule that
was broken and the offending values or rows, and never contains personal data (no BSN, name or address; household
pseudonyms only). The service maps these classes to HTTP status codes in one place; the CLI prints the message and
exits with a non-zero code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


class VroegsignaalError(Exception):
    """Base class of every error Vroegsignaal raises on purpose."""


class ConfigError(VroegsignaalError, ValueError):
    """A dataset config or a setting is invalid."""


class SensitiveFeatureError(ConfigError):
    """A sensitive or denylisted column was offered as a model feature."""


@dataclass(frozen=True)
class ValidationFailure:
    """One broken rule in a data set: which column, which check, how often, and a few example rows."""

    table: str
    column: str | None
    check: str
    count: int
    examples: tuple[Any, ...] = ()
    rows: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        # Examples reach messages, logs and API answers: a name or an address a user put in the wrong column is
        # never among them (see ``safe_example``).
        from vroegsignaal.schemas.identifiers import safe_example  # noqa: PLC0415 - identifiers imports this module

        object.__setattr__(
            self,
            "examples",
            tuple(safe_example(value if isinstance(value, dt.date) else _plain(value)) for value in self.examples),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "column": self.column,
            "check": self.check,
            "count": self.count,
            "examples": [_plain(value) for value in self.examples],
            "rows": list(self.rows),
        }

    def describe(self) -> str:
        where = f"column '{self.column}'" if self.column else "table"
        parts = [f"{self.table}: {where} fails '{self.check}' in {self.count} row(s)"]
        if self.rows:
            parts.append(f"rows {', '.join(str(row) for row in self.rows)}")
        if self.examples:
            parts.append(f"e.g. {', '.join(repr(_plain(value)) for value in self.examples)}")
        return "; ".join(parts)


def _plain(value: Any) -> Any:
    """Turn numpy/pandas scalars into plain Python values for messages and JSON."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            pass
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


@dataclass
class DataValidationError(VroegsignaalError, ValueError):
    """A data set broke one or more rules of its schema; ``failures`` lists every one of them."""

    failures: Sequence[ValidationFailure] = field(default_factory=tuple)
    summary: str = "data validation failed"

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.summary} ({len(self.failures)} problem(s)):"]
        lines.extend(f"  - {failure.describe()}" for failure in self.failures)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "failures": [failure.to_dict() for failure in self.failures]}

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its fields, not as the exception's message: it crosses to the parent of a worker process whole
        # (a multiprocessing pool otherwise fails to rebuild it and waits for ever).
        return type(self), (tuple(self.failures), self.summary)


class IdentifierDetectedError(DataValidationError):
    """A column looks like a direct identifier (BSN, name, address, postcode with house number, date of birth)."""


class ModelBundleError(VroegsignaalError):
    """A model bundle is missing, incomplete, tampered with or does not fit the feature catalogue."""


class ModelNotApprovedError(VroegsignaalError):
    """A model version that no ethics reviewer approved was asked to serve outside demo mode."""


class NotFoundError(VroegsignaalError):
    """A household, model version or other object does not exist (or is not visible to the caller)."""


class PermissionDeniedError(VroegsignaalError):
    """The caller's role or municipality does not allow this."""


class ConflictError(VroegsignaalError):
    """The request conflicts with the current state (e.g. an invalid status transition)."""


class ServiceUnavailableError(VroegsignaalError):
    """A dependency (database, model) is unavailable; the client may retry."""


def format_rows(rows: Sequence[int], limit: int = 5) -> str:
    """Format row numbers for a message, showing at most ``limit`` of them."""
    shown = ", ".join(str(row) for row in list(rows)[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")

