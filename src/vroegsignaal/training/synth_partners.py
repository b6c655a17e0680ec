"""Signal partners of the synthetic municipality: who a household owes, when a bill slips, and when a partner
signals.

Part of :mod:`vroegsignaal.training.synth`. Each household has a book of partners (landlord or mortgage
lender, energy supplier, water company, health insurer, and sometimes an optional partner). In a *setback* a
household lets bills slip in its own order of priority: the health-insurance premium first, then energy, then
water and rent (each partner's *threshold* is the stress level at which it falls behind). In a *spiral* every
bill goes unpaid at once. A partner signals under the Wgs rules when its months in arrears reach one of its
signal levels for the first time in an arrears episode: rent, energy and water from one month (30 days), the
health-insurance premium at two months (30–100 days), the CAK when the premium is six months unpaid; rent
arrears of three months come with a crisis flag (threatened eviction) and energy or water arrears of three
months with an end-of-supply signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vroegsignaal.schemas.catalogue import MAX_AMOUNT_EUR
from vroegsignaal.schemas.enums import PartnerType
from vroegsignaal.training.synth_world import Households

#: Months in arrears of the health-insurance premium at which the CAK takes over (wanbetalersregeling).
CAK_MONTHS = 6
#: Collection costs added per extra month in arrears, as a share of the bill.
COLLECTION_COST_PER_MONTH = 0.05


@dataclass(frozen=True)
class PartnerRule:
    """How one partner type behaves: when the household falls behind with it and when it signals."""

    partner: PartnerType
    threshold_shares: tuple[float, ...]
    """Probability that the household falls behind with this partner at stress level 1, 2, 3, 4."""
    signal_levels: tuple[int, ...]
    """Months in arrears at which the partner sends a signal (first time in an arrears episode)."""
    emission: float
    """Probability that a due signal is actually sent (not every partner is connected or sends every time)."""
    bill_eur: tuple[float, float, float, float]
    """Monthly bill: mean, standard deviation, minimum, maximum (for a lump-sum claim: the claim's range)."""
    lump_sum: bool = False
    """A claim (e.g. a benefit repayment) rather than a monthly bill: the amount grows only with costs."""
    due_on_first: bool = True
    """Bills fall due on the 1st of the month; otherwise on a household-specific day."""
    end_of_supply_level: int | None = None
    crisis_level: int | None = None
    warm_handover: float = 0.05


#: The partner book, in the order of the arrays below. The CAK is not in it: it signals for the health
#: insurer's premium once that is CAK_MONTHS behind.
PARTNER_RULES: tuple[PartnerRule, ...] = (
    PartnerRule(
        PartnerType.RENT, threshold_shares=(0.0, 0.45, 0.45, 0.1), signal_levels=(1, 2, 3), emission=0.9,
        bill_eur=(700, 150, 350, 1400), crisis_level=3, warm_handover=0.15,
    ),
    PartnerRule(
        PartnerType.MORTGAGE, threshold_shares=(0.0, 0.0, 0.5, 0.5), signal_levels=(2, 3), emission=0.9,
        bill_eur=(1000, 300, 400, 2500), crisis_level=3,
    ),
    PartnerRule(
        PartnerType.ENERGY, threshold_shares=(0.0, 0.2, 0.5, 0.3), signal_levels=(1, 2), emission=0.9,
        bill_eur=(150, 40, 50, 400), due_on_first=False, end_of_supply_level=3,
    ),
    PartnerRule(
        PartnerType.WATER, threshold_shares=(0.0, 0.2, 0.4, 0.4), signal_levels=(1,), emission=0.9,
        bill_eur=(30, 8, 10, 70), due_on_first=False, end_of_supply_level=3,
    ),
    # An insurer signals per policyholder: the amount is one person's premium, whatever the household's size.
    PartnerRule(
        PartnerType.HEALTH_INSURANCE, threshold_shares=(1.0, 0.0, 0.0, 0.0), signal_levels=(2, 4),
        emission=0.98, bill_eur=(150, 10, 120, 190),
    ),
    PartnerRule(
        PartnerType.TOESLAGEN, threshold_shares=(0.0, 0.0, 0.5, 0.5), signal_levels=(2,), emission=0.9,
        bill_eur=(1100, 500, 300, 2000), lump_sum=True,
    ),
    PartnerRule(
        PartnerType.TAX_OFFICE, threshold_shares=(0.0, 0.0, 0.5, 0.5), signal_levels=(2,), emission=0.9,
        bill_eur=(1700, 700, 500, 3000), lump_sum=True,
    ),
    PartnerRule(
        PartnerType.DUO, threshold_shares=(0.0, 0.0, 0.5, 0.5), signal_levels=(2,), emission=0.9,
        bill_eur=(150, 50, 30, 400),
    ),
    PartnerRule(
        PartnerType.CAK_CONTRIBUTION, threshold_shares=(0.0, 0.0, 0.5, 0.5), signal_levels=(2,), emission=0.9,
        bill_eur=(100, 40, 20, 300),
    ),
)
HEALTH_INSURANCE_SLOT = [rule.partner for rule in PARTNER_RULES].index(PartnerType.HEALTH_INSURANCE)
#: Partner codes in signal events: index into PARTNER_RULES, and this code for the CAK.
CAK_CODE = len(PARTNER_RULES)
PARTNER_TYPES_BY_CODE: tuple[str, ...] = (
    *(rule.partner.value for rule in PARTNER_RULES),
    PartnerType.CAK.value,
)


@dataclass(frozen=True)
class PartnerBook:
    """Per household and partner slot: whether the household has that partner, its threshold, bill and due
    day."""

    active: np.ndarray
    threshold: np.ndarray
    bill_eur: np.ndarray
    due_day: np.ndarray


def draw_partner_book(households: Households, rng: np.random.Generator) -> PartnerBook:
    """Which partners each household has, in which order its bills slip, and its bills."""
    n = households.size
    slots = len(PARTNER_RULES)
    # Columns: a threshold, a bill and a due day per slot, then one draw per optional partner.
    u = rng.random((n, 3 * slots + 4))
    active = np.ones((n, slots), dtype=bool)
    # Student debt is repaid over 15 to 35 years after study: DUO is a partner of households up to their
    # forties.
    repaying_student_debt = households.age_band <= 2
    pensioner = households.age_band == 5
    optional = {
        PartnerType.RENT: households.renter,
        PartnerType.MORTGAGE: ~households.renter,
        PartnerType.TOESLAGEN: households.low_income & (u[:, -4] < 0.5),
        PartnerType.TAX_OFFICE: u[:, -3] < 0.10,
        PartnerType.DUO: repaying_student_debt & (u[:, -2] < 0.3),
        PartnerType.CAK_CONTRIBUTION: pensioner & (u[:, -1] < 0.15),
    }
    threshold = np.empty((n, slots), dtype=np.int64)
    bill = np.empty((n, slots))
    due = np.ones((n, slots), dtype=np.int64)
    for slot, rule in enumerate(PARTNER_RULES):
        if rule.partner in optional:
            active[:, slot] = optional[rule.partner]
        shares = np.cumsum(rule.threshold_shares)
        threshold[:, slot] = 1 + np.searchsorted(shares / shares[-1], u[:, slot], side="right")
        mean, sd, low, high = rule.bill_eur
        if rule.lump_sum:
            bill[:, slot] = low + (high - low) * u[:, slots + slot]
        else:
            spread = (u[:, slots + slot] - 0.5) * np.sqrt(12) * sd  # uniform with the rule's mean and sd
            bill[:, slot] = np.clip(mean + spread, low, high)
        if not rule.due_on_first:
            due[:, slot] = 1 + (u[:, 2 * slots + slot] * 28).astype(np.int64)
    return PartnerBook(active=active, threshold=threshold, bill_eur=np.round(bill, 2), due_day=due)


@dataclass
class PartnerState:
    """Mutable per-month state of every household's arrears with every partner (only the simulation loop uses
    it)."""

    months_behind: np.ndarray
    highest_signalled: np.ndarray
    episode_start: np.ndarray

    @classmethod
    def start(cls, book: PartnerBook, levels: np.ndarray, spiral: np.ndarray) -> PartnerState:
        """The arrears implied by the initial chain state, as if signalled already (signals before the start
        are not in the data)."""
        behind = months_behind(book, levels, spiral)
        return cls(months_behind=behind, highest_signalled=behind.copy(), episode_start=1 - behind)


def months_behind(book: PartnerBook, levels: np.ndarray, spiral: np.ndarray) -> np.ndarray:
    """Months in arrears per household and partner for the given stress levels (a spiral leaves every bill
    unpaid)."""
    threshold = np.where(spiral[:, None], 1, book.threshold)
    return np.where(book.active, np.maximum(0, levels[:, None] - threshold + 1), 0)


@dataclass(frozen=True)
class SignalEvents:
    """Signals due in one or more months, before dates and amounts: one array element per signal."""

    household: np.ndarray
    partner_code: np.ndarray
    months_behind: np.ndarray
    month: np.ndarray
    episode_start: np.ndarray
    crisis: np.ndarray
    end_of_supply: np.ndarray

    @classmethod
    def concat(cls, parts: Sequence[SignalEvents]) -> SignalEvents:
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in cls.__dataclass_fields__))


