"""The world of the synthetic municipality: households, their static traits and the latent financial-stress
chain.

Part of :mod:`vroegsignaal.training.synth`; see that module and ``docs/synthetic-municipality.md`` for the
story. Everything here is vectorised over households with numpy; nothing loops over households.

The latent state of a household in a month is one state of a small Markov chain:

- **settled**: no arrears with the signal partners for a long time;
- **cleared**: arrears were resolved recently (the household has its bills in view again for a while);
- a **setback** at level 1..``setback_max_level``: the bill that slipped first is that many months behind, and
  bills slip in the household's order of priority; setbacks are usually resolved;
- a **spiral** at level 1..``MAX_LEVEL``: income fell away, every bill goes unpaid and arrears deepen month
  after month.

Shocks (job loss, separation, illness) move a settled or cleared household into a setback or a spiral, at
rates set by its observable facts (its *class*). Entry into problematic debt is a monthly hazard on the state.
Because the chain is small, the probability of entering problematic debt within 12 months is computed exactly
by matrix powers: that is the true risk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vroegsignaal.schemas.enums import AgeBand, BenefitType, Gender, HouseholdType, Origin

#: Deepest stress level: months behind on the bill that slips first (deeper arrears stay at this level).
MAX_LEVEL = 8
SETTLED = 0
CLEARED = 1
#: Chain states: settled, cleared, setback at levels 1..MAX_LEVEL, spiral at levels 1..MAX_LEVEL.
N_STATES = 2 + 2 * MAX_LEVEL
#: Months after the reference date in which entry into problematic debt makes the label positive.
LABEL_HORIZON_MONTHS = 12
#: Neighbourhoods per municipality (CBS wijk codes WK<gemeente><nn>).
NEIGHBOURHOODS_PER_MUNICIPALITY = 6

AGE_BANDS: tuple[str, ...] = tuple(AgeBand.values())
HOUSEHOLD_TYPES: tuple[str, ...] = tuple(HouseholdType.values())
BENEFIT_TYPES: tuple[str, ...] = tuple(BenefitType.values())
ORIGINS: tuple[str, ...] = tuple(Origin.values())
GENDERS: tuple[str, ...] = tuple(Gender.values())

_AGE = {band: i for i, band in enumerate(AGE_BANDS)}
_TYPE = {kind: i for i, kind in enumerate(HOUSEHOLD_TYPES)}
_BENEFIT = {kind: i for i, kind in enumerate(BENEFIT_TYPES)}
_ORIGIN = {kind: i for i, kind in enumerate(ORIGINS)}

#: Age band of the main resident (CBS household statistics, rounded).
AGE_BAND_SHARES: tuple[float, ...] = (0.07, 0.17, 0.15, 0.17, 0.17, 0.27)
#: Household type per age band, in the order of HouseholdType (single, couple, couple with children, single
#: parent, other).
HOUSEHOLD_TYPE_BY_AGE: dict[str, tuple[float, ...]] = {
    "18-24": (0.62, 0.20, 0.05, 0.05, 0.08),
    "25-34": (0.42, 0.27, 0.20, 0.06, 0.05),
    "35-44": (0.25, 0.12, 0.45, 0.13, 0.05),
    "45-54": (0.25, 0.15, 0.40, 0.14, 0.06),
    "55-64": (0.33, 0.42, 0.14, 0.05, 0.06),
    "65+": (0.45, 0.49, 0.02, 0.02, 0.02),
}
#: Origin (CBS 2022 classification): Dutch, European, outside Europe.
ORIGIN_SHARES: tuple[float, ...] = (0.74, 0.11, 0.15)
#: Share of single parents whose main resident is a woman; other households are half and half.
SINGLE_PARENT_FEMALE = 0.82
#: Registered gender unknown or other (rare in the population register).
GENDER_UNKNOWN = 0.002


@dataclass(frozen=True)
class WorldParameters:
    """The knobs of the world. Defaults are tuned to the Dutch figures in DESIGN.md (see the module docs).

    Rates are per month. ``*_moves`` are the probabilities to go one level up, one level down, or to resolve
    the arrears entirely (to *cleared*); the rest of the probability mass stays at the same level.
    """

    shock_rates: tuple[float, float, float] = (0.0032, 0.0016, 0.0018)
    """Monthly probability of a job loss, a separation and an illness for a working-age single household
    without vulnerabilities; :data:`SHOCK_KIND_BY_TYPE` and the vulnerability effects scale them per class."""
    spiral_share: float = 0.026
    """Share of shocks that start a spiral instead of a setback."""
    shock_starts_two_behind: float = 0.185
    """Share of setbacks found only when the first bill is already two months behind (level 2)."""
    setback_moves: tuple[float, float, float] = (0.20, 0.15, 0.33)
    """A setback's monthly probabilities to deepen, to ease by a month and to be cleared altogether."""
    setback_max_level: int = 4
    """A setback never runs deeper than this; deeper arrears only come with a spiral."""
    spiral_moves: tuple[float, float, float] = (0.75, 0.03, 0.02)
    """The same for a spiral: it deepens almost every month and is rarely turned around."""
    cleared_to_settled: float = 1 / 36
    """Monthly probability that a cleared household counts as settled again."""
    debt_hazard: tuple[float, ...] = (0.0003, 0.0006, 0.002, 0.005, 0.15, 0.3, 0.45, 0.6)
    """Monthly probability of entering problematic debt in arrears of level 1..MAX_LEVEL (setback or
    spiral)."""
    cleared_debt_hazard: float = 0.0003
    """Monthly probability of entering problematic debt for a cleared household (debts with other
    creditors)."""
    settled_debt_hazard: float = 0.0016
    """The same for a settled household of average susceptibility; it scales with
    :data:`SUSCEPTIBILITY_BENEFIT` and :data:`SUSCEPTIBILITY_HOUSEHOLD_TYPE`. Most problematic debts start
    here, with creditors outside the signal partners (consumer credit, taxes, fines)."""
    debt_exit: float = 1 / 60
    """Monthly probability of leaving problematic debt (debt assistance and the years before it: about
    five)."""

    def __post_init__(self) -> None:
        if len(self.debt_hazard) != MAX_LEVEL:
            raise ValueError(f"debt_hazard needs {MAX_LEVEL} values (levels 1..{MAX_LEVEL})")
        if not 1 <= self.setback_max_level <= MAX_LEVEL:
            raise ValueError(f"setback_max_level must lie in 1..{MAX_LEVEL}")
        for name in ("setback_moves", "spiral_moves"):
            moves = getattr(self, name)
            if len(moves) != 3 or min(moves) < 0 or sum(moves) > 1:
                raise ValueError(f"{name} must be three probabilities (up, down, resolve) summing to <= 1")


