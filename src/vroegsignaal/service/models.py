"""The service's tables (SQLAlchemy 2 declarative). Alembic migrations in ``service/migrations`` create them.

Households are keyed by ``(municipality_code, household_pseudonym)``: pseudonyms are keyed hashes made by each
municipality, so the same pseudonym in two municipalities is two households. Enumerations are stored as their
string values (no database enum types, so adding a value needs no migration). Times are UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PSEUDONYM_LENGTH = 128
SHORT = 32


class UtcDateTimeType(TypeDecorator[dt.datetime]):
    """A UTC timestamp that comes back timezone-aware from every backend (SQLite stores it without a zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


UtcDateTime = UtcDateTimeType()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Household(Base):
    """A household known to the service, with its latest facts (*huishoudgegevens*)."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("municipality_code", "household_pseudonym"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    household_pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM_LENGTH))
    team: Mapped[str] = mapped_column(String(64))
    # The neighbourhood (wijk) organises a team's work; it is never a model feature (see schemas.api).
    neighbourhood: Mapped[str | None] = mapped_column(String(64), nullable=True)
    household_type: Mapped[str] = mapped_column(String(SHORT))
    benefit_type: Mapped[str] = mapped_column(String(SHORT))
    municipal_tax_arrears_eur: Mapped[float] = mapped_column(Float)
    municipal_tax_remission: Mapped[bool] = mapped_column(Boolean)
    prior_debt_assistance: Mapped[bool] = mapped_column(Boolean)
    recent_move: Mapped[bool] = mapped_column(Boolean)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Signal(Base):
    """A received arrears signal (*Vroegsignaal*)."""

    __tablename__ = "signals"
    __table_args__ = (UniqueConstraint("municipality_code", "signal_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    signal_ref: Mapped[str] = mapped_column(String(128))
    partner_type: Mapped[str] = mapped_column(String(SHORT))
    amount_eur: Mapped[float] = mapped_column(Float)
    arrears_start_date: Mapped[dt.date] = mapped_column(Date)
    signal_date: Mapped[dt.date] = mapped_column(Date)
    crisis: Mapped[bool] = mapped_column(Boolean)
    warm_handover: Mapped[bool] = mapped_column(Boolean)
    end_of_supply: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    #: The reference date of the request that brought the signal: the first one it was scored for (migration 0009;
    #: empty for signals from before it). The export's ``known_date``.
    known_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True, default=None)
    #: A correction names the signal it replaces; the replaced one names its correction and no longer counts.
    replaces_ref: Mapped[str | None] = mapped_column(String(128), nullable=True, default=None)
    replaced_by_ref: Mapped[str | None] = mapped_column(String(128), nullable=True, default=None)


class Score(Base):
    """One scoring of a household by one model version, with its explanation."""

    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    model_version: Mapped[str] = mapped_column(String(128))
    reference_date: Mapped[dt.date] = mapped_column(Date)
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(SHORT))
    intensity: Mapped[str] = mapped_column(String(SHORT))
    uncertain: Mapped[bool] = mapped_column(Boolean)
    out_of_distribution: Mapped[list[str]] = mapped_column(JSON)
    flags: Mapped[list[str]] = mapped_column(JSON)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    scored_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


class ReviewItem(Base):
    """A household on a team's review queue. At most one open item per household; new signals update it."""

    __tablename__ = "review_items"
    __table_args__ = (
        Index(
            "uq_review_items_open_household",
            "household_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_review_items_queue", "municipality_code", "team", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    municipality_code: Mapped[str] = mapped_column(String(6))
    team: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(SHORT))
    approach: Mapped[str] = mapped_column(String(SHORT))
    standard_reason: Mapped[str | None] = mapped_column(String(SHORT), nullable=True)
    score_id: Mapped[int | None] = mapped_column(ForeignKey("scores.id", ondelete="SET NULL"), nullable=True)
    control_sample: Mapped[bool] = mapped_column(Boolean)
    crisis: Mapped[bool] = mapped_column(Boolean)
    end_of_supply: Mapped[bool] = mapped_column(Boolean)
    # Empty once a resident's objection erased the model's advice (migration 0010).
    suggested_intensity: Mapped[str | None] = mapped_column(String(SHORT), nullable=True)
    total_arrears_eur: Mapped[float] = mapped_column(Float)
    first_signal_date: Mapped[dt.date] = mapped_column(Date)
    received_on: Mapped[dt.date] = mapped_column(Date)
    #: The reference date of the request that last filed signals on this item: the date a decision's exported
    #: training row describes when no score does (the rule-based order). Empty for items from before 0008.
    reference_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    deadline: Mapped[dt.date] = mapped_column(Date)
    held_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Decision(Base):
    """A caseworker's decision on a review item; later the labelled data for retraining."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_item_id: Mapped[int] = mapped_column(
        ForeignKey("review_items.id", ondelete="CASCADE"), unique=True
    )
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    team: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    end_result: Mapped[str] = mapped_column(String(SHORT))
    # Empty once a resident's objection erased the model's advice (migration 0010).
    suggested_intensity: Mapped[str | None] = mapped_column(String(SHORT), nullable=True)
    chosen_intensity: Mapped[str] = mapped_column(String(SHORT))
    rank_at_decision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Empty, like the suggested intensity, once a resident's objection erased the model's advice (migration 0010).
    departed_intensity: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    departed_order: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    departure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    control_sample: Mapped[bool] = mapped_column(Boolean)
    approach: Mapped[str] = mapped_column(String(SHORT))
    #: The order the list followed when the decision was made ("model" or "rule"; empty before migration 0011).
    ordering: Mapped[str | None] = mapped_column(String(SHORT), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(128), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    band: Mapped[str | None] = mapped_column(String(SHORT), nullable=True)
    reference_date: Mapped[dt.date] = mapped_column(Date)
    total_arrears_eur: Mapped[float] = mapped_column(Float)
    #: The latest attempt that reached the resident (administrative ones do not count): the cooldown starts here.
    last_contact_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    #: The household's facts when the decision was made: what retraining learns from, never facts recorded later.
    household_facts: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ContactAttempt(Base):
    """A contact attempt (*contactpoging*) of a decision."""

    __tablename__ = "contact_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(SHORT))
    reached: Mapped[bool] = mapped_column(Boolean)
    attempted_on: Mapped[dt.date] = mapped_column(Date)
    part_of_day: Mapped[str] = mapped_column(String(SHORT))


#: An attempt that reached the resident and was more than paperwork (``kind`` not administrative): it starts the
#: cooldown, and it is what "reached" means in the export and the oversight report. The same rule for a request's
#: attempts: :func:`vroegsignaal.service.decisions.counts_as_contact`.
REACHED_RESIDENT = and_(ContactAttempt.reached.is_(True), ContactAttempt.kind != "administrative")


class Objection(Base):
    """A resident's objection to profiling (GDPR art. 21); active while ``withdrawn_at`` is empty."""

    __tablename__ = "objections"
    __table_args__ = (
        Index(
            "uq_objections_active_household",
            "municipality_code",
            "household_pseudonym",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    household_pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM_LENGTH))
    received_on: Mapped[dt.date] = mapped_column(Date)
    registered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    registered_by: Mapped[str] = mapped_column(String(128))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(128), nullable=True)


class ScoreSubmission(Base):
    """A scoring request made with an ``Idempotency-Key``: a retry gets the stored response."""

    __tablename__ = "score_submissions"
    __table_args__ = (UniqueConstraint("municipality_code", "idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


class ModelVersion(Base):
    """A model version the service knows, with its card and life-cycle status."""

    __tablename__ = "model_versions"
    # At most one champion, whatever the timing of two promotions (migration 0007).
    __table_args__ = (
        Index(
            "uq_model_versions_one_champion",
            "status",
            unique=True,
            sqlite_where=text("status = 'champion'"),
            postgresql_where=text("status = 'champion'"),
        ),
    )

    version: Mapped[str] = mapped_column(String(128), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(128))
    source_uri: Mapped[str] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(SHORT))
    card_json: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    card_html: Mapped[str | None] = mapped_column(Text, nullable=True)
    card_html_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status_changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ModelStatusEvent(Base):
    """Append-only history of status changes: who, in which role, when, and why."""

    __tablename__ = "model_status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(ForeignKey("model_versions.version"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(SHORT), nullable=True)
    to_status: Mapped[str] = mapped_column(String(SHORT))
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(SHORT))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ServiceSwitch(Base):
    """Operational switches shared by every worker, e.g. the ordering mode (model or rule-based fallback)."""

    __tablename__ = "service_switches"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    changed_by: Mapped[str] = mapped_column(String(128))
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class AuditRecord(Base):
    """One hash-chained audit record. Never updated or deleted by the service (retention aside)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(SHORT))
    municipality_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(PSEUDONYM_LENGTH), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(128), nullable=True)
    input_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The single row every append locks: the last sequence number and hash, and the anchor left by purges."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    anchor_seq: Mapped[int] = mapped_column(Integer)
    anchor_hash: Mapped[str] = mapped_column(String(64))
