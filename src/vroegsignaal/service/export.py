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
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from vroegsignaal.errors import ConfigError
from vroegsignaal.schemas.enums import HELP_ACCEPTED_RESULTS, EndResult
from vroegsignaal.schemas.signal_dataset import CONFIG_FILE, signal_dataset_config
from vroegsignaal.scoring.features import WINDOW_12M_DAYS
from vroegsignaal.schemas.tables import (
    HOUSEHOLD_FACT_COLUMNS,
    MUNICIPALITY_PATTERN,
    HouseholdSchema,
    OutcomeSchema,
    SignalSchema,
)
from vroegsignaal.service.audit import AuditAction, AuditEntry, audit
from vroegsignaal.service.clock import dutch_today, start_of_dutch_day
from vroegsignaal.service.models import REACHED_RESIDENT, ContactAttempt, Decision, Household, Objection, Signal
from vroegsignaal.service.retention import latest_data_cutoff

DECISIONS_FILE = "decisions.parquet"
SIGNALS_FILE = "signals.parquet"
HOUSEHOLDS_FILE = "households.parquet"
OUTCOMES_FILE = "outcomes.parquet"
EXPORT_FILES = (DECISIONS_FILE, HOUSEHOLDS_FILE, SIGNALS_FILE, OUTCOMES_FILE)
#: The columns of ``decisions.parquet``.
DECISION_COLUMNS = (
    "household_id", "municipality_code", "reference_date", "decided_at", "end_result", "help_accepted", "reached",
    "control_sample", "approach", "model_version", "score", "band", "suggested_intensity", "chosen_intensity",
    "departed_intensity", "departed_order", "team",
)
#: The columns of ``signals.parquet``, the data contract's.
SIGNAL_COLUMNS = (
    SignalSchema.household_id, SignalSchema.signal_id, SignalSchema.municipality_code, SignalSchema.partner_type,
    SignalSchema.amount_eur, SignalSchema.arrears_start_date, SignalSchema.signal_date, SignalSchema.known_date,
    SignalSchema.crisis, SignalSchema.warm_handover, SignalSchema.end_of_supply,
)
#: The audit attributes' table: not in the service, the municipality adds it from its own records.
AUDIT_FILE = "audit.parquet"
#: How the exported label was made, for the dataset config and so for the model card the ethics committee reads.
LABEL_DESCRIPTION = (
    "The caseworker's finding at the first conversation after an arrears signal (decisions exported by "
    "Vroegsignaal): yes when the household was referred on to financial follow-up help (debt assistance); no when "
    "the signal was unjustified, the arrears were already paid, or advice, a quick fix or non-financial help was "
    "enough. It is not a follow-up a year later. Only households the caseworker reached have a label; those not "
    "reached, who declined help or were already in debt assistance have none. The label is therefore "
    "selection-biased: who was reached depends on who was contacted, and how. decisions.parquet marks the random "
    "control sample (the standard approach regardless of score), which lets you measure that bias."
)
#: How far after its reference date an exported label looks (``split.label_horizon_days``): not at all.
#: The label is the finding of a conversation whose decision is recorded when it is exported, not an event
#: that may still come (as entry into debt within 12 months is), so no row waits for a window to end; and
#: two decisions' findings are two events, so no training row is left out for a tested row of its household.
LABEL_HORIZON_DAYS = 0
MSG_SEVERAL_MUNICIPALITIES = (
    "--municipality: the decisions belong to several municipalities ({codes}); export one municipality at a time "
    "(a household's pseudonym is unique within its municipality only)"
)
MSG_MUNICIPALITY_CODE = (
    "--municipality: '{code}' is not a CBS municipality code (GM and four digits, e.g. GM0344); "
    "nothing was exported or audited"
)
MSG_OUT_NOT_A_FOLDER = "is a file, not a folder"
MSG_OUT_NOT_WRITTEN = "cannot write the export"
_STAGING_PREFIX = ".export-decisions-"
_STAGED_TABLES = "tables"
_NOTHING = "nothing was exported or audited"
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
    #: The municipality the decisions belong to (none when nothing was exported).
    municipality: str | None = None
    #: Decisions left out because a retention purge deleted signals of their 12-month window.
    skipped_purged_history: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "decisions": self.decisions,
            "households": self.households,
            "signals": self.signals,
            "skipped_objected": self.skipped_objected,
            "labelled": self.labelled,
            "facts_from_household_row": self.facts_from_household_row,
            "municipality": self.municipality,
            "skipped_purged_history": self.skipped_purged_history,
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
    """Write the labelled-data tables to ``out_dir`` and audit the export.

    The tables are written to a staging folder first and moved into ``out_dir`` only after the audit record is
    committed: a failed write leaves no audit record and no files, a failed audit leaves no files. An existing
    ``out_dir`` keeps its other files; the four tables in it are replaced. The audit record names the
    municipality the exported decisions belong to. Raises :class:`ConfigError` (naming ``--municipality`` or
    ``--out``) when ``municipality`` is not a CBS code, ``out_dir`` cannot hold the export or the tables
    cannot be written.
    """
    if municipality is not None and not re.fullmatch(MUNICIPALITY_PATTERN, municipality):
        # A code no decision can have would export empty tables over a good export.
        raise ConfigError(MSG_MUNICIPALITY_CODE.format(code=municipality))
    anchor = _nearest_existing_folder_or_raise(out_dir)
    with session.begin():
        tables, report = _collect_tables(session, out_dir=out_dir, municipality=municipality, since=since)
    staging = _write_staging_or_raise(tables, _export_config(report.municipality), anchor=anchor, out_dir=out_dir)
    try:
        with session.begin():
            audit(
                session,
                AuditEntry(
                    actor=actor,
                    role="system",
                    municipality_code=report.municipality,
                    action=AuditAction.EXPORT_DECISIONS,
                    detail={
                        "decisions": report.decisions,
                        "skipped_objected": report.skipped_objected,
                        "skipped_purged_history": report.skipped_purged_history,
                    },
                ),
                now=now,
            )
        _move_into_place_or_raise(staging / _STAGED_TABLES, out_dir=out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def _nearest_existing_folder_or_raise(out_dir: Path) -> Path:
    """The folder to stage the export in: ``out_dir`` itself when it exists, else its nearest existing parent.

    Staging there keeps the tables on the filesystem they end up on (even when ``out_dir`` is a mount point),
    so moving them into place is a rename, and creates no missing parent folder before the export is audited.
    """
    # The last of the parents is '.' or '/', which exist.
    anchor = next(candidate for candidate in (out_dir, *out_dir.parents) if candidate.exists())
    if not anchor.is_dir():
        where = f"'{out_dir}'" if anchor == out_dir else f"'{out_dir}' is under '{anchor}', which"
        raise ConfigError(f"--out: {where} {MSG_OUT_NOT_A_FOLDER}; choose a folder for the export")
    if anchor == out_dir:
        for name in EXPORT_FILES:
            if (out_dir / name).is_dir():
                raise ConfigError(f"--out: '{out_dir / name}' is a folder; the export writes a table there")
    return anchor


def _collect_tables(
    session: Session, *, out_dir: Path, municipality: str | None, since: dt.date | None
) -> tuple[dict[str, pd.DataFrame], ExportReport]:
    """Read the decisions to export and build the four tables (file name → table) in one read transaction."""
    exported: list[ColumnElement[bool]] = []  # which decisions the export covers
    if municipality is not None:
        exported.append(Decision.municipality_code == municipality)
    if since is not None:
        exported.append(Decision.decided_at >= start_of_dutch_day(since))
    query = select(Decision, Household).join(Household, Household.id == Decision.household_id)
    rows = session.execute(query.where(*exported).order_by(Decision.id)).all()
    municipalities = sorted({h.municipality_code for _, h in rows})
    if municipality is None and len(municipalities) > 1:
        # A pseudonym is unique within a municipality only: one export would merge two households.
        raise ConfigError(MSG_SEVERAL_MUNICIPALITIES.format(codes=", ".join(municipalities)))
    objected = set(
        session.execute(
            select(Objection.municipality_code, Objection.household_pseudonym).where(
                Objection.withdrawn_at.is_(None)
            )
        ).all()
    )
    not_objected = [(d, h) for d, h in rows if (h.municipality_code, h.household_pseudonym) not in objected]
    # A decision whose features' window reaches before a purge's cut-off would be exported with signals missing (all
    # of them, for a case decided some days after its signal came in): a labelled row the model never saw.
    cutoff = latest_data_cutoff(session)
    kept = [(d, h) for d, h in not_objected if _history_intact(d.reference_date, cutoff)]
    # The decisions are selected again in the statements below, not listed by id: a list binds a parameter per
    # id, and PostgreSQL takes at most 65,535 in a statement (a big city has more decisions than that).
    reached = set(
        session.scalars(
            select(ContactAttempt.decision_id).where(
                ContactAttempt.decision_id.in_(select(Decision.id).where(*exported)), REACHED_RESIDENT
            )
        )
    )
    households = {h.id: h for _, h in kept}
    # The kept households' signals only: not those of households that objected, nor of a household first
    # decided on after the decisions were read (on PostgreSQL each statement sees what was committed before it
    # began).
    every_signal = [
        s
        for s in session.scalars(
            select(Signal).where(Signal.household_id.in_(select(Decision.household_id).where(*exported)))
        )
        if s.household_id in households
    ]
    known = _known_dates(every_signal, [d for d, _ in rows])
    # A signal a correction replaced is left out: the training data holds the corrected one.
    signals = [s for s in every_signal if s.replaced_by_ref is None]
    accepted = {result.value for result in HELP_ACCEPTED_RESULTS}
    decisions_frame = _frame(
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
        ],
        DECISION_COLUMNS,
    )
    facts, from_row = _facts_at_first_decision(kept)
    households_frame = _frame(
        [
            {
                HouseholdSchema.household_id: h.household_pseudonym,
                HouseholdSchema.municipality_code: h.municipality_code,
                **facts[h.id],
            }
            for h in households.values()
        ],
        (HouseholdSchema.household_id, HouseholdSchema.municipality_code, *HOUSEHOLD_FACT_COLUMNS),
    )
    outcomes_frame = _outcomes(kept, reached)
    signals_frame = _frame(
        [
            {
                SignalSchema.household_id: households[s.household_id].household_pseudonym,
                SignalSchema.signal_id: s.signal_ref,
                SignalSchema.municipality_code: s.municipality_code,
                SignalSchema.partner_type: s.partner_type,
                SignalSchema.amount_eur: s.amount_eur,
                SignalSchema.arrears_start_date: pd.Timestamp(s.arrears_start_date),
                SignalSchema.signal_date: pd.Timestamp(s.signal_date),
                # A decision's features count only the signals known by its reference date (features.py).
                SignalSchema.known_date: pd.Timestamp(known[s.id]),
                SignalSchema.crisis: s.crisis,
                SignalSchema.warm_handover: s.warm_handover,
                SignalSchema.end_of_supply: s.end_of_supply,
            }
            for s in signals
        ],
        SIGNAL_COLUMNS,
    )
    tables = {
        DECISIONS_FILE: decisions_frame,
        HOUSEHOLDS_FILE: households_frame,
        SIGNALS_FILE: signals_frame,
        OUTCOMES_FILE: outcomes_frame,
    }
    report = ExportReport(
        out_dir,
        len(kept),
        len(households),
        len(signals),
        len(rows) - len(not_objected),
        len(outcomes_frame),
        from_row,
        municipality or (municipalities[0] if municipalities else None),
        len(not_objected) - len(kept),
    )
    return tables, report


