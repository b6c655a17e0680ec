"""The feature catalogue: every model feature built from signals and household facts, in one place.

For each feature it records the unit, the allowed range, the monotone direction the model must respect, whether a
caseworker may see it as a reason (only things a caseworker can talk about with the resident), and its text in Dutch
and English. Reason templates use ``{name}`` placeholders for any feature of the same household; values are
formatted by the unit of that feature (``€ 1.450`` in Dutch, ``€1,450`` in English). ``{name:one|many}`` adds
the noun in the right number: ``{signals_3m:signaal|signalen}`` reads "1 signaal" or "3 signalen", and a duration
under one month reads "minder dan een maand" / "less than a month".

The catalogue feeds the pandera feature schema, the reason codes, the model card and the pages. Data sets trained
through a dataset config with their own columns (e.g. the German credit data) are not in the catalogue; their reasons
fall back to the texts in the config or to a generic sentence.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from vroegsignaal.schemas.enums import BenefitType, HouseholdType, LabelledEnum

CATALOGUE_VERSION = "1.0.0"

Kind = Literal["count", "amount", "months", "flag", "category", "trend"]
Lang = Literal["nl", "en"]

MAX_COUNT = 500
MAX_AMOUNT_EUR = 1_000_000.0
MAX_MONTHS = 240.0
MAX_TREND_EUR_PER_MONTH = 100_000.0


@dataclass(frozen=True)
class FeatureSpec:
    """One model feature: what it means, its unit and range, and how it may be explained."""

    name: str
    kind: Kind
    unit: str
    minimum: float | None
    maximum: float | None
    monotone: Literal[-1, 0, 1]
    reason_allowed: bool
    label_nl: str
    label_en: str
    reason_nl: str = ""
    reason_en: str = ""
    categories: type[LabelledEnum] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.reason_allowed and not (self.reason_nl and self.reason_en):
            raise ValueError(f"feature '{self.name}' may appear in reasons but has no reason text in both languages")
        if self.kind == "category" and self.categories is None:
            raise ValueError(f"categorical feature '{self.name}' needs its categories")

    def label(self, lang: Lang = "nl") -> str:
        return self.label_nl if lang == "nl" else self.label_en

    def reason_template(self, lang: Lang = "nl") -> str:
        return self.reason_nl if lang == "nl" else self.reason_en

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "unit": self.unit,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "monotone": self.monotone,
            "reason_allowed": self.reason_allowed,
            "label_nl": self.label_nl,
            "label_en": self.label_en,
            "reason_nl": self.reason_nl,
            "reason_en": self.reason_en,
            "categories": self.categories.values() if self.categories else None,
            "description": self.description,
        }


def _count(name: str, nl: str, en: str, reason_nl: str, reason_en: str, description: str) -> FeatureSpec:
    return FeatureSpec(
        name, "count", "signals", 0, MAX_COUNT, 1, True, nl, en, reason_nl, reason_en, description=description
    )


def _amount(name: str, nl: str, en: str, reason_nl: str, reason_en: str, description: str) -> FeatureSpec:
    return FeatureSpec(
        name, "amount", "EUR", 0.0, MAX_AMOUNT_EUR, 1, True, nl, en, reason_nl, reason_en, description=description
    )


def _months(name: str, nl: str, en: str, reason_nl: str, reason_en: str, description: str) -> FeatureSpec:
    return FeatureSpec(
        name, "months", "months", 0.0, MAX_MONTHS, 1, True, nl, en, reason_nl, reason_en, description=description
    )


def _flag(
    name: str, nl: str, en: str, reason_nl: str, reason_en: str, description: str, *, monotone: Literal[-1, 0, 1]
) -> FeatureSpec:
    allowed = bool(reason_nl)
    return FeatureSpec(name, "flag", "0/1", 0, 1, monotone, allowed, nl, en, reason_nl, reason_en, description=description)


_PARTNER_TEXT = {
    # group: (Dutch noun, English noun)
    "rent": ("huurachterstand", "rent arrears"),
    "energy": ("achterstand energierekening", "energy bill arrears"),
    "water": ("achterstand waterrekening", "water bill arrears"),
    "health_insurance": ("achterstand zorgpremie", "health-insurance premium arrears"),
    "other": ("achterstand bij een andere schuldeiser", "arrears with another creditor"),
}

_FEATURES: list[FeatureSpec] = [
    _count(
        "signals_3m",
        "signalen in de laatste 3 maanden",
        "signals in the last 3 months",
        "{signals_3m:signaal|signalen} in de laatste 3 maanden",
        "{signals_3m:signal|signals} in the last 3 months",
        "Number of arrears signals with a signal date in the 91 days up to the reference date.",
    ),
    _count(
        "signals_12m",
        "signalen in de laatste 12 maanden",
        "signals in the last 12 months",
        "{signals_12m:signaal|signalen} in het afgelopen jaar",
        "{signals_12m:signal|signals} in the past year",
        "Number of arrears signals with a signal date in the 365 days up to the reference date.",
    ),
    *[
        _count(
            f"{group}_signals_12m",
            f"signalen {noun_nl} (12 maanden)",
            f"{noun_en} signals (12 months)",
            f"{{{group}_signals_12m:keer|keer}} een signaal over {noun_nl} in het afgelopen jaar",
            f"{{{group}_signals_12m:signal|signals}} about {noun_en} in the past year",
            f"Signals from the '{group}' partner group in the 365 days up to the reference date.",
        )
        for group, (noun_nl, noun_en) in _PARTNER_TEXT.items()
    ],
    FeatureSpec(
        "distinct_partners_12m",
        "count",
        "partners",
        0,
        len(_PARTNER_TEXT) + 6,
        1,
        True,
        "verschillende signaalpartners (12 maanden)",
        "distinct signal partners (12 months)",
        "Achterstanden bij {distinct_partners_12m:partij|verschillende partijen}",
        "Arrears with {distinct_partners_12m:creditor|different creditors}",
        description="Number of distinct partner types that sent a signal in the 365 days up to the reference date.",
    ),
    *[
        _amount(
            f"{group}_arrears_eur",
            f"bedrag {noun_nl}",
            f"{noun_en} amount",
            (
                f"{noun_nl.capitalize()} sinds {{{group}_arrears_months:maand|maanden}}, {{{group}_arrears_eur}}"
                if group != "other"
                else f"{noun_nl.capitalize()}: {{{group}_arrears_eur}}"
            ),
            (
                f"{noun_en.capitalize()} for {{{group}_arrears_months:month|months}}, {{{group}_arrears_eur}}"
                if group != "other"
                else f"{noun_en.capitalize()}: {{{group}_arrears_eur}}"
            ),
            f"Amount (bedrag) on the latest signal of the '{group}' group in the 365 days up to the reference date.",
        )
        for group, (noun_nl, noun_en) in _PARTNER_TEXT.items()
    ],
    *[
        _months(
            f"{group}_arrears_months",
            f"duur {noun_nl} in maanden",
            f"{noun_en} duration in months",
            f"{noun_nl.capitalize()} loopt al {{{group}_arrears_months:maand|maanden}}",
            f"{noun_en.capitalize()} for {{{group}_arrears_months:month|months}}",
            f"Months from the arrears start date (ontstaansdatum) of the latest '{group}' signal to the reference date.",
        )
        for group, (noun_nl, noun_en) in _PARTNER_TEXT.items()
        if group != "other"
    ],
    _amount(
        "total_arrears_eur",
        "totale achterstand",
        "total arrears",
        "Totale achterstand {total_arrears_eur}",
        "Total arrears {total_arrears_eur}",
        "Sum of the latest amount per partner group in the 365 days up to the reference date.",
    ),
    _amount(
        "max_arrears_eur",
        "hoogste achterstand",
        "largest arrears",
        "Hoogste achterstand {max_arrears_eur}",
        "Largest arrears {max_arrears_eur}",
        "Largest single signal amount in the 365 days up to the reference date.",
    ),
    _months(
        "max_arrears_months",
        "langste achterstand in maanden",
        "longest arrears in months",
        "Oudste achterstand loopt al {max_arrears_months:maand|maanden}",
        "Oldest arrears running for {max_arrears_months:month|months}",
        "Months from the earliest arrears start date among signals of the last 365 days to the reference date.",
    ),
    FeatureSpec(
        "months_since_first_signal",
        "months",
        "months",
        0.0,
        MAX_MONTHS,
        0,
        True,
        "maanden sinds het eerste signaal",
        "months since the first signal",
        "Eerste signaal {months_since_first_signal:maand|maanden} geleden",
        "First signal {months_since_first_signal:month|months} ago",
        description="Months from the household's first known signal to the reference date (0 without signals).",
    ),
    _count(
        "repeat_signals_6m",
        "herhaalsignalen (6 maanden)",
        "repeat signals (6 months)",
        "{repeat_signals_6m:herhaalsignaal|herhaalsignalen} in het afgelopen halfjaar",
        "{repeat_signals_6m:repeat signal|repeat signals} in the past six months",
        "Signals in the last 182 days from a partner type that had already signalled in the 182 days before them.",
    ),
    _flag(
        "crisis_signal_3m",
        "crisissignaal (3 maanden)",
        "crisis signal (3 months)",
        "Crisissignaal ontvangen (bijvoorbeeld dreigende uithuiszetting)",
        "Crisis signal received (for example a threatened eviction)",
        "1 when a signal of the last 91 days carried the crisis flag (crisissignaal).",
        monotone=1,
    ),
    _flag(
        "end_of_supply_3m",
        "einde levering (3 maanden)",
        "end of supply (3 months)",
        "Melding einde levering energie of water",
        "Notice of end of energy or water supply",
        "1 when a signal of the last 91 days announced the end of supply (einde levering).",
        monotone=1,
    ),
    FeatureSpec(
        "arrears_trend_eur_per_month",
        "trend",
        "EUR/month",
        -MAX_TREND_EUR_PER_MONTH,
        MAX_TREND_EUR_PER_MONTH,
        0,
        True,
        "groei van de achterstand per maand",
        "growth of arrears per month",
        "Achterstand groeit met {arrears_trend_eur_per_month} per maand",
        "Arrears growing by {arrears_trend_eur_per_month} a month",
        description="Least-squares slope of signal amounts over the last 182 days, in euro per month (0 with <2 signals).",
    ),
    FeatureSpec(
        "household_type",
        "category",
        "",
        None,
        None,
        0,
        False,
        "huishoudtype",
        "household type",
        categories=HouseholdType,
        description="Household composition (huishoudtype) as registered by the municipality.",
    ),
    FeatureSpec(
        "benefit_type",
        "category",
        "",
        None,
        None,
        0,
        False,
        "soort uitkering",
        "benefit type",
        categories=BenefitType,
        description="Main benefit the household receives (uitkering), as known to the municipality.",
    ),
    _amount(
        "municipal_tax_arrears_eur",
        "achterstand gemeentelijke belastingen",
        "municipal tax arrears",
        "Achterstand gemeentelijke belastingen {municipal_tax_arrears_eur}",
        "Municipal tax arrears {municipal_tax_arrears_eur}",
        "Unpaid municipal taxes (gemeentelijke belastingen) on the reference date.",
    ),
    _flag(
        "municipal_tax_remission",
        "kwijtschelding gemeentelijke belastingen",
        "municipal tax remission",
        "",
        "",
        "1 when the household has remission (kwijtschelding) of municipal taxes.",
        monotone=0,
    ),
    _flag(
        "prior_debt_assistance",
        "eerder schuldhulpverlening",
        "earlier debt assistance",
        "Eerder in contact geweest met schuldhulpverlening",
        "Earlier contact with debt assistance",
        "1 when the household had municipal debt assistance before.",
        monotone=0,
    ),
    _flag(
        "recent_move",
        "recent verhuisd",
        "recently moved",
        "Recent verhuisd",
        "Recently moved",
        "1 when the household moved in the 12 months before the reference date.",
        monotone=0,
    ),
]

FEATURE_CATALOGUE: Mapping[str, FeatureSpec] = {spec.name: spec for spec in _FEATURES}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURE_CATALOGUE)
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(s.name for s in _FEATURES if s.kind == "category")
MONOTONE_INCREASING: tuple[str, ...] = tuple(s.name for s in _FEATURES if s.monotone == 1)
MONOTONE_DECREASING: tuple[str, ...] = tuple(s.name for s in _FEATURES if s.monotone == -1)


def format_value(value: Any, kind: Kind | str, lang: Lang = "nl") -> str:
    """Format a feature value for a sentence a caseworker reads.

    >>> format_value(1450.0, "amount", "nl")
    '€ 1.450'
    >>> format_value(1450.0, "amount", "en")
    '€1,450'
    >>> format_value(3.4, "months")
    '3'
    """
    if value is None or (isinstance(value, float) and value != value):
        return "onbekend" if lang == "nl" else "unknown"
    if kind in ("amount", "trend"):
        amount = round(float(value))
        grouped = f"{abs(amount):,}"
        sign = "-" if amount < 0 else ""
        if lang == "nl":
            return f"{sign}€ {grouped.replace(',', '.')}"
        return f"{sign}€{grouped}"
    if kind in ("count", "months", "flag"):
        return str(int(round(float(value))))
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _format_field(raw: Any, kind: str, spec: str, lang: Lang) -> str:
    """One placeholder: the value by its kind, or with ``one|many`` the number with its noun."""
    if "|" not in spec:
        return format_value(raw, kind, lang)
    one, many = spec.split("|", 1)
    if raw is None or (isinstance(raw, float) and raw != raw):
        return f"{format_value(raw, kind, lang)} {many}"
    rounded = int(round(float(raw)))
    if rounded == 0 and kind == "months":
        return f"minder dan een {one}" if lang == "nl" else f"less than a {one}"
    return f"{rounded} {one if rounded == 1 else many}"


@lru_cache(maxsize=1024)
def _parsed(template: str) -> tuple[tuple[str, str | None, str], ...]:
    """A template split once into (literal text, placeholder name, format spec) parts."""
    return tuple((text, name, spec or "") for text, name, spec, _ in string.Formatter().parse(template))


def render_reason(template: str, values: Mapping[str, Any], kinds: Mapping[str, str], lang: Lang) -> str:
    """A reason sentence from its template and the household's raw feature values.

    Placeholders are ``{name}`` (the value formatted by its kind) or ``{name:one|many}`` (the number with a noun in
    the right number). Templates are parsed once and cached.

    >>> render_reason("{n:signaal|signalen} in 3 maanden", {"n": 1}, {"n": "count"}, "nl")
    '1 signaal in 3 maanden'
    """
    parts = []
    for text, name, spec in _parsed(template):
        parts.append(text)
        if name is None:
            continue
        if name not in values:
            raise KeyError(f"reason template names '{name}', which is not a feature of this household")
        parts.append(_format_field(values[name], kinds.get(name, "number"), spec, lang))
    return "".join(parts)

