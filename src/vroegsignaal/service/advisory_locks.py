"""PostgreSQL advisory locks: how replicas take turns where no row can carry the lock.

* **A household's objection and its scoring.** A scoring request reads whether a household objected once, near its
  start; an objection registered meanwhile on another replica would otherwise see no score to erase yet, and the
  score would be stored after it (GDPR art. 21: once the objection is registered, the household is never scored).
  A new household has no row until the scoring request commits, so both lock the household's pseudonym: scoring
  requests a shared lock for each household of the batch (they never wait for each other), an objection an
  exclusive one. Whichever comes second waits for the first to commit and then reads what it wrote.
* **A model's rejection and the scoring with it** (:data:`MODEL_REJECTION`). A scoring request reads whether the
  model it serves was rejected once, near its start; a rejection recorded meanwhile would withdraw the model's
  advice from the open cases it can see, not from the case that request commits after it. Scoring requests share
  the lock, a rejection takes it alone: it waits for the requests in flight and then sees their cases, and the
  requests after it wait for it and then read the rejection.
* **Registering model versions** (:data:`REGISTRATION`) and **migrating** (:data:`MIGRATION`, taken in the
  transaction Alembic migrates in): replicas starting together take turns, the second finding the work done.

On SQLite, where one transaction writes at a time, there is nothing to do: every function here is a no-op there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT

#: Registering model versions (a transaction lock).
REGISTRATION = 0x7673_7265_6769_7374  # "vsregist"
#: Migrating the database (a session lock, released after the upgrade).
MIGRATION = 0x7673_6D69_6772_6174  # "vsmigrat"
#: Rejecting a model version (exclusive) against scoring (shared; a transaction lock).
MODEL_REJECTION = 0x7673_7265_6A65_6374  # "vsreject"

_SHARED = text("SELECT pg_advisory_xact_lock_shared(key) FROM unnest(:keys) AS key").bindparams(
    bindparam("keys", type_=ARRAY(BIGINT))
)
_EXCLUSIVE = text("SELECT pg_advisory_xact_lock(:key)")


def household_key(municipality: str, pseudonym: str) -> int:
    """The lock key of one household: 64 bits of a hash of its municipality and pseudonym."""
    digest = hashlib.blake2b(f"{municipality}\x1f{pseudonym}".encode(), digest_size=8, person=b"vs-objection").digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_for_transaction(connection: Connection, key: int) -> None:
    """Wait for the exclusive lock ``key`` and hold it until this transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(_EXCLUSIVE, {"key": key})


def share_for_scoring(connection: Connection, municipality: str, pseudonyms: Sequence[str]) -> None:
    """For a scoring request: wait for any objection being registered for these households and for a model's
    rejection being recorded, and keep new ones out until this transaction ends (one statement for all)."""
    if connection.dialect.name == "postgresql":
        keys = {MODEL_REJECTION, *(household_key(municipality, p) for p in pseudonyms)}
        connection.execute(_SHARED, {"keys": sorted(keys)})


def own_household(connection: Connection, municipality: str, pseudonym: str) -> None:
    """For an objection: wait for the scoring requests of this household in flight, and keep new ones out until
    this transaction ends."""
    lock_for_transaction(connection, household_key(municipality, pseudonym))
