"""The HTTP API's pydantic models: requests, responses and their field descriptions (shown in the OpenAPI document).

Request models for signals and household facts mirror the pandera tables (:class:`~vroegsignaal.schemas.tables.
SignalSchema`, :class:`~vroegsignaal.schemas.tables.HouseholdSchema`) field for field, with the same enumerations and
ranges; ``tests/schemas/test_api.py`` proves they agree. Numbers and flags are strict (no ``"12"``), and requests refuse
unknown fields, so a misspelt or unexpected field (say a ``bsn``) is an error instead of being silently dropped.

Naming follows the service's model families: ``...Create``/``...Request`` come in, ``...Public``/``...Response`` go
out. Messages of the validators are module constants so tests can match them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from vroegsignaal.schemas.catalogue import MAX_AMOUNT_EUR
from vroegsignaal.schemas.enums import (
    BenefitType,
    ContactIntensity,
    ContactKind,
    EndResult,
    HouseholdType,
    ModelStatus,
    PartnerType,
    PartOfDay,
    ReviewFlag,
    RiskBand,
)
from vroegsignaal.schemas.identifiers import looks_like_identifier, passes_eleven_test
from vroegsignaal.schemas.tables import MUNICIPALITY_PATTERN, PSEUDONYM_PATTERN

MSG_SIGNAL_BEFORE_START = "signal_date must not be before arrears_start_date (signaaldatum >= ontstaansdatum)"
MSG_END_OF_SUPPLY_PARTNER = "end_of_supply may only be set on a signal from an energy or water partner"
MSG_REPLACES_ITSELF = "replaces_signal_id must name an earlier signal, not this one"
MSG_DUPLICATE_SIGNAL_ID = "signal_id must be unique within a request; repeated at {positions}"
MSG_DUPLICATE_HOUSEHOLD = "household_id must be unique within a batch; repeated at positions {positions}"
MAX_SIGNALS_PER_HOUSEHOLD = 200
MAX_CONTACT_ATTEMPTS = 20

Pseudonym = Annotated[
    str,
    StringConstraints(pattern=PSEUDONYM_PATTERN),
    Field(
        description=(
            "Household pseudonym (huishouden-pseudoniem): a keyed hash of the BSN made by the municipality, "
            "12–128 characters of A–Z, a–z, 0–9, '_' or '-'. Never the BSN itself."
        ),
        examples=["hh_3f9c2a7b41d0e8aa"],
    ),
]
MunicipalityCode = Annotated[
    str,
    StringConstraints(pattern=MUNICIPALITY_PATTERN),
    Field(description="CBS code of the municipality (gemeentecode), e.g. GM0344.", examples=["GM0344"]),
]
TeamName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$"),
    Field(description="Caseworker team (team schuldhulpverlening) that works this household's review item."),
]
#: Same rule as the audit table's neighbourhood column (``AuditSchema.neighbourhood``), e.g. a CBS wijkcode.
NEIGHBOURHOOD_PATTERN = r"^[A-Za-z0-9 _-]{1,64}$"
#: A full postcode (four digits, two letters) anywhere in the value: a few dozen addresses, far finer than a
#: neighbourhood.
_FULL_POSTCODE = re.compile(r"(?<!\d)[1-9]\d{3}\s*[A-Za-z]{2}(?![A-Za-z])", re.ASCII)
#: A street name with its house number ("Hoofdstraat 12", "Hoofdstraat12", "Hoofdstr. nr 12", "Kerkln 5").
_STREET_NUMBER = re.compile(
    r"[A-Za-z]+(straat|str|laan|ln|weg|wg|plein|pln|gracht|kade|kd|singel|dijk|hof|pad|dreef|steeg|park|markt)"
    r"\.?\s*(nr|no|nummer)?\.?\s*\d+",
    re.IGNORECASE,
)
MSG_NOT_A_NEIGHBOURHOOD = (
    "must be a neighbourhood (wijk) code or name, never an address, a full postcode or a number that could "
    "identify a person"
)


#: CBS codes of a wijk (WK + 6 digits) and a buurt (BU + 8 digits): their digits are no personal number.
_CBS_AREA_CODE = re.compile(r"^(WK\d{6}|BU\d{8})$", re.ASCII)


def _not_an_address(value: str) -> str:
    if _CBS_AREA_CODE.match(value):
        return value
    # The pattern lets '-' and '_' join the parts ("Kalverstraat-92", "1012_AB"): read them as spaces.
    spaced = re.sub(r"[-_]+", " ", value)
    if looks_like_identifier(spaced) or _FULL_POSTCODE.search(spaced) or _STREET_NUMBER.search(spaced):
        raise ValueError(MSG_NOT_A_NEIGHBOURHOOD)
    return value


NeighbourhoodCode = Annotated[
    str,
    StringConstraints(pattern=NEIGHBOURHOOD_PATTERN),
    AfterValidator(_not_an_address),
    Field(
        description="Neighbourhood (wijk) the household lives in, e.g. the CBS wijkcode WK034402. Teams organise "
        "their outreach by it; it is never a model feature and never an address.",
        examples=["WK034402"],
    ),
]
#: No date the service takes in lies before this: an older one is a typing error, and the day arithmetic on it (a
#: year of signals, the cooldown) would leave the calendar.
EARLIEST_DATE = dt.date(1900, 1, 1)
InputDate = Annotated[dt.date, Field(ge=EARLIEST_DATE)]
# Strict: a number must be a JSON number and a flag a JSON boolean (no "12" or "true"); dates and enumerations
# are read from their JSON strings.
AmountEur = Annotated[float, Strict(), Field(ge=0, le=MAX_AMOUNT_EUR)]
Flag = Annotated[bool, Strict()]


#: Characters that show nothing: zero-width spaces and joiners, bidi marks and controls, word joiners, the BOM.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
#: Control characters other than tab and line breaks (PostgreSQL refuses NUL in text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NINE_DIGITS = re.compile(r"(?<!\d)\d{9}(?!\d)")
MSG_CONTROL_CHARACTERS = "must not contain control characters"
MSG_TOO_FEW_VISIBLE = "must hold at least {count} visible characters"
MSG_HOLDS_BSN = (
    "must not hold a BSN (a 9-digit number passing the eleven-test): write no personal data here; write another "
    "number (a case number) with a prefix or separators"
)


def free_text(min_visible: int, *, blank_is_none: bool = False) -> AfterValidator:
    """The rule of a free-text field people write in (a reason, a comment): no control characters, at least
    ``min_visible`` characters that show (spaces, zero-width and bidi characters do not count), and no BSN. With
    ``blank_is_none`` a value that shows nothing counts as not given (an optional field a form sent blank)."""

    def check(value: str) -> str | None:
        if _CONTROL.search(value):
            raise ValueError(MSG_CONTROL_CHARACTERS)
        visible = len(_INVISIBLE.sub("", value).strip())
        if visible == 0 and blank_is_none:
            return None
        if visible < min_visible:
            raise ValueError(MSG_TOO_FEW_VISIBLE.format(count=min_visible))
        if any(passes_eleven_test(number) for number in _NINE_DIGITS.findall(value)):
            raise ValueError(MSG_HOLDS_BSN)
        return value

    return AfterValidator(check)


class _Request(BaseModel):
    """Base of every request body: unknown fields refused."""

    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    """Base of every response body."""

    model_config = ConfigDict(from_attributes=True)


# --------------------------------------------------------------------------------------------------------- scoring


class SignalCreate(_Request):
    """One arrears signal (*Vroegsignaal*) as a signal partner sent it; mirrors ``SignalSchema``."""

    signal_id: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Identifier of the signal (signaal-id), unique per municipality. A retry with the same id and "
        "content is accepted once; the same id with other content is refused.",
    )
    partner_type: PartnerType = Field(description="Kind of signal partner (partnertype).")
    amount_eur: AmountEur = Field(description="Amount in arrears in euro (bedrag).")
    arrears_start_date: InputDate = Field(description="Date the arrears arose (ontstaansdatum).")
    signal_date: InputDate = Field(description="Date the signal was sent (signaaldatum).")
    crisis: Flag = Field(default=False, description="Crisis flag (crisissignaal), e.g. threatened eviction.")
    warm_handover: Flag = Field(default=False, description="Warm-handover flag (warmeOverdracht).")
    end_of_supply: Flag = Field(
        default=False,
        description="End-of-supply signal (einde levering); only from an energy supplier or a water company.",
    )
    replaces_signal_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="A correction: the id of an earlier signal of this household that this one replaces (a wrong "
        "amount, date or flag). The replaced signal no longer counts; it stays in the household's history, marked.",
    )

    # Field validators that read the fields before them (pydantic validates in declaration order), so an error
    # names the field it is about, not the whole signal.
    @field_validator("signal_date")
    @classmethod
    def _not_before_start(cls, signal_date: dt.date, info: ValidationInfo) -> dt.date:
        start = info.data.get("arrears_start_date")
        if start is not None and signal_date < start:
            raise ValueError(MSG_SIGNAL_BEFORE_START)
        return signal_date

    @field_validator("end_of_supply")
    @classmethod
    def _supply_partner(cls, end_of_supply: bool, info: ValidationInfo) -> bool:
        partner = info.data.get("partner_type")
        if end_of_supply and partner is not None and partner not in (PartnerType.ENERGY, PartnerType.WATER):
            raise ValueError(MSG_END_OF_SUPPLY_PARTNER)
        return end_of_supply

    @field_validator("replaces_signal_id")
    @classmethod
    def _not_itself(cls, replaces: str | None, info: ValidationInfo) -> str | None:
        if replaces is not None and replaces == info.data.get("signal_id"):
            raise ValueError(MSG_REPLACES_ITSELF)
        return replaces


class HouseholdFactsCreate(_Request):
    """Household facts the municipality holds (*huishoudgegevens*); mirrors ``HouseholdSchema``."""

    household_type: HouseholdType = Field(description="Household composition (huishoudtype).")
    benefit_type: BenefitType = Field(description="Main benefit (uitkering).")
    municipal_tax_arrears_eur: AmountEur = Field(
        default=0.0, description="Unpaid municipal taxes in euro (achterstand gemeentelijke belastingen)."
    )
    municipal_tax_remission: Flag = Field(
        default=False, description="Remission of municipal taxes (kwijtschelding gemeentelijke belastingen)."
    )
    prior_debt_assistance: Flag = Field(
        default=False, description="Had municipal debt assistance before (eerder schuldhulpverlening)."
    )
    recent_move: Flag = Field(default=False, description="Moved in the last 12 months (recent verhuisd).")


class HouseholdScoreCreate(_Request):
    """One household to score: its new signals and its current facts."""

    household_id: Pseudonym
    team: TeamName | None = Field(
        default=None, description="Team that will work the review item; defaults to the caller's team."
    )
    neighbourhood: NeighbourhoodCode | None = Field(
        default=None, description="Neighbourhood (wijk) for the team's planning; omitted keeps the stored one."
    )
    facts: HouseholdFactsCreate
    signals: list[SignalCreate] = Field(
        min_length=1,
        max_length=MAX_SIGNALS_PER_HOUSEHOLD,
        description="New signals of this household (at least one). Earlier signals stored by the service count too.",
    )


class ScoreBatchRequest(_Request):
    """A batch of households of one municipality to score, explain and put on the review queue."""

    municipality_code: MunicipalityCode
    reference_date: InputDate | None = Field(
        default=None, description="Date the features describe (peildatum); defaults to today."
    )
    households: list[HouseholdScoreCreate] = Field(
        min_length=1, description="Households to score; the service's size limit applies (HTTP 413 above it)."
    )

    @model_validator(mode="after")
    def _check_unique_ids(self) -> ScoreBatchRequest:
        seen: dict[str, int] = {}
        repeated: list[str] = []
        for position, household in enumerate(self.households):
            if household.household_id in seen:
                repeated.append(f"{seen[household.household_id]} and {position}")
            seen.setdefault(household.household_id, position)
        if repeated:
            # Positions, not pseudonyms: error messages never repeat an identifier.
            raise ValueError(MSG_DUPLICATE_HOUSEHOLD.format(positions=", ".join(repeated)))
        first_at: dict[str, str] = {}
        repeated_signals: list[str] = []
        for h, household in enumerate(self.households):
            for i, signal in enumerate(household.signals):
                where = f"households.{h}.signals.{i}"
                if signal.signal_id in first_at:
                    repeated_signals.append(f"{first_at[signal.signal_id]} and {where}")
                first_at.setdefault(signal.signal_id, where)
        if repeated_signals:
            # Positions, not signal ids: error messages never repeat an identifier.
            raise ValueError(MSG_DUPLICATE_SIGNAL_ID.format(positions="; ".join(repeated_signals[:5])))
        return self


class Reason(_Response):
    """One reason behind a score, in words a caseworker can use with the resident."""

    feature: str = Field(description="Feature of the catalogue the reason is about.")
    value: float | str | None = Field(description="The household's value of that feature.")
    contribution: float = Field(description="Contribution to the score (SHAP, log-odds); positive raises the risk.")
    text_nl: str = Field(description="The reason in Dutch.")
    text_en: str = Field(description="The reason in English.")


class ReviewFlagPublic(_Response):
    """Why a person should look at this household."""

    flag: ReviewFlag
    label_nl: str
    label_en: str
    detail: str | None = Field(default=None, description="E.g. the features outside the training range.")


Approach = Literal["model", "standard"]
#: Why a case is handled the standard way: the resident objected, the control sample, the rule-based order, or the
#: model that scored it was rejected by the ethics reviewer after it was used (its advice no longer steers the case).
StandardReason = Literal["objection", "control_sample", "rule_order", "model_withdrawn"]


class HouseholdScorePublic(_Response):
    """What the service made of one household: its score and reasons, flags, and the review item it is on."""

    household_id: Pseudonym
    review_item_id: int = Field(description="Review item this household is on (every signal gets an offer).")
    case_status: Literal["open", "closed"] = Field(
        default="open",
        description="'closed': every signal of this household in the request had been handled already, in this "
        "closed review item (a resend); nothing new was opened and the rest shows that item as it was decided on.",
    )
    approach: Approach = Field(
        description="'model': ordered and contacted by the model's advice; 'standard': the standard approach "
        "(objection, control sample or rule-based order)."
    )
    standard_reason: StandardReason | None = Field(description="Why the standard approach applies, if it does.")
    score: float | None = Field(
        description="Calibrated probability of problematic debt within 12 months; null when not scored, and "
        "withheld (null, with band, reasons and the score's flags) for a household in the control sample, which is "
        "handled the standard way without its score."
    )
    risk_band: RiskBand | None
    suggested_intensity: ContactIntensity = Field(description="Suggested first contact (home visit, phone, letter).")
    reasons: list[Reason] = Field(description="Top reasons behind the score (empty when not scored).")
    review_flags: list[ReviewFlagPublic]
    model_version: str | None
    control_sample: bool = Field(description="In the random control sample: standard approach regardless of score.")
    deadline: dt.date = Field(description="First conversation due by this date (4 weeks, 3 working days if urgent).")
    held_back_until: dt.date | None = Field(
        description="Contacted within the cooldown and arrears did not rise: not listed before this date."
    )


Ordering = Literal["model", "rule"]


class ScoreBatchResponse(_Response):
    """The scored batch, in the order of the request."""

    model_version: str | None = Field(description="Model version that scored this batch (null in rule mode).")
    ordering: Ordering = Field(description="Current ordering mode: the model's or the rule-based fallback.")
    results: list[HouseholdScorePublic]


# -------------------------------------------------------------------------------------------------------- outreach


class OutreachItemPublic(_Response):
    """One line of a team's outreach list."""

    rank: int = Field(description="Position in the list (1 = first to contact).")
    review_item_id: int
    household_id: Pseudonym
    team: str
    neighbourhood: str | None = Field(description="Neighbourhood (wijk) of the household, when known.")
    partners: list[PartnerType] = Field(
        description="Partner types that sent the household a signal in the last 12 months."
    )
    approach: Approach
    standard_reason: StandardReason | None
    score: float | None = Field(description="Hidden (null) for the control sample and the standard approach.")
    risk_band: RiskBand | None
    suggested_intensity: ContactIntensity
    reasons: list[Reason]
    review_flags: list[ReviewFlagPublic]
    urgent: bool = Field(description="Crisis or end-of-supply signal: first conversation within 3 working days.")
    received_on: dt.date
    first_signal_date: dt.date = Field(description="Oldest signal date of the household (rule-based order).")
    deadline: dt.date
    overdue: bool
    updated_at: dt.datetime = Field(
        description="When the case last changed (a new or corrected signal, an objection, its advice withdrawn or "
        "the order switched); send it with the decision as `case_updated_at`."
    )


