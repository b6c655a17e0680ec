"""Forms on the pages: what was entered, and which field has which problem, in words a person understands.

A refused form is shown again with the values kept and each message next to its field (linked to the input with
``aria-describedby``) and in a summary at the top that links to the fields. Field names are the API's field paths
(``contact_attempts.0.kind``), so the API's validation and the domain's checks name the same fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from vroegsignaal.errors import DataValidationError
from vroegsignaal.schemas.api import MSG_CONTROL_CHARACTERS, MSG_HOLDS_BSN, MSG_TOO_FEW_VISIBLE

#: pydantic error type → message key; anything else gets the general "not valid" message.
PYDANTIC_MESSAGE_KEYS: Mapping[str, str] = {
    "missing": "form.error.required",
    "enum": "form.error.choice",
    "literal_error": "form.error.choice",
    "date_parsing": "form.error.date",
    "date_from_datetime_parsing": "form.error.date",
    "date_type": "form.error.date",
    "string_too_short": "form.error.too_short",
    "string_too_long": "form.error.too_long",
    "string_pattern_mismatch": "form.error.pattern",
    "greater_than_equal": "form.error.date_too_early",  # the only lower bound a form field has: dates from 1900
}
#: The rules of :func:`~vroegsignaal.schemas.api.free_text` (a ``value_error``), told apart by their message.
FREE_TEXT_MESSAGE_KEYS: tuple[tuple[str, str], ...] = (
    (MSG_HOLDS_BSN, "form.error.personal_data"),
    (MSG_CONTROL_CHARACTERS, "form.error.control_characters"),
    (MSG_TOO_FEW_VISIBLE.split("{")[0], "form.error.nothing_visible"),
)
DEFAULT_MESSAGE_KEY = "form.error.invalid"


@dataclass(frozen=True)
class FieldError:
    """A message key and its parameters, shown next to one field."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class FormState:
    """What a form showed or received: the values (kept after a refusal) and the problems per field."""

    values: Mapping[str, str] = field(default_factory=dict)
    errors: dict[str, FieldError] = field(default_factory=dict)

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def error(self, name: str) -> FieldError | None:
        return self.errors.get(name)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    def described_by(self, name: str, hint: object = None) -> str:
        """The ids for a field's ``aria-describedby``: its hint (when it has one) and its error message (if any)."""
        ids = [f"{field_id(name)}-hint"] if hint else []
        if name in self.errors:
            ids.append(f"{field_id(name)}-error")
        return " ".join(ids)


def field_id(name: str) -> str:
    """The HTML id of a field (``contact_attempts.0.kind`` → ``f-contact_attempts-0-kind``)."""
    return "f-" + name.replace(".", "-")


def dotted(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location)


def errors_from_validation(
    exc: ValidationError, *, rename: Callable[[str], str] = lambda name: name
) -> dict[str, FieldError]:
    """pydantic's errors per form field: the first problem of each field, as a message key with its limits."""
    errors: dict[str, FieldError] = {}
    for error in exc.errors():
        name = rename(dotted(error.get("loc", ())))
        context = error.get("ctx") or {}
        params = {key: context[key] for key in ("min_length", "max_length") if key in context}
        errors.setdefault(name, FieldError(_message_key(error), params))
    return errors


def _message_key(error: Mapping[str, Any]) -> str:
    if error["type"] == "value_error":
        message = str(error.get("msg", ""))
        for fragment, key in FREE_TEXT_MESSAGE_KEYS:
            if fragment in message:
                return key
    return PYDANTIC_MESSAGE_KEYS.get(error["type"], DEFAULT_MESSAGE_KEY)


def errors_from_domain(
    exc: DataValidationError, *, key_for: Callable[[str], str], rename: Callable[[str], str] = lambda name: name
) -> dict[str, FieldError]:
    """A domain refusal per form field; ``key_for`` turns the domain's check into a message key."""
    errors: dict[str, FieldError] = {}
    for failure in exc.failures:
        name = rename(failure.column or failure.table)
        errors.setdefault(name, FieldError(key_for(failure.check)))
    return errors
