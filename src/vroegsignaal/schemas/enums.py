"""Enumerations of the data contract, aligned with VNG's DDAS "Model Vroegsignalering".

Values are stable English identifiers (they are stored in databases and files); every member carries its Dutch term
(``.nl``) and an English label (``.en``) for pages, cards and documentation.
"""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A string enum whose members know their Dutch and English labels."""

    nl: str
    en: str

    def __new__(cls, value: str, nl: str, en: str) -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.nl = nl
        member.en = en
        return member

    def label(self, lang: str = "nl") -> str:
        return self.nl if lang == "nl" else self.en

    @classmethod
    def values(cls) -> list[str]:
        return [member.value for member in cls]


class PartnerType(LabelledEnum):
    """Kind of signal partner (*partnertype*) that sent the signal."""

    RENT = "rent", "woningcorporatie/verhuurder (huur)", "landlord (rent)"
    ENERGY = "energy", "energieleverancier", "energy supplier"
    WATER = "water", "drinkwaterbedrijf", "drinking-water company"
    HEALTH_INSURANCE = "health_insurance", "zorgverzekeraar", "health insurer"
    CAK = "cak", "CAK (wanbetalersregeling)", "CAK (premium defaulters scheme)"
    MORTGAGE = "mortgage", "hypotheekverstrekker", "mortgage lender"
    DUO = "duo", "DUO (studieschuld)", "DUO (student debt)"
    TAX_OFFICE = "tax_office", "Belastingdienst", "tax office"
    TOESLAGEN = "toeslagen", "Dienst Toeslagen", "benefits office (Toeslagen)"
    CAK_CONTRIBUTION = "cak_contribution", "CAK eigen bijdrage", "CAK personal contribution"
    OTHER = "other", "andere partner", "other partner"


#: The partner groups that get their own features; every other partner type counts as "other".
FEATURE_PARTNER_GROUPS: tuple[PartnerType, ...] = (
    PartnerType.RENT,
    PartnerType.ENERGY,
    PartnerType.WATER,
    PartnerType.HEALTH_INSURANCE,
)


_FEATURE_PARTNER_VALUES = frozenset(group.value for group in FEATURE_PARTNER_GROUPS)


def partner_group(partner: str) -> str:
    """Feature group of a partner type: its own value for the four main partners, else ``"other"``."""
    return partner if partner in _FEATURE_PARTNER_VALUES else "other"


class HouseholdType(LabelledEnum):
    """Composition of the household (*huishoudtype*)."""

    SINGLE = "single", "alleenstaand", "single person"
    COUPLE = "couple", "paar zonder kinderen", "couple without children"
    COUPLE_WITH_CHILDREN = "couple_with_children", "paar met kinderen", "couple with children"
    SINGLE_PARENT = "single_parent", "eenoudergezin", "single parent"
    OTHER = "other", "overig huishouden", "other household"


class BenefitType(LabelledEnum):
    """Main benefit the household receives (*uitkering*), as known to the municipality."""

    NONE = "none", "geen uitkering", "no benefit"
    SOCIAL_ASSISTANCE = "social_assistance", "bijstand (Participatiewet)", "social assistance"
    UNEMPLOYMENT = "unemployment", "WW-uitkering", "unemployment benefit"
    DISABILITY = "disability", "arbeidsongeschiktheidsuitkering", "disability benefit"
    STATE_PENSION = "state_pension", "AOW", "state pension"
    OTHER = "other", "andere uitkering", "other benefit"


class AgeBand(LabelledEnum):
    """Age band of the main resident (*leeftijdsklasse*). Audit-only: never a model feature."""

    AGE_18_24 = "18-24", "18–24 jaar", "18–24 years"
    AGE_25_34 = "25-34", "25–34 jaar", "25–34 years"
    AGE_35_44 = "35-44", "35–44 jaar", "35–44 years"
    AGE_45_54 = "45-54", "45–54 jaar", "45–54 years"
    AGE_55_64 = "55-64", "55–64 jaar", "55–64 years"
    AGE_65_PLUS = "65+", "65 jaar en ouder", "65 years and older"


class Gender(LabelledEnum):
    """Registered gender of the main resident (*geslacht*). Audit-only: never a model feature."""

    FEMALE = "female", "vrouw", "female"
    MALE = "male", "man", "male"
    UNKNOWN = "unknown", "onbekend/anders", "unknown/other"


class Origin(LabelledEnum):
    """Origin (*herkomst*, CBS classification since 2022). Audit-only: never a model feature."""

    DUTCH = "dutch", "Nederlandse herkomst", "Dutch origin"
    EUROPE = "europe", "Europese herkomst (excl. NL)", "European origin (excl. NL)"
    OUTSIDE_EUROPE = "outside_europe", "herkomst buiten Europa", "origin outside Europe"


class ContactKind(LabelledEnum):
    """Kind of contact attempt (*soort contactpoging*, DDAS)."""

    MAIL = "mail", "e-mail", "e-mail"
    LETTER = "letter", "brief", "letter"
    SMS_WHATSAPP = "sms_whatsapp", "sms/WhatsApp", "SMS/WhatsApp"
    PHONE = "phone", "telefoon", "phone"
    HOME_VISIT = "home_visit", "huisbezoek", "home visit"
    CARD = "card", "kaartje in de bus", "card through the door"
    ADMINISTRATIVE = "administrative", "administratief", "administrative"


class PartOfDay(LabelledEnum):
    """Part of the day a contact attempt was made (*dagdeel*)."""

    MORNING = "morning", "ochtend", "morning"
    AFTERNOON = "afternoon", "middag", "afternoon"
    EVENING = "evening", "avond", "evening"


class EndResult(LabelledEnum):
    """End result of a case (*resultaat Vroegsignaalzaak*, DDAS)."""

    REPEAT_SIGNAL = "repeat_signal", "herhaalsignaal", "repeat signal"
    UNJUSTIFIED_SIGNAL = "unjustified_signal", "onterecht signaal", "unjustified signal"
    NOT_A_RESIDENT = "not_a_resident", "geen inwoner van de gemeente", "not a resident"
    KNOWN_TO_DEBT_ASSISTANCE = (
        "known_to_debt_assistance",
        "al bekend bij schuldhulpverlening",
        "already known to debt assistance",
    )
    OTHER_HELP_ONGOING = "other_help_ongoing", "andere hulp loopt al", "other help ongoing"
    NO_CONTACT_POSSIBLE = "no_contact_possible", "geen contact mogelijk", "no contact possible"
    NO_RESPONSE_AFTER_CONTACT = (
        "no_response_after_contact",
        "geen reactie na contact",
        "no response after contact",
    )
    DECLINES_HELP = "declines_help", "wil geen hulp", "declines help"
    ALREADY_PAID = "already_paid", "al betaald of geregeld", "already paid or arranged"
    ADVICE_QUICK_FIX = "advice_quick_fix", "advies of snelle oplossing", "advice or quick fix"
    FINANCIAL_FOLLOW_UP = "financial_follow_up", "financiële vervolghulp", "financial follow-up help"
    REFERRAL_WITHOUT_CONTACT = (
        "referral_without_contact",
        "doorverwezen zonder contact",
        "referral without contact",
    )
    NON_FINANCIAL_FOLLOW_UP = (
        "non_financial_follow_up",
        "niet-financiële vervolghulp",
        "non-financial follow-up help",
    )


#: End results that mean the household accepted help (used for the control-sample comparison and export labels).
HELP_ACCEPTED_RESULTS: frozenset[EndResult] = frozenset(
    {EndResult.ADVICE_QUICK_FIX, EndResult.FINANCIAL_FOLLOW_UP, EndResult.NON_FINANCIAL_FOLLOW_UP}
)


class RiskBand(LabelledEnum):
    """Risk band derived from the calibrated score and the team's capacity."""

    HIGH = "high", "hoog", "high"
    MEDIUM = "medium", "midden", "medium"
    LOW = "low", "laag", "low"