class OutreachListResponse(_Response):
    """A team's outreach list, ordered: crisis and overdue first, then by score (or by the rule)."""

    municipality_code: MunicipalityCode
    team: str
    ordering: Ordering
    today: dt.date
    items: list[OutreachItemPublic]
    standard_approach: list[OutreachItemPublic] = Field(
        description="Households that objected (GDPR art. 21): never scored or ranked, still offered help the "
        "standard way, in the rule-based order."
    )
    listed_count: int = Field(
        default=0,
        description="Households on the list in all: `items` holds the first of them up to the request's limit.",
    )
    held_back_count: int = Field(description="Open items held back by the cooldown (contacted recently).")
    overdue_count: int
    capacity_per_week: int = Field(
        description="Households the team can contact per week (setting); for a list of every team, the setting times "
        "the teams on it."
    )
    decided_this_week: int = Field(description="Decisions the list's team(s) recorded since Monday.")
    decided_this_week_by_team: dict[str, int] = Field(
        default_factory=dict,
        description="The same per team (an all-teams list holds several): each team's own capacity is "
        "`capacity_per_week` divided by the list's teams.",
    )


# ------------------------------------------------------------------------------------------------------- decisions


class ContactAttemptCreate(_Request):
    """A contact attempt (*contactpoging*, DDAS)."""

    kind: ContactKind
    reached: Flag = Field(description="Whether the resident was reached (bereikt).")
    attempted_on: InputDate = Field(description="Date of the attempt; not in the future.")
    part_of_day: PartOfDay


