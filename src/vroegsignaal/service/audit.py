"""The audit log: append-only, hash-chained records of everything the service does with a household or a model.

Each record's ``hash`` is the SHA-256 of its canonical JSON (sequence number, time, actor, role, municipality,
action, object id, model version, input hash, detail) followed by the previous record's hash. Editing, deleting or
reordering any record therefore breaks the chain, and :func:`verify_audit_log` says where.

Appends lock the single ``audit_chain_head`` row with an ``UPDATE`` (a row lock in PostgreSQL, the write lock in
SQLite) and are written in the caller's transaction: the record exists exactly when the action it records does, and
two concurrent writers can never fork the chain. Records hold pseudonyms, token subjects and hashes only — never a
BSN, name or address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from vroegsignaal.errors import ServiceUnavailableError
from vroegsignaal.service.hot_sql import execute
from vroegsignaal.service.models import AuditChainHead, AuditRecord
from vroegsignaal.service.settings import MIN_AUDIT_RETENTION_DAYS

if TYPE_CHECKING:
    from vroegsignaal.service.security import Caller

GENESIS_HASH = "0" * 64
CHAIN_HEAD_ID = 1
VERIFY_CHUNK = 5_000

MSG_NO_CHAIN_HEAD = "the audit chain head row is missing; run 'vroegsignaal db upgrade'"
PROBLEM_GAP = "missing_records"
PROBLEM_PREV_HASH = "broken_link"
PROBLEM_HASH = "edited_record"
PROBLEM_HEAD = "head_mismatch"
PROBLEM_ANCHOR = "unexplained_anchor"
MSG_UNEXPLAINED_ANCHOR = (
    "the chain starts after record {anchor}, but no retention purge in the log moved its start there: the oldest "
    "records were deleted outside a purge"
)
PROBLEM_CHECKPOINT = "checkpoint_mismatch"
MSG_CHECKPOINT_BEYOND_HEAD = (
    "record {seq} was copied from this chain as a checkpoint, but the chain now ends at record {last}: the newest "
    "records were deleted and the head rewritten"
)
MSG_CHECKPOINT_OTHER_HASH = (
    "record {seq} no longer has the hash copied from it as a checkpoint: the records up to it were rewritten"
)
MSG_CHECKPOINT_MISSING = "record {seq}, copied from this chain as a checkpoint, is missing"
MSG_CHECKPOINT_PURGED_TOO_YOUNG = (
    "record {seq}, copied from this chain as a checkpoint, is gone from before the chain's start, but it was written "
    "{written:%Y-%m-%d}, within the {days} days no purge may remove: records were deleted and a purge feigned"
)
MSG_BAD_CHECKPOINT = (
    "checkpoint must be SEQ:HASH:TIME (or SEQ:HASH), a record number, its 64-character hexadecimal hash and its "
    "time as 'audit-verify' prints the head, got {value!r}"
)
_CHECKPOINT = re.compile(r"^(?P<seq>[0-9]{1,18}):(?P<hash>[0-9a-f]{64})(?::(?P<time>[0-9]{8}T[0-9]{6}Z))?$")
#: How a checkpoint writes its record's time (no colons: they separate the parts).
CHECKPOINT_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
#: No purge removes audit records younger than this (the legal minimum, ``settings.MIN_AUDIT_RETENTION_DAYS``): a
#: checkpoint of a younger record found before the chain's start proves a deletion, whatever purge record claims it.
UNPURGEABLE_DAYS = MIN_AUDIT_RETENTION_DAYS
#: Keys of a retention purge's audit detail that record where it moved the start of the chain.
ANCHOR_SEQ_KEY, ANCHOR_HASH_KEY = "audit_anchor_seq", "audit_anchor_hash"

class AuditAction:
    """Names of audited actions (stored in the ``action`` column)."""

    SCORE = "score"
    SCORE_REPLAYED = "score_replayed"  # a retry with the same Idempotency-Key got the stored scores again
    SIGNALS_RECEIVED_STANDARD = "signals_received_standard_approach"
    SIGNALS_RESENT = "signals_resent"  # signals handled in a closed case came again: that case was answered
    READ_HOUSEHOLD = "read_household"
    READ_OUTREACH_LIST = "read_outreach_list"
    DECISION = "decision"
    OBJECTION_ADDED = "objection_added"
    OBJECTION_WITHDRAWN = "objection_withdrawn"
    MODEL_REGISTERED = "model_registered"
    MODEL_STATUS = "model_status_changed"
    MODEL_RELOAD = "model_reload"
    MODEL_ADVICE_WITHDRAWN = "model_advice_withdrawn"  # a rejected model's open cases went to the standard approach
    ORDERING_SWITCH = "ordering_switch"
    RETENTION_PURGE = "retention_purge"
    EXPORT_DECISIONS = "export_decisions"


@dataclass(frozen=True)
class AuditEntry:
    """What to record; the chain fields are added by :func:`append_audit_records`."""

    actor: str
    role: str
    action: str
    municipality_code: str | None = None
    object_id: str | None = None
    model_version: str | None = None
    input_hash: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def by(cls, caller: Caller, **fields: Any) -> AuditEntry:
        """An entry for something ``caller`` did: actor and role come from the token (never a resident's data)."""
        return cls(actor=caller.subject, role=caller.role.value, **fields)


def canonical_json(value: Any) -> bytes:
    """Stable JSON bytes: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def input_hash(payload: Any) -> str:
    """SHA-256 of the canonical JSON of a request body (or part of one)."""
    return sha256_hex(canonical_json(payload))


def _utc_text(moment: dt.datetime) -> str:
    # SQLite hands back naive datetimes; every stored time is UTC, so naive means UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(
    *,
    seq: int,
    created_at: dt.datetime,
    entry_fields: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """The hash of one record: its canonical content followed by the previous record's hash."""
    content = {"seq": seq, "created_at": _utc_text(created_at), **entry_fields}
    return sha256_hex(canonical_json(content) + prev_hash.encode())


def _entry_fields(entry: AuditEntry | AuditRecord) -> dict[str, Any]:
    return {
        "actor": entry.actor,
        "role": entry.role,
        "municipality_code": entry.municipality_code,
        "action": entry.action,
        "object_id": entry.object_id,
        "model_version": entry.model_version,
        "input_hash": entry.input_hash,
        "detail": dict(entry.detail or {}),
    }


_head = AuditChainHead.__table__
# Built once: every scoring request appends, and building these costs more than running them
# (see service/score_store.py).
_RESERVE_SEQS = (
    update(_head)
    .where(_head.c.id == CHAIN_HEAD_ID)
    .values(last_seq=_head.c.last_seq + bindparam("count"))
    .returning(_head.c.last_seq, _head.c.last_hash)
)
_INSERT_RECORDS = insert(AuditRecord.__table__)
_SET_LAST_HASH = update(_head).where(_head.c.id == CHAIN_HEAD_ID).values(last_hash=bindparam("last_hash"))


def append_audit_records(
    bind: Session | Connection, entries: Sequence[AuditEntry], *, now: dt.datetime
) -> list[int]:
    """Append ``entries`` to the chain inside the transaction of ``bind`` (a session or a connection); returns
    their sequence numbers."""
    if not entries:
        return []
    connection = bind.connection() if isinstance(bind, Session) else bind
    # The UPDATE takes the head's row lock (the write lock in SQLite) before the head is read: no forked
    # chain.
    reserved = execute(connection, _RESERVE_SEQS, {"count": len(entries)})
    if not reserved:
        raise ServiceUnavailableError(MSG_NO_CHAIN_HEAD)
    head = reserved[0]
    first_seq = head.last_seq - len(entries) + 1
    prev_hash = head.last_hash
    rows: list[dict[str, Any]] = []
    for offset, entry in enumerate(entries):
        seq = first_seq + offset
        fields = _entry_fields(entry)
        own_hash = record_hash(seq=seq, created_at=now, entry_fields=fields, prev_hash=prev_hash)
        rows.append({"seq": seq, "created_at": now, **fields, "prev_hash": prev_hash, "hash": own_hash})
        prev_hash = own_hash
    execute(connection, _INSERT_RECORDS, rows)
    execute(connection, _SET_LAST_HASH, {"last_hash": prev_hash})
    return [row["seq"] for row in rows]


def audit(session: Session, entry: AuditEntry, *, now: dt.datetime) -> int:
    """Append one record; see :func:`append_audit_records`."""
    return append_audit_records(session, [entry], now=now)[0]


@dataclass(frozen=True)
class AuditProblem:
    """One place where the chain is broken."""

    seq: int | None
    kind: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class AuditCheckpoint:
    """A record of the chain as copied to another system (``SEQ:HASH``, what ``audit-verify`` prints as the head).

    The chain alone detects edits and deletions, but not the newest records deleted or rewritten together with the
    head: a checkpoint kept outside the database does. Records before the chain's start (purged by retention, the
    purge itself on record) cannot be compared and pass."""

    seq: int
    hash: str
    #: When the record was written (UTC). With it, a checkpoint also catches a deletion dressed up as a retention
    #: purge: no purge removes records younger than :data:`UNPURGEABLE_DAYS`.
    written: dt.datetime | None = None

    def __str__(self) -> str:
        time = f":{self.written.astimezone(dt.UTC).strftime(CHECKPOINT_TIME_FORMAT)}" if self.written else ""
        return f"{self.seq}:{self.hash}{time}"

    @classmethod
    def parse(cls, text: str) -> AuditCheckpoint:
        """``SEQ:HASH:TIME`` (or ``SEQ:HASH``) as :meth:`__str__` writes it; ``ValueError`` naming the rule
        otherwise."""
        match = _CHECKPOINT.fullmatch(text.strip())
        if match is None:
            raise ValueError(MSG_BAD_CHECKPOINT.format(value=text[:100]))
        try:
            written = (
                dt.datetime.strptime(match["time"], CHECKPOINT_TIME_FORMAT).replace(tzinfo=dt.UTC)
                if match["time"]
                else None
            )
        except ValueError:
            raise ValueError(MSG_BAD_CHECKPOINT.format(value=text[:100])) from None
        return cls(int(match["seq"]), match["hash"], written)


@dataclass(frozen=True)
class AuditVerification:
    """The result of walking the whole chain."""

    ok: bool
    records_checked: int
    first_seq: int | None
    last_seq: int | None
    problems: tuple[AuditProblem, ...]
    #: The head when verified: copy it to another system as a checkpoint for later runs.
    head: AuditCheckpoint | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records_checked": self.records_checked,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "head": None if self.head is None else str(self.head),
            "problems": [problem.to_dict() for problem in self.problems],
        }