@dataclass(frozen=True)
class Households:
    """Static traits of every household, as integer codes into the tuples above (one array per trait)."""

    municipality: np.ndarray
    neighbourhood: np.ndarray
    age_band: np.ndarray
    gender: np.ndarray
    origin: np.ndarray
    household_type: np.ndarray
    benefit_type: np.ndarray
    municipal_tax_arrears_eur: np.ndarray
    municipal_tax_remission: np.ndarray
    prior_debt_assistance: np.ndarray
    recent_move: np.ndarray
    renter: np.ndarray
    low_income: np.ndarray

    @property
    def size(self) -> int:
        return len(self.age_band)

    @property
    def vulnerability_class(self) -> np.ndarray:
        """Index of the household's class: the observable facts that set its rates."""
        return class_index(
            self.household_type,
            self.benefit_type,
            self.municipal_tax_remission,
            self.municipal_tax_arrears_eur > 0,
            self.prior_debt_assistance,
            self.recent_move,
        )


#: Probability of each benefit for working-age households, before the adjustments in :func:`_draw_benefit`.
SOCIAL_ASSISTANCE_BASE = 0.045
UNEMPLOYMENT_BENEFIT = 0.03
DISABILITY_BENEFIT_BELOW_45, DISABILITY_BENEFIT_FROM_45 = 0.04, 0.08
OTHER_BENEFIT = 0.02
STATE_PENSION_AT_65 = 0.97
#: Moved in the past year, by age band (young adults move most).
RECENT_MOVE_BY_AGE: tuple[float, ...] = (0.20, 0.15, 0.09, 0.07, 0.05, 0.04)
#: Bias knobs: shares among working-age households of origin outside Europe ('proxy'), and the recent moves
#: that come with 'under_recording' (so that a model can learn who is under-recorded).
PROXY_RECENT_MOVE = 0.9
PROXY_SOCIAL_ASSISTANCE = 0.5
PROXY_REMISSION = 0.8
UNDER_RECORDING_RECENT_MOVE = 0.75