class ContactIntensity(LabelledEnum):
    """Suggested first contact: the higher the risk, the more personal the approach."""

    HOME_VISIT = "home_visit", "huisbezoek", "home visit"
    PHONE = "phone", "telefonisch contact", "phone call"
    LETTER = "letter", "brief", "letter"


#: Suggested intensity per band (DESIGN: home visit or phone first for the highest risk, a letter for the lowest).
INTENSITY_BY_BAND: dict[RiskBand, ContactIntensity] = {
    RiskBand.HIGH: ContactIntensity.HOME_VISIT,
    RiskBand.MEDIUM: ContactIntensity.PHONE,
    RiskBand.LOW: ContactIntensity.LETTER,
}


class ModelStatus(LabelledEnum):
    """Life cycle of a model version."""

    CANDIDATE = "candidate", "kandidaat", "candidate"
    APPROVED = "approved", "goedgekeurd", "approved"
    CHAMPION = "champion", "in gebruik", "champion (in use)"
    REJECTED = "rejected", "afgekeurd", "rejected"
    RETIRED = "retired", "buiten gebruik", "retired"


class Role(LabelledEnum):
    """Roles a signed-in user can have."""

    CASEWORKER = "caseworker", "schuldhulpverlener", "caseworker"
    DATA_SCIENTIST = "data_scientist", "datawetenschapper", "data scientist"
    ETHICS_REVIEWER = "ethics_reviewer", "lid ethische commissie", "ethics reviewer"
    ADMIN = "admin", "beheerder", "administrator"


class ReviewFlag(LabelledEnum):
    """Why a scored household needs a person's attention."""

    HIGH_RISK = "high_risk", "hoog risico", "high risk"
    UNCERTAIN = "uncertain", "dicht bij bandgrens (onzeker)", "near a band boundary (uncertain)"
    OUT_OF_DISTRIBUTION = (
        "out_of_distribution",
        "gegevens buiten het trainingsbereik",
        "input outside the training range",
    )
    CRISIS = "crisis", "crisissignaal", "crisis signal"
    END_OF_SUPPLY = "end_of_supply", "einde levering", "end of supply"
    CONTROL_SAMPLE = "control_sample", "controlegroep (standaardaanpak)", "control sample (standard approach)"
