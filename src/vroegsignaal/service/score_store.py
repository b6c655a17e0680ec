"""The SQL of a scoring request: every statement built once, executed on the request's connection.

Why not build statements per request, or go through the ORM: on SQLite, building a SQLAlchemy statement and
walking the ORM's bulk paths costs several times more than executing the statement (about 120 µs against 20 µs
for a simple select), and a scoring request runs about ten of them. Each statement here is a Core construct
with bound parameters, built at import and run by :func:`vroegsignaal.service.hot_sql.execute` (on SQLite
compiled once per shape and run on the driver's cursor; on PostgreSQL through Core). Rows go in with one
statement per table, and reads that answer one question are combined: the stored signals a request needs for its
conflict check and for the features come back in one query, and whether each household objected, its open review
item and its latest contact in another.

The statements are the same on SQLite and PostgreSQL except the upsert, whose ``ON CONFLICT`` construct is
dialect-specific (built once per dialect). Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from vroegsignaal.schemas.enums import ModelStatus
from vroegsignaal.schemas.tables import HOUSEHOLD_FACT_COLUMNS, SignalSchema
from vroegsignaal.service.hot_sql import execute
from vroegsignaal.service.models import (
    Decision,
    Household,
    ModelVersion,
    Objection,
    ReviewItem,
    Score,
    ScoreSubmission,
    Signal,
)

STATUS_OPEN = "open"

#: What makes two signals with one id the same signal (a resend) rather than a conflicting correction.
SIGNAL_CONTENT_COLUMNS: tuple[str, ...] = (
    SignalSchema.partner_type,
    SignalSchema.amount_eur,
    SignalSchema.arrears_start_date,
    SignalSchema.signal_date,
    SignalSchema.crisis,
    SignalSchema.warm_handover,
    SignalSchema.end_of_supply,
    # A correction and a signal with the same values that replaces nothing are not the same signal.
    "replaces_ref",
)

_households = Household.__table__
_signals = Signal.__table__
_objections = Objection.__table__
_items = ReviewItem.__table__
_decisions = Decision.__table__
_scores = Score.__table__
_submissions = ScoreSubmission.__table__

# Signals the request refers to by id (anywhere in the municipality: an id reused for another household is a
# conflict) together with every stored signal of the request's households (the features count earlier
# signals). Each side of the OR can use its own index.
_SELECT_SIGNALS = select(
    _signals.c.id,
    _signals.c.household_id,
    _signals.c.signal_ref,
    _signals.c.received_at,
    _signals.c.replaced_by_ref,
    *(_signals.c[column] for column in SIGNAL_CONTENT_COLUMNS),
).where(
    or_(
        and_(
            _signals.c.municipality_code == bindparam("municipality"),
            _signals.c.signal_ref.in_(bindparam("refs", expanding=True)),
        ),
        _signals.c.household_id.in_(bindparam("household_ids", expanding=True)),
    )
)

_INSERT_SIGNALS = insert(_signals)
_MARK_REPLACED = (
    update(_signals)
    .where(_signals.c.municipality_code == bindparam("municipality"), _signals.c.signal_ref == bindparam("old_ref"))
    .values(replaced_by_ref=bindparam("new_ref"))
)

# Whether the household has an active objection (GDPR art. 21). Objections are kept by pseudonym: one may
# arrive before the household's first signal.
_objected = (
    exists()
    .where(
        _objections.c.municipality_code == _households.c.municipality_code,
        _objections.c.household_pseudonym == _households.c.household_pseudonym,
        _objections.c.withdrawn_at.is_(None),
    )
    .correlate(_households)
)
# The latest contact of a household within the cooldown window, and the arrears recorded at that contact (the
# largest, should two decisions share the date).
_latest_contact_on = (
    select(func.max(_decisions.c.last_contact_on))
    .where(_decisions.c.household_id == _households.c.id, _decisions.c.last_contact_on >= bindparam("since"))
    .correlate(_households)
    .scalar_subquery()
)
_contact = _decisions.alias("contact")
_arrears_at_contact = (
    select(func.max(_contact.c.total_arrears_eur))
    .where(_contact.c.household_id == _households.c.id, _contact.c.last_contact_on == _latest_contact_on)
    .correlate(_households)
    .scalar_subquery()
)
_SELECT_STATES = (
    select(
        _households.c.id.label("household_id"),
        _objected.label("objected"),
        _items.c.id.label("item_id"),
        _items.c.team.label("item_team"),
        _items.c.created_at.label("item_created_at"),
        _items.c.first_signal_date,
        _items.c.control_sample,
        _items.c.crisis,
        _items.c.end_of_supply,
        _items.c.deadline,
        _items.c.held_until,
        _latest_contact_on.label("last_contact_on"),
        _arrears_at_contact.label("arrears_at_contact"),
    )
    .select_from(
        _households.outerjoin(
            # A literal, not a bound parameter: SQLite re-prepares a statement on every execution when a bound
            # value decides whether a partial index (here the one on open items) applies (~15 µs each time).
            _items,
            and_(
                _items.c.household_id == _households.c.id,
                _items.c.status == literal_column(f"'{STATUS_OPEN}'"),
            ),
        )
    )
    .where(_households.c.id.in_(bindparam("household_ids", expanding=True)))
)

_INSERT_SCORES = insert(_scores).returning(_scores.c.id, _scores.c.household_id)
_INSERT_ITEMS = insert(_items).returning(_items.c.id, _items.c.household_id)
_UPDATE_ITEMS = update(_items).where(_items.c.id == bindparam("item_id"))

_SELECT_SUBMISSION = select(_submissions.c.request_hash, _submissions.c.response).where(
    _submissions.c.municipality_code == bindparam("municipality"),
    _submissions.c.idempotency_key == bindparam("key"),
)
_INSERT_SUBMISSION = insert(_submissions)


@cache
def _household_upsert(dialect: str) -> Insert:
    dialect_insert: Callable[..., Any] = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = dialect_insert(_households)
    # In PostgreSQL the upsert locks each household row until commit, so two requests for one household queue
    # up here, and everything read about the household afterwards is what the earlier request committed.
    return statement.on_conflict_do_update(
        index_elements=[_households.c.municipality_code, _households.c.household_pseudonym],
        set_={
            **{
                column: statement.excluded[column]
                for column in ("team", *HOUSEHOLD_FACT_COLUMNS, "updated_at")
            },
            # A batch that does not name the neighbourhood keeps the one stored.
            "neighbourhood": func.coalesce(statement.excluded["neighbourhood"], _households.c.neighbourhood),
        },
    ).returning(_households.c.id, _households.c.household_pseudonym)


@dataclass(frozen=True)
class HouseholdState:
    """What scoring and the queue rules need to know about a household on file."""

    objected: bool
    item_id: int | None
    #: The open item's team, when it was opened, and the oldest signal it holds (``None`` without an open item).
    item_team: str | None
    item_created_at: dt.datetime | None
    first_signal_date: dt.date | None
    control_sample: bool
    crisis: bool
    end_of_supply: bool
    deadline: dt.date | None
    held_until: dt.date | None
    last_contact_on: dt.date | None
    arrears_at_contact: float | None


def upsert_households(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert or update households (facts, team, neighbourhood); their primary keys by pseudonym.

    In pseudonym order: each upsert locks its household (PostgreSQL), so two batches sharing households lock them
    in the same order and never wait for each other in a circle (a deadlock)."""
    statement = _household_upsert(connection.dialect.name)
    ordered = sorted(rows, key=lambda row: row["household_pseudonym"])
    return {row.household_pseudonym: row.id for row in execute(connection, statement, ordered)}