def _check_records(
    records: Iterable[AuditRecord], *, expected_seq: int, expected_prev: str
) -> tuple[int, int | None, int | None, str, list[AuditProblem]]:
    problems: list[AuditProblem] = []
    count, first, last = 0, None, None
    for record in records:
        count += 1
        first = record.seq if first is None else first
        last = record.seq
        if record.seq != expected_seq:
            problems.append(
                AuditProblem(
                    record.seq,
                    PROBLEM_GAP,
                    f"expected record {expected_seq} but found {record.seq}: records are missing or reordered",
                )
            )
        if record.prev_hash != expected_prev:
            problems.append(
                AuditProblem(record.seq, PROBLEM_PREV_HASH, f"record {record.seq} does not link to its predecessor")
            )
        recomputed = record_hash(
            seq=record.seq, created_at=record.created_at, entry_fields=_entry_fields(record), prev_hash=record.prev_hash
        )
        if recomputed != record.hash:
            problems.append(
                AuditProblem(record.seq, PROBLEM_HASH, f"record {record.seq} was changed after it was written")
            )
        expected_seq = record.seq + 1
        expected_prev = record.hash
    return count, first, last, expected_prev, problems


def verify_audit_log(
    session: Session, *, checkpoints: Sequence[AuditCheckpoint] = (), now: dt.datetime | None = None
) -> AuditVerification:
    """Walk the chain from the purge anchor to the head; report every edited, deleted or reordered record, and every
    ``checkpoint`` (a record copied elsewhere earlier) the chain no longer holds as it was.

    Head and records are read in one snapshot (PostgreSQL: this transaction is REPEATABLE READ; SQLite reads one
    anyway), so records appended meanwhile by a serving replica are not taken for a broken chain."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    head = session.get(AuditChainHead, CHAIN_HEAD_ID)
    if head is None:
        problem = AuditProblem(None, PROBLEM_HEAD, MSG_NO_CHAIN_HEAD)
        return AuditVerification(False, 0, None, None, (problem,))
    records = session.scalars(
        select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=VERIFY_CHUNK)
    )
    count, first, last, last_hash, problems = _check_records(
        records, expected_seq=head.anchor_seq + 1, expected_prev=head.anchor_hash
    )
    if head.anchor_seq > 0 and not _anchor_explained(session, head):
        message = MSG_UNEXPLAINED_ANCHOR.format(anchor=head.anchor_seq)
        problems.append(AuditProblem(head.anchor_seq, PROBLEM_ANCHOR, message))
    if (last if last is not None else head.anchor_seq) != head.last_seq or last_hash != head.last_hash:
        problems.append(
            AuditProblem(
                last,
                PROBLEM_HEAD,
                f"the chain ends at record {last} but the head expects {head.last_seq}: the newest records were "
                "deleted or changed",
            )
        )
    problems.extend(_checkpoint_problems(session, head, checkpoints, now=now or dt.datetime.now(dt.UTC)))
    written = session.scalar(select(AuditRecord.created_at).where(AuditRecord.seq == head.last_seq))
    current = AuditCheckpoint(head.last_seq, head.last_hash, written)
    return AuditVerification(not problems, count, first, last, tuple(problems), current)


def _checkpoint_problems(
    session: Session, head: AuditChainHead, checkpoints: Sequence[AuditCheckpoint], *, now: dt.datetime
) -> list[AuditProblem]:
    problems = []
    for checkpoint in checkpoints:
        seq = checkpoint.seq
        if seq > head.last_seq:
            message = MSG_CHECKPOINT_BEYOND_HEAD.format(seq=seq, last=head.last_seq)
        elif seq <= head.anchor_seq:  # the anchor itself (0 and the genesis hash on a chain never purged) or before
            # Purged by retention: the purge's own record, in the chain, vouches for the start (the anchor keeps the
            # last purged record's hash); but anyone who can write the database can write such a record too, and no
            # purge removes a record this young.
            if seq == head.anchor_seq and checkpoint.hash != head.anchor_hash:
                message = MSG_CHECKPOINT_OTHER_HASH.format(seq=seq)
            elif checkpoint.written is None or checkpoint.written <= now - dt.timedelta(days=UNPURGEABLE_DAYS):
                continue
            else:
                message = MSG_CHECKPOINT_PURGED_TOO_YOUNG.format(
                    seq=seq, written=checkpoint.written, days=UNPURGEABLE_DAYS
                )
        else:
            held = session.scalar(select(AuditRecord.hash).where(AuditRecord.seq == seq))
            if held == checkpoint.hash:
                continue
            template = MSG_CHECKPOINT_MISSING if held is None else MSG_CHECKPOINT_OTHER_HASH
            message = template.format(seq=seq)
        problems.append(AuditProblem(seq, PROBLEM_CHECKPOINT, message))
    return problems


def _anchor_explained(session: Session, head: AuditChainHead) -> bool:
    """Whether a retention purge still in the chain (so covered by its hashes) moved the start to the anchor."""
    purges = session.scalars(select(AuditRecord.detail).where(AuditRecord.action == AuditAction.RETENTION_PURGE))
    return any(
        detail is not None
        and detail.get(ANCHOR_SEQ_KEY) == head.anchor_seq
        and detail.get(ANCHOR_HASH_KEY) == head.anchor_hash
        for detail in purges
    )


def purge_audit_records(session: Session, *, before: dt.datetime) -> int:
    """Delete records older than ``before`` from the start of the chain and move the anchor past them.

    Only a prefix of the chain is removed (records are appended in time order), so the remaining records still
    verify against the anchor: the last deleted record's sequence number and hash.
    """
    last_old = session.execute(
        select(AuditRecord.seq, AuditRecord.hash)
        .where(AuditRecord.created_at < before)
        .order_by(AuditRecord.seq.desc())
        .limit(1)
    ).one_or_none()
    if last_old is None:
        return 0
    deleted = session.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.seq <= last_old.seq))
    session.execute(delete(AuditRecord).where(AuditRecord.seq <= last_old.seq))
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == CHAIN_HEAD_ID)
        .values(anchor_seq=last_old.seq, anchor_hash=last_old.hash)
    )
    return int(deleted or 0)
