"""Input checks shared by the fairness audit, the proxy check and the mitigation.

Every check raises ``ValueError`` whose message names the argument, the rule (a module constant that tests
match) and the offending values or row positions. Row *positions* are shown, never household pseudonyms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from vroegsignaal.errors import format_rows

MSG_LENGTH_MISMATCH = "must all have the same number of rows"
MSG_INDEX_MISMATCH = "must share the same index (the same households in the same order)"
MSG_EMPTY = "needs at least one row"
MSG_NOT_BINARY = "must contain only 0 and 1 (or False and True)"
MSG_SCORES_OUT_OF_RANGE = "must be probabilities between 0 and 1"
MSG_SELECTED_NOT_BOOLEAN = "must be True for households inside the capacity and False otherwise"
MSG_NO_AUDIT_COLUMNS = "needs at least one audit attribute column"
MSG_UNKNOWN_ATTRIBUTE = "is not an audit attribute"
MSG_INTERSECTION_TOO_SHORT = "needs at least two distinct audit attributes"
MSG_FEATURE_DTYPE = "must be numeric, boolean or pandas 'category' (encode text columns as categories)"

#: The group name given to rows whose audit value is missing, so they are reported instead of dropped.
MISSING_GROUP = "missing"
#: Shown between the group names of an intersection, e.g. ``outside_europe × female``.
INTERSECTION_SEPARATOR = " × "
_EXAMPLES = 5


def check_same_length(**arrays: Any) -> int:
    """The common length of the named arrays; raises naming each length when they differ or are empty."""
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} has {length}" for name, length in lengths.items())
        raise ValueError(f"{', '.join(lengths)} {MSG_LENGTH_MISMATCH}: {shown}")
    length = next(iter(lengths.values()))
    if length == 0:
        raise ValueError(f"{', '.join(lengths)}: the audit {MSG_EMPTY}")
    return length


def check_same_index(**frames: pd.DataFrame | pd.Series) -> None:
    """Raise when the frames are not indexed alike, naming the first differing row position."""
    names = list(frames)
    first = frames[names[0]].index
    for name in names[1:]:
        other = frames[name].index
        if not first.equals(other):
            same_length = len(first) == len(other)
            position = int(np.flatnonzero(np.asarray(first != other))[0]) if same_length else 0
            raise ValueError(
                f"{names[0]} and {name} {MSG_INDEX_MISMATCH}; first difference at row {position}"
            )


def binary_labels(values: Any, *, name: str) -> np.ndarray:
    """``values`` as a float array of 0.0/1.0; raises naming the offending values and rows otherwise."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.dtype == bool:
        return array.astype(np.float64)
    try:
        numeric = array.astype(np.float64)
    except (TypeError, ValueError):
        numeric = np.full(array.shape, np.nan)
    bad = np.flatnonzero(~np.isin(numeric, (0.0, 1.0)))
    if bad.size:
        raise ValueError(
            f"{name} {MSG_NOT_BINARY}; found {_examples(array[bad])} in rows {format_rows(bad.tolist())}"
        )
    return numeric


def probabilities(values: Any, *, name: str) -> np.ndarray:
    """``values`` as a float array within [0, 1]; raises naming the offending values and rows otherwise."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~((array >= 0.0) & (array <= 1.0)))
    if bad.size:
        examples = ", ".join(f"{v:g}" for v in array[bad][:_EXAMPLES])
        raise ValueError(
            f"{name} {MSG_SCORES_OUT_OF_RANGE}; found {examples} in rows {format_rows(bad.tolist())}"
        )
    return array


def selection_flags(values: Any, *, name: str) -> np.ndarray:
    """``values`` as a boolean array; 0/1 integers are accepted, anything else is refused with its rows."""
    array = np.asarray(values)
    if array.dtype == bool:
        return array
    try:
        return binary_labels(array, name=name).astype(bool)
    except ValueError:
        bad = np.flatnonzero(~np.isin(array, (0, 1)))
        raise ValueError(
            f"{name} {MSG_SELECTED_NOT_BOOLEAN}; found {_examples(array[bad])} "
            f"in rows {format_rows(bad.tolist())}"
        ) from None


def _examples(values: np.ndarray) -> str:
    """A few distinct offending values as plain Python reprs (``2``, ``'yes'``), for a message."""
    distinct = pd.unique(pd.Series(values, dtype=object))[:_EXAMPLES]
    return ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in distinct)


def check_audit_columns(audit: pd.DataFrame, *, name: str = "audit") -> None:
    """Refuse an audit table without columns."""
    if audit.shape[1] == 0:
        raise ValueError(f"{name} {MSG_NO_AUDIT_COLUMNS}")


def check_intersections(
    intersections: Sequence[Sequence[str]], audit_columns: Sequence[str]
) -> list[tuple[str, ...]]:
    """The intersections as tuples; raises for an unknown attribute or a combination of fewer than two."""
    known = list(audit_columns)
    checked = []
    for combination in intersections:
        combo = tuple(combination)
        unknown = [attribute for attribute in combo if attribute not in known]
        if unknown:
            raise ValueError(
                f"intersections: {', '.join(repr(u) for u in unknown)} {MSG_UNKNOWN_ATTRIBUTE} "
                f"(audit attributes: {', '.join(known)})"
            )
        if len(set(combo)) < 2:
            raise ValueError(f"intersections: {list(combo)!r} {MSG_INTERSECTION_TOO_SHORT}")
        checked.append(combo)
    return checked


def check_feature_dtypes(features: pd.DataFrame, *, name: str = "features") -> None:
    """Refuse feature columns LightGBM cannot use (text and other objects), naming them."""
    bad = [
        f"{column} ({dtype})"
        for column, dtype in features.dtypes.items()
        if not (
            isinstance(dtype, pd.CategoricalDtype)
            or pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_numeric_dtype(dtype)
        )
    ]
    if bad:
        raise ValueError(f"{name}: column(s) {', '.join(bad)} {MSG_FEATURE_DTYPE}")


def group_labels(audit: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """One string label per row: the audit value, or the values of an intersection joined by ``' × '``.

    Missing values become the group ``'missing'`` so that households without a recorded attribute are audited
    too.
    """
    parts = [audit[column].astype("string").fillna(MISSING_GROUP).astype(object) for column in columns]
    labels = parts[0]
    for part in parts[1:]:
        labels = labels + INTERSECTION_SEPARATOR + part
    name = INTERSECTION_SEPARATOR.join(columns)
    return pd.Series(labels.to_numpy(dtype=object), index=audit.index, name=name)


def group_order(audit: pd.DataFrame, columns: Sequence[str], labels: pd.Series) -> list[str]:
    """The groups present in ``labels``, in a stable, readable order.

    Categorical audit columns keep their category order (age bands stay in age order); other values are
    sorted. The ``'missing'`` group comes last.
    """
    orders = []
    for column in columns:
        values = audit[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            order = [str(c) for c in values.cat.categories]
        else:
            order = sorted(str(v) for v in values.dropna().unique())
        orders.append([*order, MISSING_GROUP])
    present = set(labels.unique())
    combined = orders[0]
    for order in orders[1:]:
        combined = [f"{a}{INTERSECTION_SEPARATOR}{b}" for a in combined for b in order]
    return [label for label in combined if label in present]
