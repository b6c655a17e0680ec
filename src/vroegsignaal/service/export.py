"""Export decisions as labelled data for retraining, with the control-sample marker.

Writes four Parquet tables in the data contract's column names, so the training pipeline validates them like any
other data: ``signals.parquet`` (``SignalSchema``), ``households.parquet`` (``HouseholdSchema``: the facts as they
were at the household's first exported decision, never facts recorded later), ``outcomes.parquet``
(``OutcomeSchema``: the label, see :data:`LABEL_TRUE`) and ``decisions.parquet`` (one row per decision: reference
date, end result, whether help was accepted, whether the resident was reached, the control-sample marker, the advice
and whether the caseworker departed from it). Households with an active objection are left out (no profiling, and
no model development either). Free-text departure reasons are never exported.

The label comes from the caseworker's end result at the first conversation, not from a follow-up a year later, and
only where that result says something about debt; households that were not reached have none. It is therefore
selection-biased (DESIGN, "Labels carry selection bias"): the control-sample marker is in ``decisions.parquet`` to
measure that. The audit attributes (age band, gender, origin) are not in the service; a municipality adds them from
its own records, under its DPIA, before training (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from vroegsignaal.schemas.enums import HELP_ACCEPTED_RESULTS, EndResult
from vroegsignaal.schemas.tables import HOUSEHOLD_FACT_COLUMNS, HouseholdSchema, OutcomeSchema, SignalSchema
from vroegsignaal.service.audit import AuditAction, AuditEntry, audit
from vroegsignaal.service.clock import start_of_dutch_day
from vroegsignaal.service.models import ContactAttempt, Decision, Household, Objection, Signal

DECISIONS_FILE = "decisions.parquet"
SIGNALS_FILE = "signals.parquet"
HOUSEHOLDS_FILE = "households.parquet"
OUTCOMES_FILE = "outcomes.parquet"
#: End results that mean the household entered problematic debt: referred on to financial (debt) help.
LABEL_TRUE: frozenset[EndResult] = frozenset({EndResult.FINANCIAL_FOLLOW_UP})
#: End results that mean it did not: the signal was unjustified, paid, or solved with advice or other help.
#: Every other result (not reached, declined, already in debt assistance, ...) says nothing about it: no label.
LABEL_FALSE: frozenset[EndResult] = frozenset(
    {EndResult.UNJUSTIFIED_SIGNAL, EndResult.ALREADY_PAID, EndResult.ADVICE_QUICK_FIX, EndResult.NON_FINANCIAL_FOLLOW_UP}
)


@dataclass(frozen=True)
class ExportReport:
    out_dir: Path
    decisions: int
    households: int
    signals: int
    skipped_objected: int
    #: Decisions with a label in ``outcomes.parquet`` (see :data:`LABEL_TRUE`).
    labelled: int = 0
    #: Households whose facts come from the household row, their decisions predating the facts snapshot.
    facts_from_household_row: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "decisions": self.decisions,
            "households": self.households,
            "signals": self.signals,
            "skipped_objected": self.skipped_objected,
            "labelled": self.labelled,
            "facts_from_household_row": self.facts_from_household_row,
        }


def export_decisions(
    session: Session,
    *,
    out_dir: Path,
    municipality: str | None = None,
    since: dt.date | None = None,
    actor: str = "system",
    now: dt.datetime,
) -> ExportReport:
    """Write the labelled-data tables to ``out_dir`` and audit the export."""
    with session.begin():
        query = select(Decision, Household).join(Household, Household.id == Decision.household_id)
        if municipality is not None:
            query = query.where(Decision.municipality_code == municipality)
        if since is not None:
            query = query.where(Decision.decided_at >= start_of_dutch_day(since))
        rows = session.execute(query.order_by(Decision.id)).all()
        objected = set(
            session.execute(
                select(Objection.municipality_code, Objection.household_pseudonym).where(
                    Objection.withdrawn_at.is_(None)
                )
            ).all()
        )
        kept = [(d, h) for d, h in rows if (h.municipality_code, h.household_pseudonym) not in objected]
        reached = set(
            session.scalars(
                select(ContactAttempt.decision_id).where(
                    ContactAttempt.decision_id.in_([d.id for d, _ in kept]), ContactAttempt.reached.is_(True)
                )
            )
        )
        households = {h.id: h for _, h in kept}
        signals = session.scalars(select(Signal).where(Signal.household_id.in_(list(households)))).all()
        audit(
            session,
            AuditEntry(
                actor=actor,
                role="system",
                municipality_code=municipality,
                action=AuditAction.EXPORT_DECISIONS,
                detail={"decisions": len(kept), "skipped_objected": len(rows) - len(kept)},
            ),
            now=now,
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    accepted = {result.value for result in HELP_ACCEPTED_RESULTS}
    decisions_frame = pd.DataFrame(
        [
            {
                "household_id": h.household_pseudonym,
                "municipality_code": h.municipality_code,
                "reference_date": pd.Timestamp(d.reference_date),
                "decided_at": pd.Timestamp(d.decided_at),
                "end_result": d.end_result,
                "help_accepted": d.end_result in accepted,
                "reached": d.id in reached,
                "control_sample": d.control_sample,
                "approach": d.approach,
                "model_version": d.model_version,
                "score": d.score,
                "band": d.band,
                "suggested_intensity": d.suggested_intensity,
                "chosen_intensity": d.chosen_intensity,
                "departed_intensity": d.departed_intensity,
                "departed_order": d.departed_order,
                "team": d.team,
            }
            for d, h in kept
        ]
    )
    facts, from_row = _facts_at_first_decision(kept)
    households_frame = pd.DataFrame(
        [
            {
                HouseholdSchema.household_id: h.household_pseudonym,
                HouseholdSchema.municipality_code: h.municipality_code,
                **facts[h.id],
            }
            for h in households.values()
        ]
    )
    outcomes_frame = _outcomes(kept)
    signals_frame = pd.DataFrame(
        [
            {
                SignalSchema.household_id: households[s.household_id].household_pseudonym,
                SignalSchema.signal_id: s.signal_ref,
                SignalSchema.municipality_code: s.municipality_code,
                SignalSchema.partner_type: s.partner_type,
                SignalSchema.amount_eur: s.amount_eur,
                SignalSchema.arrears_start_date: pd.Timestamp(s.arrears_start_date),
                SignalSchema.signal_date: pd.Timestamp(s.signal_date),
                SignalSchema.crisis: s.crisis,
                SignalSchema.warm_handover: s.warm_handover,
                SignalSchema.end_of_supply: s.end_of_supply,
            }
            for s in signals
        ]
    )
    decisions_frame.to_parquet(out_dir / DECISIONS_FILE, index=False)
    households_frame.to_parquet(out_dir / HOUSEHOLDS_FILE, index=False)
    signals_frame.to_parquet(out_dir / SIGNALS_FILE, index=False)
    outcomes_frame.to_parquet(out_dir / OUTCOMES_FILE, index=False)
    return ExportReport(
        out_dir, len(kept), len(households), len(signals), len(rows) - len(kept), len(outcomes_frame), from_row
    )


def _facts_at_first_decision(kept: list[Any]) -> tuple[dict[int, dict[str, Any]], int]:
    """Per household: its facts as recorded with its first exported decision (the household row's for decisions
    made before decisions kept them), and how many households needed that fallback."""
    facts: dict[int, dict[str, Any]] = {}
    from_row = 0
    for decision, household in kept:  # in decision order: the first one per household wins
        if household.id in facts:
            continue
        snapshot = decision.household_facts
        if snapshot is None:
            from_row += 1
            snapshot = {column: getattr(household, column) for column in HOUSEHOLD_FACT_COLUMNS}
        facts[household.id] = {column: snapshot[column] for column in HOUSEHOLD_FACT_COLUMNS}
    return facts, from_row


def _outcomes(kept: list[Any]) -> pd.DataFrame:
    """The label table: one row per household and reference date whose decision's end result tells."""
    rows = [
        {
            OutcomeSchema.household_id: h.household_pseudonym,
            OutcomeSchema.reference_date: pd.Timestamp(d.reference_date),
            OutcomeSchema.problematic_debt_12m: EndResult(d.end_result) in LABEL_TRUE,
        }
        for d, h in kept
        if EndResult(d.end_result) in LABEL_TRUE | LABEL_FALSE
    ]
    columns = [OutcomeSchema.household_id, OutcomeSchema.reference_date, OutcomeSchema.problematic_debt_12m]
    frame = pd.DataFrame(rows, columns=columns)
    # Two cases of a household on one reference date: the later decision tells what is known now.
    return frame.drop_duplicates(subset=columns[:2], keep="last").reset_index(drop=True)