def draw_households(
    n: int, rng: np.random.Generator, *, n_municipalities: int, proxy: bool = False, move_proxy: bool = False
) -> Households:
    """Draw the static traits of ``n`` households.

    Audit attributes influence the household facts only where that is natural (age → household type, benefit
    and moves; single parents are mostly women; deprived neighbourhoods have more low incomes). ``proxy``
    makes remission, social assistance and recent moves depend strongly on origin; ``move_proxy`` only the
    moves (the proxy that comes with label under-recording, so that a model can learn the bias).
    """
    u = rng.random((n, 17))  # one column per draw keeps each trait's randomness apart from the others'
    municipality = np.minimum((u[:, 0] * n_municipalities).astype(np.int64), n_municipalities - 1)
    age = _categorical(u[:, 1], AGE_BAND_SHARES)
    household_type = np.empty(n, dtype=np.int64)
    for band, shares in HOUSEHOLD_TYPE_BY_AGE.items():
        in_band = age == _AGE[band]
        household_type[in_band] = _categorical(u[in_band, 2], shares)
    single_parent = household_type == _TYPE["single_parent"]
    female = u[:, 3] < np.where(single_parent, SINGLE_PARENT_FEMALE, 0.5)
    gender = np.where(u[:, 4] < GENDER_UNKNOWN, 2, np.where(female, 0, 1))
    origin = _categorical(u[:, 5], ORIGIN_SHARES)
    outside_europe = origin == _ORIGIN["outside_europe"]
    # Neighbourhoods run from least to most deprived (deprivation -1..1); households outside Europe live a
    # little more often in the more deprived ones (a mild, natural segregation).
    tilt = np.where(outside_europe, 1.3, 1.0)
    last = NEIGHBOURHOODS_PER_MUNICIPALITY - 1
    neighbourhood = np.minimum((u[:, 6] ** (1 / tilt) * (last + 1)).astype(np.int64), last)
    deprivation = 2 * neighbourhood / last - 1
    young = age == _AGE["18-24"]

    benefit = _draw_benefit(u[:, 7], u[:, 8], age, household_type, deprivation, outside_europe)
    if proxy:
        to_assistance = outside_europe & (age != _AGE["65+"]) & (u[:, 9] < PROXY_SOCIAL_ASSISTANCE)
        benefit = np.where(to_assistance, _BENEFIT["social_assistance"], benefit)
    assistance = benefit == _BENEFIT["social_assistance"]
    low_income = assistance | (u[:, 10] < 0.10 + 0.05 * deprivation)
    remission = u[:, 11] < np.where(assistance, 0.7, np.where(low_income, 0.45, 0.03))
    if proxy:
        remission = np.where(outside_europe, u[:, 11] < PROXY_REMISSION, remission)
    has_tax_arrears = u[:, 12] < np.where(low_income, 0.12, 0.03)
    tax_arrears = np.where(has_tax_arrears, np.round(250 * np.exp(0.6 * _normal(u[:, 13])), 2), 0.0)
    # Young adults have had less time to build up a history with debt assistance.
    p_prior = np.where(assistance, 0.15, np.where(low_income, 0.08, 0.03)) * np.where(young, 0.3, 1.0)
    prior = u[:, 14] < p_prior
    p_move = np.asarray(RECENT_MOVE_BY_AGE)[age]
    if proxy or move_proxy:
        p_move = np.where(outside_europe, PROXY_RECENT_MOVE if proxy else UNDER_RECORDING_RECENT_MOVE, p_move)
    renter = u[:, 16] < np.where(low_income | single_parent | young, 0.85, 0.40)
    return Households(
        municipality=municipality,
        neighbourhood=neighbourhood,
        age_band=age,
        gender=gender,
        origin=origin,
        household_type=household_type,
        benefit_type=benefit,
        municipal_tax_arrears_eur=tax_arrears,
        municipal_tax_remission=remission,
        prior_debt_assistance=prior,
        recent_move=u[:, 15] < p_move,
        renter=renter,
        low_income=low_income,
    )


