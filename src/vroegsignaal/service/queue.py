"""Pure rules of the review queue: urgency, cooldown, the list order, and review flags.

Order of an outreach list (DESIGN "Domain facts"): urgent (crisis or end-of-supply signal) and overdue items first,
then by score, highest first; with the rule-based fallback, by the oldest signal date instead. Items that are not
ranked by the model — the control sample, and items received while the model was switched off — are placed by a
uniform keyed draw: at that quantile of the scores in their block (urgent and overdue, or the rest), so their
position does not depend on their score.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from vroegsignaal.schemas.enums import ReviewFlag

Ordering = Literal["model", "rule"]

#: Signals count in this many days up to the reference date: arrears are summed over the latest signal per partner
#: type in it, and a new signal in it with a crisis or end-of-supply flag makes its case urgent (the features'
#: 12-month window).
ARREARS_WINDOW_DAYS = 365


@dataclass(frozen=True)
class SignalFacts:
    """The parts of a signal the queue rules need."""

    partner_type: str
    amount_eur: float
    arrears_start_date: dt.date
    signal_date: dt.date
    crisis: bool
    end_of_supply: bool

    @classmethod
    def of(cls, signal: Mapping[str, Any]) -> SignalFacts:
        """The facts of a signal given as a mapping with the signal table's column names (a request's signal, a
        stored row's ``_asdict()``)."""
        return cls(
            signal["partner_type"],
            signal["amount_eur"],
            signal["arrears_start_date"],
            signal["signal_date"],
            signal["crisis"],
            signal["end_of_supply"],
        )

    def to_dict(self) -> dict[str, Any]:
        """The signal as a mapping with the signal table's column names (what the feature builder reads)."""
        # Spelled out rather than dataclasses.asdict, which deep-copies every field: this runs on every
        # request.
        return {
            "partner_type": self.partner_type,
            "amount_eur": self.amount_eur,
            "arrears_start_date": self.arrears_start_date,
            "signal_date": self.signal_date,
            "crisis": self.crisis,
            "end_of_supply": self.end_of_supply,
        }


def threat_flags(signals: Iterable[SignalFacts], *, reference: dt.date) -> tuple[bool, bool]:
    """Whether one of ``signals`` (the ones just received) reports a crisis, and one an end of supply, among those
    that count up to ``reference``.

    The signal's own date does not have to be recent: the threat reaches the municipality when the signal does, and
    a partner's late signal or a correction that adds the flag to an older signal asks for contact within 3 working
    days like any other (when a 3-month window applied here, such a household stayed held back by the cooldown)."""
    start = reference - dt.timedelta(days=ARREARS_WINDOW_DAYS - 1)
    counted = [s for s in signals if start <= s.signal_date <= reference]
    return any(s.crisis for s in counted), any(s.end_of_supply for s in counted)


def total_arrears(signals: Iterable[SignalFacts], *, reference: dt.date) -> float:
    """Sum of the latest amount per partner type in the last 12 months (used to see whether arrears rose)."""
    start = reference - dt.timedelta(days=ARREARS_WINDOW_DAYS - 1)
    latest: dict[str, SignalFacts] = {}
    for signal in signals:
        if not start <= signal.signal_date <= reference:
            continue
        current = latest.get(signal.partner_type)
        if current is None or (signal.signal_date, signal.amount_eur) > (current.signal_date, current.amount_eur):
            latest[signal.partner_type] = signal
    return float(sum(signal.amount_eur for signal in latest.values()))


def cooldown_hold(
    *,
    last_contact_on: dt.date | None,
    arrears_at_contact: float | None,
    arrears_now: float,
    cooldown_days: int,
    today: dt.date,
    new_threat: bool = False,
) -> dt.date | None:
    """The date until which a recently contacted household is held back, or ``None`` to list it now.

    A household contacted within the cooldown is held back unless its arrears rose since that contact, or a new
    signal reports a threatening situation (crisis, end of supply): that asks for a conversation within three
    working days, and missing a household in need is the worst outcome (DESIGN, "Harm runs both ways").
    """
    if last_contact_on is None or cooldown_days == 0 or new_threat:
        return None
    until = last_contact_on + dt.timedelta(days=cooldown_days)
    if until <= today:
        return None
    if arrears_at_contact is not None and arrears_now > arrears_at_contact:
        return None
    return until