def stored_signals(
    connection: Connection, *, municipality: str, refs: Sequence[str], household_ids: Sequence[int]
) -> list[Any]:
    """Stored signals with one of ``refs`` or of one of ``household_ids`` (columns: id, household_id, signal_ref,
    received_at, replaced_by_ref and :data:`SIGNAL_CONTENT_COLUMNS`), replaced ones included."""
    parameters = {"municipality": municipality, "refs": list(refs), "household_ids": list(household_ids)}
    return execute(connection, _SELECT_SIGNALS, parameters)


_SELECT_TEAMS = select(_households.c.household_pseudonym, _households.c.team).where(
    _households.c.municipality_code == bindparam("municipality"),
    _households.c.household_pseudonym.in_(bindparam("pseudonyms", expanding=True)),
)


def objecting_households(connection: Connection, municipality: str, pseudonyms: Sequence[str]) -> set[str]:
    """Which of ``pseudonyms`` have an active objection."""
    rows = connection.execute(
        select(Objection.household_pseudonym).where(
            Objection.municipality_code == municipality,
            Objection.household_pseudonym.in_(list(pseudonyms)),
            Objection.withdrawn_at.is_(None),
        )
    )
    return {pseudonym for (pseudonym,) in rows}


def rejected_versions(connection: Connection, versions: Collection[str]) -> set[str]:
    """Which of ``versions`` an ethics reviewer has rejected (their advice is withdrawn)."""
    rows = connection.execute(
        select(ModelVersion.version).where(
            ModelVersion.version.in_(list(versions)), ModelVersion.status == ModelStatus.REJECTED.value
        )
    )
    return {version for (version,) in rows}