def _draw_benefit(
    u: np.ndarray,
    u_pension: np.ndarray,
    age: np.ndarray,
    household_type: np.ndarray,
    deprivation: np.ndarray,
    outside_europe: np.ndarray,
) -> np.ndarray:
    """Main benefit: state pension from 65; below that social assistance (more for single parents and singles,
    in deprived neighbourhoods, a little more outside Europe, less for young adults), unemployment,
    disability, other."""
    assistance = SOCIAL_ASSISTANCE_BASE * np.where(household_type == _TYPE["single_parent"], 2.5, 1.0)
    assistance = assistance * np.where(household_type == _TYPE["single"], 1.4, 1.0)
    assistance = assistance * np.where(age == _AGE["18-24"], 0.5, 1.0)
    assistance = assistance * (1 + 0.3 * deprivation) * np.where(outside_europe, 1.3, 1.0)
    disability = np.where(age >= _AGE["45-54"], DISABILITY_BENEFIT_FROM_45, DISABILITY_BENEFIT_BELOW_45)
    shares = {
        "social_assistance": assistance,
        "unemployment": np.full(len(u), UNEMPLOYMENT_BENEFIT),
        "disability": disability,
        "other": np.full(len(u), OTHER_BENEFIT),
    }
    benefit = np.full(len(u), _BENEFIT["none"])
    upper = np.zeros(len(u))
    for kind, share in shares.items():
        code = _BENEFIT[kind]
        lower, upper = upper, upper + share
        benefit = np.where((u >= lower) & (u < upper), code, benefit)
    pension = np.where(u_pension < STATE_PENSION_AT_65, _BENEFIT["state_pension"], _BENEFIT["none"])
    return np.where(age == _AGE["65+"], pension, benefit)


def _categorical(u: np.ndarray, shares: Sequence[float]) -> np.ndarray:
    cumulative = np.cumsum(shares)
    return np.minimum(np.searchsorted(cumulative / cumulative[-1], u, side="right"), len(shares) - 1)


def _normal(u: np.ndarray) -> np.ndarray:
    """Standard-normal quantiles of uniform draws (a logistic approximation is plenty for amounts)."""
    clipped = np.clip(u, 1e-9, 1 - 1e-9)
    return np.log(clipped / (1 - clipped)) / 1.702


# ---------------------------------------------------------------------------------------------- classes and
# chain

_CLASS_SHAPE = (len(HOUSEHOLD_TYPES), len(BENEFIT_TYPES), 2, 2, 2, 2)
N_CLASSES = int(np.prod(_CLASS_SHAPE))