class DecisionCreate(_Request):
    """What the caseworker did and how the case ended. Departing from the advice requires a reason."""

    contact_attempts: list[ContactAttemptCreate] = Field(default_factory=list, max_length=MAX_CONTACT_ATTEMPTS)
    end_result: EndResult = Field(description="End result of the case (resultaat Vroegsignaalzaak, DDAS).")
    chosen_intensity: ContactIntensity = Field(description="The first contact the caseworker chose.")
    departure_reason: Annotated[
        str, StringConstraints(min_length=3, max_length=500), free_text(3, blank_is_none=True)
    ] | None = Field(
        default=None,
        description="Required when the chosen intensity or the order departs from the advice. Describe the "
        "professional reason; never write names, addresses or other personal data here.",
    )
    case_updated_at: AwareDatetime | None = Field(
        default=None,
        description="The review item's `updated_at` as the caseworker saw it (outreach list or household history). "
        "When given and the case changed since (a new signal or a correction came in, an objection, advice "
        "withdrawn or the order switched), the decision is refused with 409 so the caseworker looks at the case "
        "again. Recommended; without it the decision is made on the case as it is now.",
    )


class ContactAttemptPublic(_Response):
    kind: ContactKind
    reached: bool
    attempted_on: dt.date
    part_of_day: PartOfDay