def _export_config(municipality: str | None) -> str:
    """The dataset config for training on the export (and the municipality's ``audit.parquet``)."""
    where = f" of {municipality}" if municipality else ""
    config = signal_dataset_config(
        name=f"decisions{'-' + municipality.lower() if municipality else ''}",
        description=f"Review decisions{where} exported by Vroegsignaal (vroegsignaal export-decisions), with the "
        f"audit attributes the municipality added from its own records ({AUDIT_FILE}).",
        label_description=LABEL_DESCRIPTION,
        data={"signals": SIGNALS_FILE, "households": HOUSEHOLDS_FILE, "audit": AUDIT_FILE, "outcomes": OUTCOMES_FILE},
        label_horizon_days=LABEL_HORIZON_DAYS,
    )
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def _write_staging_or_raise(tables: dict[str, pd.DataFrame], config: str, *, anchor: Path, out_dir: Path) -> Path:
    """Write the tables and the dataset config into ``<staging>/tables`` under ``anchor`` and return the staging
    folder.

    On failure nothing is left behind. The tables go one level down so that the folder moved into place is
    made by ``mkdir`` (permissions from the umask), not by ``mkdtemp`` (owner only).
    """
    try:
        staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=anchor))
    except OSError as error:
        message = f"--out: {MSG_OUT_NOT_WRITTEN} to '{out_dir}' ({_reason(error)}); {_NOTHING}"
        raise ConfigError(message) from None
    try:
        folder = staging / _STAGED_TABLES
        folder.mkdir()
        for name, frame in tables.items():
            frame.to_parquet(folder / name, index=False)
        (folder / CONFIG_FILE).write_text(config, encoding="utf-8")
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        message = f"--out: {MSG_OUT_NOT_WRITTEN} to '{out_dir}' ({_reason(error)}); {_NOTHING}"
        raise ConfigError(message) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _move_into_place_or_raise(folder: Path, *, out_dir: Path) -> None:
    """Rename the staged tables into ``out_dir``: the whole folder when it is new, else table by table (a dataset
    config already there is the data scientist's and stays)."""
    try:
        if out_dir.is_dir():
            for name in EXPORT_FILES:
                os.replace(folder / name, out_dir / name)
            if not (out_dir / CONFIG_FILE).exists():
                os.replace(folder / CONFIG_FILE, out_dir / CONFIG_FILE)
        else:
            out_dir.parent.mkdir(parents=True, exist_ok=True)
            folder.rename(out_dir)
    except OSError as error:
        # Only a change to --out between the checks and here gets this far; the export is audited by now.
        raise ConfigError(
            f"--out: the export is recorded in the audit log but could not be moved into '{out_dir}' "
            f"({_reason(error)}); run the export again"
        ) from None


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


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