#: Log-effects on every shock rate: how often a household's finances are hit (its vulnerability).
VULNERABILITY_HOUSEHOLD_TYPE = {
    "single": 0.0, "couple": -0.35, "couple_with_children": 0.35, "single_parent": 0.75, "other": 0.0,
}
VULNERABILITY_BENEFIT = {
    "none": 0.0, "social_assistance": 1.0, "unemployment": 0.6, "disability": 0.4, "state_pension": -1.0,
    "other": 0.3,
}
VULNERABILITY_REMISSION = 0.55
VULNERABILITY_TAX_ARREARS = 0.6
VULNERABILITY_PRIOR_DEBT_ASSISTANCE = 0.5
VULNERABILITY_RECENT_MOVE = 0.1
SHOCK_KINDS = ("job_loss", "separation", "illness")
#: Relative rate of job loss, separation and illness by household type (a couple can separate; a single adult
#: household loses its only income when a job goes).
SHOCK_KIND_BY_TYPE = {
    "single": (1.0, 0.5, 1.0),
    "couple": (0.7, 1.5, 1.0),
    "couple_with_children": (0.8, 1.5, 1.0),
    "single_parent": (1.0, 0.5, 1.0),
    "other": (0.9, 0.8, 1.0),
}
#: Relative rate of the shock kinds by benefit: no job to lose on a pension or disability benefit, more
#: illness.
SHOCK_KIND_BY_BENEFIT = {
    "none": (1.0, 1.0, 1.0),
    "social_assistance": (0.6, 1.0, 1.2),
    "unemployment": (1.5, 1.0, 1.0),
    "disability": (0.3, 1.0, 2.0),
    "state_pension": (0.0, 0.5, 1.5),
    "other": (0.8, 1.0, 1.2),
}
#: Log-effects on debts with creditors outside the signal partners, for settled households (their
#: susceptibility).
SUSCEPTIBILITY_HOUSEHOLD_TYPE = {
    "single": 0.0, "couple": -0.3, "couple_with_children": 0.2, "single_parent": 0.6, "other": 0.0,
}
SUSCEPTIBILITY_BENEFIT = {
    "none": 0.0, "social_assistance": 0.9, "unemployment": 0.5, "disability": 0.3, "state_pension": -2.0,
    "other": 0.2,
}
SUSCEPTIBILITY_REMISSION = 0.4
SUSCEPTIBILITY_TAX_ARREARS = 0.4


def class_index(*traits: np.ndarray) -> np.ndarray:
    """Class of each household from (household type, benefit, remission, tax arrears, prior assistance,
    move)."""
    return np.ravel_multi_index(tuple(np.asarray(t, dtype=np.int64) for t in traits), _CLASS_SHAPE)


def class_rates(parameters: WorldParameters) -> tuple[np.ndarray, np.ndarray]:
    """Per class: monthly shock probability (all kinds together) and the debt hazard of a settled
    household."""
    traits = np.unravel_index(np.arange(N_CLASSES), _CLASS_SHAPE)
    household_type, benefit, remission, tax, prior, move = traits
    vulnerability = (
        np.array([VULNERABILITY_HOUSEHOLD_TYPE[k] for k in HOUSEHOLD_TYPES])[household_type]
        + np.array([VULNERABILITY_BENEFIT[k] for k in BENEFIT_TYPES])[benefit]
        + VULNERABILITY_REMISSION * remission
        + VULNERABILITY_TAX_ARREARS * tax
        + VULNERABILITY_PRIOR_DEBT_ASSISTANCE * prior
        + VULNERABILITY_RECENT_MOVE * move
    )
    kinds = (
        np.array([SHOCK_KIND_BY_TYPE[k] for k in HOUSEHOLD_TYPES])[household_type]
        * np.array([SHOCK_KIND_BY_BENEFIT[k] for k in BENEFIT_TYPES])[benefit]
    )
    shock = np.clip((kinds @ np.asarray(parameters.shock_rates)) * np.exp(vulnerability), 0.0, 0.2)
    susceptibility = (
        np.array([SUSCEPTIBILITY_HOUSEHOLD_TYPE[k] for k in HOUSEHOLD_TYPES])[household_type]
        + np.array([SUSCEPTIBILITY_BENEFIT[k] for k in BENEFIT_TYPES])[benefit]
        + SUSCEPTIBILITY_REMISSION * remission
        + SUSCEPTIBILITY_TAX_ARREARS * tax
    )
    settled_hazard = np.clip(parameters.settled_debt_hazard * np.exp(susceptibility), 0.0, 0.05)
    return shock, settled_hazard


def setback(level: int) -> int:
    """Chain state of a setback at ``level`` (1..MAX_LEVEL)."""
    return 1 + level


def spiral(level: int) -> int:
    """Chain state of a spiral at ``level`` (1..MAX_LEVEL)."""
    return 1 + MAX_LEVEL + level