class DecisionPublic(_Response):
    """A recorded decision."""

    id: int
    review_item_id: int
    household_id: Pseudonym
    team: str
    decided_at: dt.datetime
    decided_by: str = Field(description="Token subject of the caseworker.")
    end_result: EndResult
    suggested_intensity: ContactIntensity | None = Field(
        description="The advice the caseworker had; empty when it came from the model and the resident objected "
        "since (the objection erases the score and what was derived from it)."
    )
    chosen_intensity: ContactIntensity
    rank_at_decision: int | None = Field(
        description="Position of the item in its list when decided; empty when the model ordered the list and the "
        "resident objected since."
    )
    departed_intensity: bool | None = Field(
        description="Whether the chosen contact departed from the advice; empty when the advice came from the model "
        "and the resident objected since (it would tell the advice again)."
    )
    departed_order: bool | None = Field(
        description="Whether the case was taken out of the list's order; empty like `departed_intensity`."
    )
    departure_reason: str | None
    control_sample: bool
    approach: Approach
    model_version: str | None
    contact_attempts: list[ContactAttemptPublic]


# ------------------------------------------------------------------------------------------------------ households


class SignalPublic(_Response):
    signal_id: str
    partner_type: PartnerType
    amount_eur: float
    arrears_start_date: dt.date
    signal_date: dt.date
    crisis: bool
    warm_handover: bool
    end_of_supply: bool
    received_at: dt.datetime
    replaces_signal_id: str | None = Field(default=None, description="The signal this one corrected, if any.")
    replaced_by_signal_id: str | None = Field(
        default=None, description="The correction that replaced this signal: it no longer counts."
    )