@dataclass(frozen=True)
class Advice:
    """What a caseworker is asked to follow for an open review item."""

    approach: str
    standard_reason: str | None
    suggested_intensity: str


def advice_for(
    *, approach: str, standard_reason: str | None, suggested_intensity: str, ordering: Ordering, standard_intensity: str
) -> Advice:
    """The item's own advice; but while the municipality's lists follow the rule-based fallback no model is used at
    all, so an item the model scored before the switch is shown, and judged, as the standard approach too."""
    if ordering == "rule" and approach == "model":
        return Advice("standard", "rule_order", standard_intensity)
    return Advice(approach, standard_reason, suggested_intensity)


@dataclass(frozen=True)
class QueueEntry:
    """What ordering needs to know about one open review item."""

    item_id: int
    urgent: bool
    deadline: dt.date
    score: float | None
    ranked_by_model: bool
    position_draw: float
    first_signal_date: dt.date
    payload: Any = None

    def overdue(self, today: dt.date) -> bool:
        return self.deadline < today


def order_entries(entries: Sequence[QueueEntry], *, ordering: Ordering, today: dt.date) -> list[QueueEntry]:
    """The list order (see the module docstring); ties go to the older item."""
    if ordering == "rule":
        return sorted(
            entries, key=lambda e: (not (e.urgent or e.overdue(today)), e.first_signal_date, e.deadline, e.item_id)
        )

    def later(entry: QueueEntry) -> bool:  # the block: urgent and overdue items come first
        return not (entry.urgent or entry.overdue(today))

    # An item not ranked by the model (control sample, objection) takes the score at its drawn quantile among the
    # model-ranked items of its own block: an urgent one lands at a random place among the urgent items, not at
    # the end of them because most scores on the whole list are low.
    model_scores: dict[bool, list[float]] = {True: [], False: []}
    for entry in entries:
        if entry.ranked_by_model and entry.score is not None:
            model_scores[later(entry)].append(entry.score)
    for scores in model_scores.values():
        scores.sort()

    def priority(entry: QueueEntry) -> float:
        if entry.ranked_by_model and entry.score is not None:
            return entry.score
        scores = model_scores[later(entry)]
        if not scores:
            return entry.position_draw
        return scores[min(int(entry.position_draw * len(scores)), len(scores) - 1)]

    return sorted(entries, key=lambda e: (later(e), -priority(e), e.item_id))


def rank_of(ordered: Sequence[QueueEntry], item_id: int) -> int | None:
    """1-based position of ``item_id`` in an ordered list, or ``None`` when it is not on it."""
    for position, entry in enumerate(ordered, start=1):
        if entry.item_id == item_id:
            return position
    return None


#: Worked out once rather than on every call: the enum lookups cost ~4 µs a call.
_CASE_FLAGS = frozenset({ReviewFlag.CRISIS.value, ReviewFlag.END_OF_SUPPLY.value})
_CASE_OWN_FLAGS = (ReviewFlag.CRISIS.value, ReviewFlag.END_OF_SUPPLY.value, ReviewFlag.CONTROL_SAMPLE.value)
_FLAG_ORDER = {flag.value: position for position, flag in enumerate(ReviewFlag)}


def review_flags(
    *,
    scorer_flags: Sequence[str],
    crisis: bool,
    end_of_supply: bool,
    control_sample: bool,
) -> list[str]:
    """The item's review flags: the scorer's, the signal flags, and the control-sample flag, each once, in order.

    Crisis and end of supply are the case's own (``crisis``, ``end_of_supply``: its signals, in the urgent window);
    the scorer's flags of the same name look back three months over every signal, a closed case's included, so
    they are not taken over: a flag on the list means the deadline is urgent.
    """
    flags = [flag for flag in dict.fromkeys(scorer_flags) if flag not in _CASE_FLAGS]
    for flag, present in zip(_CASE_OWN_FLAGS, (crisis, end_of_supply, control_sample), strict=True):
        if present and flag not in flags:
            flags.append(flag)
    return sorted(flags, key=lambda f: _FLAG_ORDER.get(f, len(_FLAG_ORDER)))