def step_partners(
    state: PartnerState,
    book: PartnerBook,
    levels: np.ndarray,
    spiral: np.ndarray,
    *,
    month: int,
    rng: np.random.Generator,
) -> SignalEvents:
    """Advance every household's arrears by one month and return the signals the partners send for it."""
    behind = months_behind(book, levels, spiral)
    # An episode that starts more than one month behind (found late, or a spiral) began that many months ago.
    starting = (state.months_behind == 0) & (behind > 0)
    state.episode_start = np.where(starting, month + 1 - behind, state.episode_start)
    state.highest_signalled = np.where(behind == 0, 0, state.highest_signalled)
    previous = state.highest_signalled
    emitted = rng.random((len(levels), len(PARTNER_RULES) + 1))
    parts = []
    for slot, rule in enumerate(PARTNER_RULES):
        reached = behind[:, slot]
        before = previous[:, slot]
        # A month can pass over several levels (a spiral starts); one signal reports the deepest arrears.
        due = np.zeros(len(levels), dtype=bool)
        for level in rule.signal_levels:
            due |= (before < level) & (reached >= level)
        end_of_supply = np.zeros(len(levels), dtype=bool)
        if rule.end_of_supply_level is not None:
            end_of_supply = (before < rule.end_of_supply_level) & (reached >= rule.end_of_supply_level)
        parts.append(
            _events(
                due | end_of_supply,
                emitted[:, slot] < rule.emission,
                slot,
                reached,
                state.episode_start[:, slot],
                month=month,
                crisis=reached >= (rule.crisis_level or np.iinfo(np.int64).max),
                end_of_supply=end_of_supply,
            )
        )
        if slot == HEALTH_INSURANCE_SLOT:
            cak_due = (before < CAK_MONTHS) & (reached >= CAK_MONTHS)
            parts.append(
                _events(
                    cak_due,
                    emitted[:, -1] < rule.emission,
                    CAK_CODE,
                    reached,
                    state.episode_start[:, slot],
                    month=month,
                    crisis=np.zeros(len(levels), dtype=bool),
                    end_of_supply=np.zeros(len(levels), dtype=bool),
                )
            )
    state.highest_signalled = np.maximum(previous, behind)
    state.months_behind = behind
    return SignalEvents.concat(parts)