def _history_intact(reference_date: dt.date, cutoff: dt.datetime | None) -> bool:
    """Whether every signal the features of ``reference_date`` count (its 12-month window) is still on file after
    purges up to ``cutoff``: a signal is received on or after its own date, so none of the window's was received
    before the window began. (``months_since_first_signal`` counts from the oldest signal on file, as it does when
    the service scores.)"""
    window_start = reference_date - dt.timedelta(days=WINDOW_12M_DAYS - 1)
    return cutoff is None or start_of_dutch_day(window_start) >= cutoff


def _known_dates(signals: Sequence[Signal], decisions: Sequence[Decision]) -> dict[int, dt.date]:
    """Per signal id: the first reference date it was known for. That is the reference date of the request that
    brought it (the day it was received, for signals from before that was kept), but never one a decision made
    before the signal arrived was made for: a batch sent late for a past reference date would otherwise put its
    signals into the features of a decision already made without them. For a correction it is the earliest of the
    chain it ends: it corrects what was known then, as the replaced signal counted from then on."""
    own = {s.signal_ref: s for s in signals}
    decided: dict[int, list[tuple[dt.datetime, dt.date]]] = {}
    for decision in decisions:
        decided.setdefault(decision.household_id, []).append((decision.decided_at, decision.reference_date))

    def first_known(signal: Signal) -> dt.date:
        day = signal.known_on or dutch_today(signal.received_at)
        made_before = [
            reference + dt.timedelta(days=1)
            for decided_at, reference in decided.get(signal.household_id, ())
            if decided_at < signal.received_at
        ]
        return max([day, *made_before])

    def earliest(signal: Signal) -> dt.date:
        day, replaces, seen = first_known(signal), signal.replaces_ref, {signal.signal_ref}
        while replaces is not None and replaces in own and replaces not in seen:
            seen.add(replaces)
            earlier = own[replaces]
            day, replaces = min(day, first_known(earlier)), earlier.replaces_ref
        return day

    return {s.id: earliest(s) for s in signals}


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """A table of ``rows`` with ``columns`` (an export without decisions still has its columns)."""
    return pd.DataFrame(rows, columns=list(columns))


def _outcomes(kept: list[Any], reached: set[int]) -> pd.DataFrame:
    """The label table: one row per household and reference date whose decision's end result tells, for
    households the caseworker reached (about one never reached, an end result is no finding of the conversation)."""
    rows = [
        {
            OutcomeSchema.household_id: h.household_pseudonym,
            OutcomeSchema.reference_date: pd.Timestamp(d.reference_date),
            OutcomeSchema.problematic_debt_12m: EndResult(d.end_result) in LABEL_TRUE,
        }
        for d, h in kept
        if EndResult(d.end_result) in LABEL_TRUE | LABEL_FALSE and d.id in reached
    ]
    columns = [OutcomeSchema.household_id, OutcomeSchema.reference_date, OutcomeSchema.problematic_debt_12m]
    frame = pd.DataFrame(rows, columns=columns)
    # Two cases of a household on one reference date: the later decision tells what is known now.
    return frame.drop_duplicates(subset=columns[:2], keep="last").reset_index(drop=True)