class ScorePublic(_Response):
    id: int
    model_version: str
    reference_date: dt.date
    score: float
    risk_band: RiskBand
    suggested_intensity: ContactIntensity
    uncertain: bool
    out_of_distribution: list[str]
    reasons: list[Reason]
    scored_at: dt.datetime


class ReviewItemPublic(_Response):
    id: int
    team: str
    status: Literal["open", "closed"]
    approach: Approach
    standard_reason: StandardReason | None
    control_sample: bool
    urgent: bool
    suggested_intensity: ContactIntensity | None = Field(
        description="Suggested first contact; empty on a closed case whose advice came from the model when the "
        "resident objected since (an open case then gets the standard approach's)."
    )
    received_on: dt.date
    deadline: dt.date
    held_until: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime = Field(
        description="When the case last changed (a new or corrected signal, an objection, its advice withdrawn or "
        "the order switched); send it with the decision as `case_updated_at`."
    )
    closed_at: dt.datetime | None


class HouseholdHistoryResponse(_Response):
    """Everything the service holds about one household of the caller's municipality."""

    household_id: Pseudonym
    municipality_code: MunicipalityCode
    team: str
    neighbourhood: str | None
    facts: HouseholdFactsCreate
    objection_active: bool
    signals: list[SignalPublic]
    scores: list[ScorePublic] = Field(
        description="Scores with their reasons; empty while the open case is handled the standard way (control "
        "sample, rule-based order), so that no score steers it."
    )
    review_items: list[ReviewItemPublic]
    decisions: list[DecisionPublic]