def household_teams(connection: Connection, *, municipality: str, pseudonyms: Sequence[str]) -> dict[str, str]:
    """The team each household of ``pseudonyms`` is on file with (households not on file are left out)."""
    rows = execute(connection, _SELECT_TEAMS, {"municipality": municipality, "pseudonyms": list(pseudonyms)})
    return {row.household_pseudonym: row.team for row in rows}


def insert_signals(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        execute(connection, _INSERT_SIGNALS, list(rows))


def mark_replaced(connection: Connection, *, municipality: str, replaced: Mapping[str, str]) -> None:
    """Record that each signal ``old_ref`` of ``replaced`` was replaced by the correction ``new_ref`` (in the order
    of their ids, so that two requests never wait for each other's signals in a circle)."""
    if replaced:
        rows = [{"municipality": municipality, "old_ref": old, "new_ref": new} for old, new in sorted(replaced.items())]
        execute(connection, _MARK_REPLACED, rows)


def lock_review_items(connection: Connection, *conditions: Any) -> list[int]:
    """Lock the review items that meet ``conditions`` in the order of their ids, the order every writer of several
    items takes them in (a bulk ``UPDATE`` locks rows in the order it happens to scan them); their ids. PostgreSQL
    only: on SQLite one transaction writes at a time."""
    if connection.dialect.name != "postgresql":
        return []
    return list(
        connection.scalars(select(_items.c.id).where(*conditions).order_by(_items.c.id).with_for_update())
    )


def household_states(
    connection: Connection, *, household_ids: Sequence[int], since: dt.date
) -> dict[int, HouseholdState]:
    """Per household: whether it objected, its open review item (if any) and its latest contact on or after
    ``since`` (if any). Read after :func:`upsert_households`, which locks the households in PostgreSQL."""
    rows = execute(connection, _SELECT_STATES, {"household_ids": list(household_ids), "since": since})
    return {
        row.household_id: HouseholdState(
            objected=bool(row.objected),
            item_id=row.item_id,
            item_team=row.item_team,
            item_created_at=row.item_created_at,
            first_signal_date=row.first_signal_date,
            control_sample=bool(row.control_sample),
            crisis=bool(row.crisis),
            end_of_supply=bool(row.end_of_supply),
            deadline=row.deadline,
            held_until=row.held_until,
            last_contact_on=row.last_contact_on,
            arrears_at_contact=float(row.arrears_at_contact) if row.arrears_at_contact is not None else None,
        )
        for row in rows
    }


# The decisions that recorded a contact on or after ``since``: what the arrears at a contact were read from.
_SELECT_CONTACTS = select(
    _decisions.c.household_id,
    _decisions.c.last_contact_on,
    _decisions.c.total_arrears_eur,
    _decisions.c.decided_at,
    _decisions.c.reference_date,
).where(
    _decisions.c.household_id.in_(bindparam("household_ids", expanding=True)),
    _decisions.c.last_contact_on >= bindparam("since"),
)


def contact_decisions(connection: Connection, *, household_ids: Sequence[int], since: dt.date) -> dict[int, Any]:
    """Per household: the decision whose arrears :func:`household_states` reads as the arrears at its latest contact
    on or after ``since`` (the largest of that day's; the later decision of equals), with when it was decided and
    the reference date its arrears were summed up to. Households without such a contact are left out."""
    if not household_ids:
        return {}
    rows = connection.execute(_SELECT_CONTACTS, {"household_ids": list(household_ids), "since": since})
    latest: dict[int, Any] = {}
    for row in rows:
        current = latest.get(row.household_id)
        key = (row.last_contact_on, row.total_arrears_eur, row.decided_at)
        if current is None or key > (current.last_contact_on, current.total_arrears_eur, current.decided_at):
            latest[row.household_id] = row
    return latest


# The latest case of a household and the score it was opened on (rare: only for resent signals). A household has
# at most one open case, and no case is opened after it: the latest case is the open one when there is one.
_latest_case = (
    select(func.max(_items.c.id))
    .where(_items.c.household_id.in_(bindparam("household_ids", expanding=True)))
    .group_by(_items.c.household_id)
)
_SELECT_LATEST_CASES = (
    select(
        _items.c.household_id,
        _items.c.id.label("item_id"),
        _items.c.status,
        _items.c.held_until,
        _items.c.team,
        _items.c.approach,
        _items.c.standard_reason,
        _items.c.control_sample,
        _items.c.crisis,
        _items.c.end_of_supply,
        _items.c.suggested_intensity,
        _items.c.deadline,
        _scores.c.model_version,
        _scores.c.score,
        _scores.c.band,
        _scores.c.out_of_distribution,
        _scores.c.flags,
        _scores.c.reasons,
    )
    .select_from(_items.outerjoin(_scores, _scores.c.id == _items.c.score_id))
    .where(_items.c.id.in_(_latest_case))
)


def latest_cases(connection: Connection, household_ids: Sequence[int]) -> dict[int, Any]:
    """Per household: its open review item, else its latest closed one, with the score it holds (score columns
    ``None`` when the score is gone: erased on objection, purged, or never made)."""
    if not household_ids:
        return {}
    rows = connection.execute(_SELECT_LATEST_CASES, {"household_ids": list(household_ids)})
    return {row.household_id: row for row in rows}


def insert_scores(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """Insert score rows (one per household); the new score ids by household id."""
    if not rows:
        return {}
    return {row.household_id: row.id for row in execute(connection, _INSERT_SCORES, list(rows))}


def insert_review_items(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """Insert review items (one per household); the new item ids by household id."""
    if not rows:
        return {}
    return {row.household_id: row.id for row in execute(connection, _INSERT_ITEMS, list(rows))}


def update_review_items(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Update open review items; each row names its item as ``item_id`` and carries the columns to set (rows that
    set the same columns are updated together)."""
    alike: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    # In id order, as the ordering switch and the purge lock them: in request order two of them could wait for each
    # other in a circle (PostgreSQL).
    for row in sorted(rows, key=lambda row: row["item_id"]):
        alike.setdefault(tuple(row), []).append(row)
    for same_columns in alike.values():
        execute(connection, _UPDATE_ITEMS, same_columns)


def stored_submission(connection: Connection, *, municipality: str, key: str) -> Any | None:
    """The stored request hash and response of an ``Idempotency-Key``, if it was used before."""
    rows = execute(connection, _SELECT_SUBMISSION, {"municipality": municipality, "key": key})
    return rows[0] if rows else None


def insert_submission(connection: Connection, row: Mapping[str, Any]) -> None:
    execute(connection, _INSERT_SUBMISSION, dict(row))
