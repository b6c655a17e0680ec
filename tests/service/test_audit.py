"""The audit log's hash chain: any edited, deleted or reordered record is found; concurrent appends never fork."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import delete, event, select, update

from tests.service.conftest import NOON, auth, batch, household, signal
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.audit import (
    GENESIS_HASH,
    MSG_BAD_CHECKPOINT,
    MSG_CHECKPOINT_BEYOND_HEAD,
    PROBLEM_CHECKPOINT,
    PROBLEM_GAP,
    PROBLEM_HASH,
    PROBLEM_HEAD,
    PROBLEM_PREV_HASH,
    AuditCheckpoint,
    AuditEntry,
    append_audit_records,
    verify_audit_log,
)
from vroegsignaal.service.db import create_session_factory, transaction
from vroegsignaal.service.models import AuditChainHead, AuditRecord


def _append(engine, count: int, *, actor: str = "tester") -> None:  # noqa: ANN001
    with transaction(create_session_factory(engine)) as session:
        append_audit_records(
            session, [AuditEntry(actor=actor, role="admin", action="test", object_id=f"obj-{i}") for i in range(count)],
            now=NOON,
        )


def _verify(engine):  # noqa: ANN001, ANN202
    with transaction(create_session_factory(engine)) as session:
        return verify_audit_log(session)


def _kinds(result) -> set[str]:  # noqa: ANN001
    return {problem.kind for problem in result.problems}


def test_untouched_chain_verifies(engine):
    _append(engine, 5)
    result = _verify(engine)
    assert result.ok and result.records_checked == 5 and (result.first_seq, result.last_seq) == (1, 5)


def test_edited_record_is_found(engine):
    _append(engine, 5)
    with engine.begin() as connection:
        connection.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(actor="someone-else"))
    result = _verify(engine)
    assert not result.ok and [(p.seq, p.kind) for p in result.problems] == [(3, PROBLEM_HASH)]


def test_deleted_record_is_found(engine):
    _append(engine, 5)
    with engine.begin() as connection:
        connection.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
    result = _verify(engine)
    assert {PROBLEM_GAP, PROBLEM_PREV_HASH} <= _kinds(result)


def test_deleted_newest_record_is_found(engine):
    _append(engine, 5)
    with engine.begin() as connection:
        connection.execute(delete(AuditRecord).where(AuditRecord.seq == 5))
    assert _kinds(_verify(engine)) == {PROBLEM_HEAD}


def _rewind_to(engine, seq: int) -> None:  # noqa: ANN001
    """What someone with write access can do unseen by the chain alone: delete the records after ``seq`` and set
    the head back to it."""
    with engine.begin() as connection:
        last_hash = connection.execute(select(AuditRecord.hash).where(AuditRecord.seq == seq)).scalar_one_or_none()
        connection.execute(delete(AuditRecord).where(AuditRecord.seq > seq))
        connection.execute(update(AuditChainHead).values(last_seq=seq, last_hash=last_hash or GENESIS_HASH))


@pytest.mark.parametrize("kept", [4, 0])
def test_the_newest_records_deleted_with_the_head_are_found_by_a_checkpoint_kept_elsewhere(engine, kept):
    _append(engine, 5)
    checkpoint = _verify(engine).head  # printed by an earlier run, copied to another system
    assert str(checkpoint).startswith("5:")
    _rewind_to(engine, kept)
    assert _verify(engine).ok  # the chain alone cannot tell
    with transaction(create_session_factory(engine)) as session:
        result = verify_audit_log(session, checkpoints=[checkpoint])
    assert not result.ok
    assert [(p.seq, p.kind, p.message) for p in result.problems] == [
        (5, PROBLEM_CHECKPOINT, MSG_CHECKPOINT_BEYOND_HEAD.format(seq=5, last=kept))
    ]


def test_records_rewritten_up_to_a_checkpoint_are_found(engine):
    _append(engine, 3)
    checkpoint = _verify(engine).head
    _rewind_to(engine, 1)
    _append(engine, 4, actor="someone-else")  # a new history written over the old one: the chain is whole again
    with transaction(create_session_factory(engine)) as session:
        result = verify_audit_log(session, checkpoints=[checkpoint])
    assert [(p.seq, p.kind) for p in result.problems] == [(3, PROBLEM_CHECKPOINT)]


def test_a_checkpoint_the_chain_still_holds_passes(engine):
    _append(engine, 3)
    checkpoint = _verify(engine).head
    _append(engine, 2)
    with transaction(create_session_factory(engine)) as session:
        assert verify_audit_log(session, checkpoints=[checkpoint, AuditCheckpoint.parse(str(checkpoint))]).ok


def test_a_deletion_dressed_up_as_a_retention_purge_is_found_by_a_timed_checkpoint(engine):
    """Anyone who can write the database can delete the whole log and write a purge record that vouches for the
    new start; a checkpoint carries its record's time, and no purge removes records younger than the legal
    minimum."""
    import datetime as dt

    from vroegsignaal.service.audit import (
        ANCHOR_HASH_KEY,
        ANCHOR_SEQ_KEY,
        CHAIN_HEAD_ID,
        MSG_CHECKPOINT_PURGED_TOO_YOUNG,
        UNPURGEABLE_DAYS,
        AuditAction,
        purge_audit_records,
    )

    _append(engine, 5)
    checkpoint = _verify(engine).head
    assert str(checkpoint) == f"5:{checkpoint.hash}:20260304T120000Z"  # as audit-verify prints the head
    assert AuditCheckpoint.parse(str(checkpoint)) == checkpoint
    with transaction(create_session_factory(engine)) as session:  # the forgery
        purge_audit_records(session, before=NOON + dt.timedelta(days=1))
        head = session.get(AuditChainHead, CHAIN_HEAD_ID)
        feigned = {ANCHOR_SEQ_KEY: head.anchor_seq, ANCHOR_HASH_KEY: head.anchor_hash}
        append_audit_records(session, [AuditEntry(actor="cli:x", role="admin", action=AuditAction.RETENTION_PURGE,
                                                  detail=feigned)], now=NOON + dt.timedelta(days=1))
    assert _verify(engine).ok  # the chain alone cannot tell

    def problems(checkpoints, days_later):  # noqa: ANN001, ANN202
        with transaction(create_session_factory(engine)) as session:
            result = verify_audit_log(session, checkpoints=checkpoints, now=NOON + dt.timedelta(days=days_later))
        return [(p.seq, p.kind, p.message) for p in result.problems]

    assert problems([checkpoint], 2) == [(5, PROBLEM_CHECKPOINT, MSG_CHECKPOINT_PURGED_TOO_YOUNG.format(
        seq=5, written=NOON, days=UNPURGEABLE_DAYS))]
    assert problems([AuditCheckpoint(5, checkpoint.hash)], 2) == []  # an untimed checkpoint cannot tell
    assert problems([checkpoint], UNPURGEABLE_DAYS + 1) == []  # old enough for a real purge to have removed it


@pytest.mark.parametrize("text", ["5", "5:xyz", "-1:" + "a" * 64, "5:" + "A" * 64, "5:" + "a" * 63])
def test_a_checkpoint_that_is_not_seq_colon_hash_is_refused_by_its_rule(text):
    with pytest.raises(ValueError, match=re.escape(MSG_BAD_CHECKPOINT.format(value=text))):
        AuditCheckpoint.parse(text)


def test_reordered_records_are_found(engine):
    _append(engine, 4)
    with engine.begin() as connection:
        rows = {r.seq: r for r in connection.execute(select(AuditRecord)).all()}
        for seq, other in ((2, 3), (3, 2)):
            source = rows[other]
            connection.execute(
                update(AuditRecord).where(AuditRecord.seq == seq).values(
                    object_id=source.object_id, prev_hash=source.prev_hash, hash=source.hash
                )
            )
    result = _verify(engine)
    assert not result.ok and {p.seq for p in result.problems} >= {2, 3}


def test_concurrent_writers_do_not_fork_the_chain(engine):
    threads = [threading.Thread(target=_append, args=(engine, 10), kwargs={"actor": f"w{i}"}) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = _verify(engine)
    assert result.ok and result.records_checked == 40


def test_records_appended_while_verifying_are_not_taken_for_a_broken_chain(engine):
    # A serving replica appends between the verification's read of the head and its scan of the records: read in
    # two snapshots, the chain "ended after the head" (PostgreSQL). On SQLite the appender waits for the
    # verification's transaction instead.
    _append(engine, 5)
    appender: list[threading.Thread] = []

    def append_after_the_head_is_read(conn, cursor, statement, *args):  # noqa: ANN001, ANN002, ANN202
        if not appender and "FROM audit_chain_head" in statement:
            appender.append(threading.Thread(target=_append, args=(engine, 2), kwargs={"actor": "replica-2"}))
            appender[0].start()
            appender[0].join(timeout=1.0)

    event.listen(engine, "after_cursor_execute", append_after_the_head_is_read)
    try:
        result = _verify(engine)
    finally:
        event.remove(engine, "after_cursor_execute", append_after_the_head_is_read)
    assert result.ok, result.problems
    assert result.records_checked == 5
    appender[0].join(timeout=10)
    assert _verify(engine).records_checked == 7


def test_api_actions_are_audited_and_the_api_reports_tampering(client, engine):
    client.post("/v1/scores", json=batch(household("hh_audited_000001", signal("s-1"))), headers=auth(Role.CASEWORKER))
    verified = client.get("/v1/admin/audit/verification", headers=auth(Role.ETHICS_REVIEWER)).json()
    assert verified["ok"] is True and verified["records_checked"] >= 1
    with engine.begin() as connection:
        connection.execute(update(AuditRecord).where(AuditRecord.action == "score").values(model_version="other"))
    tampered = client.get("/v1/admin/audit/verification", headers=auth(Role.ADMIN)).json()
    assert tampered["ok"] is False and tampered["problems"][0]["kind"] == PROBLEM_HASH



def test_every_write_an_auditor_asks_about_leaves_its_audit_record(client, engine):
    """Objections added and withdrawn and a model version's approval each write their record: removing one of
    those audit calls went unnoticed by every test."""
    from tests.service.conftest import seed_version
    from vroegsignaal.schemas.enums import ModelStatus
    from vroegsignaal.service.audit import AuditAction

    def records(action):  # noqa: ANN001, ANN202
        with engine.connect() as connection:
            return connection.execute(
                select(AuditRecord.actor, AuditRecord.object_id).where(AuditRecord.action == action)
            ).all()

    caseworker = auth(Role.CASEWORKER, subject="caseworker-3")
    added = client.post("/v1/objections", json={"household_id": "hh_objects_000001", "received_on": "2026-03-02"},
                        headers=caseworker)
    assert added.status_code == 201
    assert records(AuditAction.OBJECTION_ADDED) == [("caseworker-3", "hh_objects_000001")]
    withdrawn = client.delete("/v1/objections/hh_objects_000001", headers=caseworker)
    assert withdrawn.status_code == 200, withdrawn.text
    assert records(AuditAction.OBJECTION_WITHDRAWN) == [("caseworker-3", "hh_objects_000001")]
    seed_version(engine, "cand-audit", ModelStatus.CANDIDATE, card={"model": "cand-audit"})
    approved = client.post("/v1/models/cand-audit/approval", json={"decision": "approve", "comment": "card read, gates pass"},
                           headers=auth(Role.ETHICS_REVIEWER, subject="reviewer-2"))
    assert approved.status_code == 200, approved.text
    assert ("reviewer-2", "cand-audit") in records(AuditAction.MODEL_STATUS)



def test_the_head_of_an_empty_log_is_a_checkpoint_that_passes(engine):
    """audit-verify on an empty log prints 0:<genesis hash>; passed back, it was reported as a missing record."""
    checkpoint = _verify(engine).head
    assert checkpoint.seq == 0
    with transaction(create_session_factory(engine)) as session:
        assert verify_audit_log(session, checkpoints=[AuditCheckpoint.parse(str(checkpoint))]).ok
    _append(engine, 2)
    with transaction(create_session_factory(engine)) as session:
        assert verify_audit_log(session, checkpoints=[checkpoint]).ok