# ------------------------------------------------------------------------------------------------------ objections


class ObjectionCreate(_Request):
    """A resident's objection (bezwaar, GDPR art. 21) to being profiled."""

    household_id: Pseudonym
    received_on: InputDate = Field(description="Date the municipality received the objection.")


class ObjectionPublic(_Response):
    household_id: Pseudonym
    received_on: dt.date
    registered_at: dt.datetime
    withdrawn_at: dt.datetime | None
    active: bool


# ---------------------------------------------------------------------------------------------------------- models


class StatusEventPublic(_Response):
    from_status: ModelStatus | None
    to_status: ModelStatus
    actor: str
    role: str
    comment: str | None
    created_at: dt.datetime


class ModelVersionPublic(_Response):
    version: str
    model_name: str
    source_uri: str
    status: ModelStatus
    created_at: dt.datetime
    events: list[StatusEventPublic]


class ModelInfoResponse(_Response):
    """The model the service is serving right now."""

    serving_version: str | None
    status: ModelStatus | None
    approved: bool
    demo_mode: bool
    ordering: Ordering = Field(
        description="The ordering of the caller's municipality's lists; for a role without a municipality, `model` "
        "(see rule_ordered_municipalities)."
    )
    rule_ordered_municipalities: list[str] = Field(
        description="For a role without a municipality: the municipalities whose lists follow the rule-based "
        "fallback now. Empty for a caller of one municipality."
    )
    feature_names: list[str]