def state_level(states: np.ndarray) -> np.ndarray:
    """Stress level (months behind on the first bill) of chain states: 0 when settled or cleared."""
    states = np.asarray(states)
    return np.where(states > 1 + MAX_LEVEL, states - 1 - MAX_LEVEL, np.maximum(states - 1, 0))


def state_is_spiral(states: np.ndarray) -> np.ndarray:
    return np.asarray(states) > 1 + MAX_LEVEL


def transition_matrices(parameters: WorldParameters) -> tuple[np.ndarray, np.ndarray]:
    """Monthly transition matrix ``T[class, from, to]`` and debt-entry hazard ``H[class, state]``.

    A month first moves the chain, then a household outside problematic debt enters it with the hazard of its
    new state. Only the shock rate and the settled hazard depend on the class: once a household is in arrears,
    what happens next is the same for everyone in the same state.
    """
    shock, settled_hazard = class_rates(parameters)
    T = np.zeros((N_CLASSES, N_STATES, N_STATES))
    setbacks = shock * (1 - parameters.spiral_share)
    for calm in (SETTLED, CLEARED):
        T[:, calm, setback(1)] = setbacks * (1 - parameters.shock_starts_two_behind)
        T[:, calm, setback(2)] = setbacks * parameters.shock_starts_two_behind
        # A spiral is found with every bill already two months behind: the broadest, deepest arrears of all.
        T[:, calm, spiral(2)] = shock * parameters.spiral_share
    T[:, SETTLED, SETTLED] = 1 - shock
    T[:, CLEARED, SETTLED] = (1 - shock) * parameters.cleared_to_settled
    T[:, CLEARED, CLEARED] = (1 - shock) * (1 - parameters.cleared_to_settled)
    for state_of, (up, down, resolve), deepest in (
        (setback, parameters.setback_moves, parameters.setback_max_level),
        (spiral, parameters.spiral_moves, MAX_LEVEL),
    ):
        for level in range(deepest + 1, MAX_LEVEL + 1):  # unreachable; kept stochastic for the matrix algebra
            T[:, state_of(level), state_of(deepest)] = 1.0
        for level in range(1, deepest + 1):
            here = state_of(level)
            T[:, here, CLEARED] += resolve + (down if level == 1 else 0.0)
            if level > 1:
                T[:, here, state_of(level - 1)] += down
            T[:, here, state_of(min(level + 1, deepest))] += up
            T[:, here, here] += 1 - up - down - resolve
    hazard = np.empty((N_CLASSES, N_STATES))
    hazard[:, SETTLED] = settled_hazard
    hazard[:, CLEARED] = parameters.cleared_debt_hazard
    levels = state_level(np.arange(N_STATES))
    in_arrears = levels > 0
    hazard[:, in_arrears] = np.asarray(parameters.debt_hazard)[levels[in_arrears] - 1]
    return T, hazard


def risk_table(T: np.ndarray, hazard: np.ndarray, horizon: int = LABEL_HORIZON_MONTHS) -> np.ndarray:
    """``risk[class, state]``: exact probability of entering problematic debt within ``horizon`` months."""
    no_entry = T * (1 - hazard)[:, None, :]
    survival = np.ones(T.shape[:2])
    for _ in range(horizon):
        survival = np.einsum("cij,cj->ci", no_entry, survival)
    return 1 - survival


def stationary_distribution(T: np.ndarray, hazard: np.ndarray, debt_exit: float) -> np.ndarray:
    """``pi[class, debt, state]``: the long-run share of households per debt status and chain state.

    Households start the simulation from it, so the first month already looks like any other month.
    """
    outside = np.zeros(T.shape[:2])
    outside[:, SETTLED] = 1.0
    inside = np.zeros_like(outside)
    for _ in range(2_000):  # the chain mixes within a few hundred months; this is far past that
        moved_out, moved_in = np.einsum("ci,cij->cj", outside, T), np.einsum("ci,cij->cj", inside, T)
        entering, leaving = moved_out * hazard, moved_in * debt_exit
        outside, inside = moved_out - entering + leaving, moved_in + entering - leaving
    return np.stack([outside, inside], axis=1)