def _events(
    due: np.ndarray,
    sent: np.ndarray,
    code: int,
    reached: np.ndarray,
    episode_start: np.ndarray,
    *,
    month: int,
    crisis: np.ndarray,
    end_of_supply: np.ndarray,
) -> SignalEvents:
    rows = np.flatnonzero(due & sent)
    return SignalEvents(
        household=rows,
        partner_code=np.full(len(rows), code, dtype=np.int64),
        months_behind=reached[rows],
        month=np.full(len(rows), month, dtype=np.int64),
        episode_start=episode_start[rows],
        crisis=crisis[rows],
        end_of_supply=end_of_supply[rows],
    )


def keyed_uniforms(key: int, *parts: np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1) that depend only on ``key`` and the integer ``parts`` (e.g. household, month
    and partner), through the splitmix64 mixer.

    Per-event randomness is drawn this way rather than from a stream so that a bias knob which adds or removes
    events of one household never shifts the dates or flags of another's.
    """
    mixed = np.full(np.broadcast(*parts).shape, np.uint64(key), dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrap-around multiplication is the point of the mixer
        for part in parts:
            mixed = _splitmix64(mixed ^ np.asarray(part).astype(np.uint64))
    return (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def signal_calendar(
    events: SignalEvents, book: PartnerBook, *, start: np.datetime64, key: int
) -> tuple[np.ndarray, np.ndarray]:
    """Signal date and arrears start date (ontstaansdatum) of every event, as ``datetime64[D]``.

    The arrears start on the due date of the first unpaid bill, in the month before the episode's first month
    in arrears; a signal goes out a few days after that bill is a whole number of months (30 days each)
    overdue, which for bills due late in the month falls in the next month.
    """
    slot = np.where(events.partner_code == CAK_CODE, HEALTH_INSURANCE_SLOT, events.partner_code)
    due_day = book.due_day[events.household, slot]
    first_month = np.datetime64(start, "M")
    month_start = (first_month + events.month.astype("timedelta64[M]")).astype("datetime64[D]")
    before_episode = (events.episode_start - 1).astype("timedelta64[M]")
    episode_month = (first_month + before_episode).astype("datetime64[D]")
    arrears_start = episode_month + (due_day - 1).astype("timedelta64[D]")
    late_bill = ~np.array([PARTNER_RULES[s].due_on_first for s in range(len(PARTNER_RULES))])[slot]
    u = keyed_uniforms(key, events.household, events.month, events.partner_code)
    lag = np.where(late_bill, 3 + (u * 10).astype(np.int64), 2 + (u * 6).astype(np.int64))
    signal_date = month_start + (due_day - 1 + lag).astype("timedelta64[D]")
    return signal_date, arrears_start


def signal_amounts(events: SignalEvents, book: PartnerBook) -> np.ndarray:
    """Amount in arrears (bedrag) on each signal: months behind times the bill plus collection costs."""
    slot = np.where(events.partner_code == CAK_CODE, HEALTH_INSURANCE_SLOT, events.partner_code)
    bill = book.bill_eur[events.household, slot]
    months = events.months_behind.astype(np.float64)
    lump = np.array([rule.lump_sum for rule in PARTNER_RULES])[slot]
    costs = 1 + COLLECTION_COST_PER_MONTH * (months - 1)
    amount = np.where(lump, bill * (1 + 2 * COLLECTION_COST_PER_MONTH * months), bill * months * costs)
    return np.clip(np.round(amount, 2), 0.0, MAX_AMOUNT_EUR)


def warm_handover_flags(events: SignalEvents, *, key: int) -> np.ndarray:
    """Warm handover (warmeOverdracht): the partner already spoke with the household and hands it over."""
    shares = np.array([rule.warm_handover for rule in PARTNER_RULES] + [0.0])
    draw = keyed_uniforms(key, events.household, events.month, events.partner_code)
    return draw < shares[events.partner_code]