class ApprovalCreate(_Request):
    """An ethics reviewer's verdict on a candidate version."""

    decision: Literal["approve", "reject"]
    comment: Annotated[str, free_text(10)] = Field(
        min_length=10, max_length=2000, description="Why; recorded with who and when."
    )


class PromotionCreate(_Request):
    comment: Annotated[str, StringConstraints(max_length=2000), free_text(1, blank_is_none=True)] | None = None


class OrderingSwitchCreate(_Request):
    """Switch between the model's order and the rule-based fallback (crisis first, oldest signal first)."""

    mode: Ordering
    reason: Annotated[str, free_text(5)] = Field(min_length=5, max_length=1000)


class OrderingPublic(_Response):
    """The ordering mode of one municipality's lists."""

    municipality_code: MunicipalityCode
    mode: Ordering
    changed_by: str | None
    changed_at: dt.datetime | None
    reason: str | None


class ReloadResponse(_Response):
    previous_version: str | None
    serving_version: str | None
    approved: bool


# ------------------------------------------------------------------------------------------------------- oversight


class TeamOversight(_Response):
    team: str
    decisions: int = Field(
        description="Decisions on the model's advice whose departure from it is known: what `departure_share` is out "
        "of. Decisions on the standard approach (the control sample, an objection, the rule-based order, withdrawn "
        "advice) had no model advice to depart from and are not counted; nor are those whose advice a later "
        "objection erased."
    )
    departures: int = Field(
        description="Of `decisions`, those that departed from the model's advice: another contact, or out of order."
    )
    departure_share: float | None = Field(
        description="`departures` out of `decisions`: the share of decisions on the model's advice that departed from "
        "it (empty without such decisions). Near zero is a warning sign of automation bias."
    )
    intensity_departures: int = Field(description="Of `decisions`, those with another contact than the advice.")
    order_departures: int = Field(description="Of `decisions`, those taken out of the list's order.")
    backlog: int = Field(description="Open listed review items.")
    overdue: int
    held_back: int
    standard_approach: int
    warning: str | None = Field(description="E.g. a departure share near zero: a sign of automation bias.")


class GroupOutcome(_Response):
    group: Literal["control_sample", "scored"]
    decisions: int
    reached_share: float | None
    help_accepted_share: float | None


class OversightResponse(_Response):
    municipality_code: MunicipalityCode
    since: dt.date
    teams: list[TeamOversight]
    control_vs_scored: list[GroupOutcome]


class AuditProblemPublic(_Response):
    seq: int | None
    kind: str
    message: str


class AuditVerificationResponse(_Response):
    ok: bool
    records_checked: int
    first_seq: int | None
    last_seq: int | None
    problems: list[AuditProblemPublic]


# ---------------------------------------------------------------------------------------------------------- system


class HealthResponse(_Response):
    status: Literal["ok"]


class ReadyResponse(_Response):
    ready: bool
    database: bool
    model_loaded: bool
    model_version: str | None
    model_status: str | None = Field(
        default=None,
        description="The served version's status in the database now: 'rejected' when an ethics reviewer rejected "
        "it (through any replica) and this replica has not been reloaded; then the replica is not ready.",
    )


class FieldErrorPublic(_Response):
    field: str = Field(description="Dotted path of the field, e.g. households.0.signals.1.amount_eur.")
    rule: str = Field(description="The rule that was broken (pydantic error type or our check name).")
    message: str


class ErrorResponse(_Response):
    """Every error: a clear message and the request id to quote to the operator."""

    detail: str
    request_id: str
    errors: list[FieldErrorPublic] = Field(default_factory=list)
