"""pandera schemas of every table that crosses a boundary: signals, household facts, audit attributes, outcomes,
true risk (synthetic data only) and the feature table.

Column names are read from these classes (``SignalSchema.amount_eur``) instead of string literals elsewhere. Each
field documents its meaning and the Dutch term of VNG's DDAS information model. Validate with ``lazy=True`` so a
report lists every failure; :func:`vroegsignaal.training.validate` turns pandera's failure cases into our
:class:`~vroegsignaal.errors.DataValidationError`.

Yes/no columns are pandas' nullable boolean, not ``bool``: coercing to ``bool`` turns a missing value into True or
False and any text into True, so nothing would be refused. The nullable type keeps a missing value missing (refused
as not nullable) and refuses every value but True/False and 1/0; :func:`parse_yes_no` first reads the texts a csv
file holds for those (``"true"``, ``"False"``, ``"1"``, ``"0.0"``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Optional

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from vroegsignaal.schemas.catalogue import (
    FEATURE_CATALOGUE,
    MAX_AMOUNT_EUR,
    MAX_COUNT,
    MAX_MONTHS,
    MAX_TREND_EUR_PER_MONTH,
)
from vroegsignaal.schemas.enums import AgeBand, BenefitType, Gender, HouseholdType, Origin, PartnerType

#: A household pseudonym: a keyed hash (HMAC-SHA256, hex) or another opaque token, never a BSN.
PSEUDONYM_PATTERN = r"^[A-Za-z0-9_-]{12,128}$"
#: CBS municipality code, e.g. GM0344 (Utrecht).
MUNICIPALITY_PATTERN = r"^GM\d{4}$"
#: The texts read as a yes/no value (after trimming and lower-casing): the spellings pandas itself reads from a csv
#: file as a boolean or as 1/0. Dutch "ja"/"nee" and "yes"/"no" are not in the data contract.
YES_NO_TEXTS: dict[str, bool] = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}


def parse_yes_no(values: pd.Series) -> pd.Series:
    """Texts of :data:`YES_NO_TEXTS` as booleans; every other value unchanged, so that coercion names its row.

    pandas reads a csv column of only "True"/"False" as booleans, but one stray "nee" leaves the whole column as text;
    reading the known texts here means only the stray row is refused.
    """
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return values
    text = values.astype("string").str.strip().str.lower()
    known = text.isin(list(YES_NO_TEXTS)).to_numpy(dtype=bool)
    parsed = values.astype(object)
    parsed[known] = text[known].map(YES_NO_TEXTS).astype(object)
    return parsed


#: A date as the data contract writes it: ISO 8601, ``YYYY-MM-DD``, optionally with a time and an offset
#: (``2024-03-01 00:00:00``, as spreadsheets export it, or ``2024-03-01T00:00:00+01:00``), or a month ``YYYY-MM``
#: (its first day). The calendar date as written is what counts: a time or an offset never moves it to another day.
ISO_DATE_PATTERN = re.compile(
    r"^(?P<day>\d{4}-\d{2}(?:-\d{2})?)(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
MSG_NOT_ISO_DATE = (
    "date written as YYYY-MM-DD (ISO 8601, or YYYY-MM for a month); a day-month-year date such as 31-12-2024 is "
    "refused, since 01-10-2024 could be read as either January or October"
)


def iso_dates(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Dates written as text, read strictly as ISO 8601, and a mask of the values written otherwise.

    pandas guesses the format of a text column from its first value, so "01-10-2024" (1 October, as a Dutch export
    writes it) silently becomes 10 January. Values already typed as dates (a Parquet file) are kept as they are; an
    ISO value that is no calendar date ("2024-02-30") stays text, so that the schema's coercion names its row. Empty
    values stay empty. Only the calendar date as written is read: a time or an offset ("+01:00" in winter,
    "+02:00" in summer, both in one file) neither fails the column nor moves a signal to the day before.
    """
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return values, np.zeros(len(values), dtype=bool)
    typed = values.map(lambda value: isinstance(value, (pd.Timestamp, dt.date)))
    text = values.astype("string").str.strip()
    day = text.str.extract(ISO_DATE_PATTERN)["day"]
    iso = day.notna().to_numpy(dtype=bool)
    empty = (values.isna() | text.eq("").fillna(True)).to_numpy(dtype=bool)
    bad = ~(iso | empty | typed.to_numpy(dtype=bool))
    parsed = values.astype(object).copy()
    days = day[iso].where(day[iso].str.len() == 10, day[iso] + "-01")
    converted = pd.to_datetime(days, format="%Y-%m-%d", errors="coerce")
    ok = converted.notna().to_numpy(dtype=bool)
    parsed.iloc[np.flatnonzero(iso)[ok]] = converted[ok].to_numpy(dtype=object)
    parsed.iloc[np.flatnonzero(bad | empty)] = pd.NaT
    return parsed, bad


class _HouseholdKeyed(pa.DataFrameModel):
    """Base of every table keyed by a household pseudonym."""

    household_id: Series[str] = pa.Field(
        str_matches=PSEUDONYM_PATTERN,
        description="Household pseudonym (huishouden-pseudoniem): keyed hash of the BSN made by the municipality.",
    )

    class Config:
        coerce = True
        strict = False


class SignalSchema(_HouseholdKeyed):
    """One arrears signal (*Vroegsignaal*) from a signal partner."""

    signal_id: Series[str] = pa.Field(unique=True, description="Identifier of the signal (signaal-id).")
    municipality_code: Series[str] = pa.Field(
        str_matches=MUNICIPALITY_PATTERN, description="CBS code of the municipality (gemeentecode), e.g. GM0344."
    )
    partner_type: Series[str] = pa.Field(
        isin=PartnerType.values(), description="Kind of signal partner (partnertype)."
    )
    amount_eur: Series[float] = pa.Field(
        ge=0, le=MAX_AMOUNT_EUR, description="Amount in arrears in euro (bedrag)."
    )
    arrears_start_date: Series[pd.Timestamp] = pa.Field(
        description="Date the arrears arose (ontstaansdatum)."
    )
    signal_date: Series[pd.Timestamp] = pa.Field(description="Date the signal was sent (signaaldatum).")
    known_date: Optional[Series[pd.Timestamp]] = pa.Field(
        nullable=True,
        description="Optional: the first reference date for which the signal was known. Where given, a signal counts "
        "for a reference date only from then on (the service's decisions export gives it: the reference date of the "
        "request that brought it, or of the signal a correction replaces).",
    )
    crisis: Series[pd.BooleanDtype] = pa.Field(description="Crisis flag (crisissignaal), e.g. threatened eviction.")
    warm_handover: Series[pd.BooleanDtype] = pa.Field(description="Warm-handover flag (warmeOverdracht).")
    end_of_supply: Series[pd.BooleanDtype] = pa.Field(
        description="End-of-supply signal (einde levering) from an energy supplier or water company."
    )

    @pa.parser("crisis", "warm_handover", "end_of_supply")
    @classmethod
    def _yes_no(cls, values: pd.Series) -> pd.Series:
        return parse_yes_no(values)

    @pa.dataframe_check(name="signal_date_not_before_arrears_start_date")
    @classmethod
    def _signal_after_start(cls, df: pd.DataFrame) -> Series[bool]:
        # A missing (or refused) date is reported by its own column's checks, not again here.
        missing = df["signal_date"].isna() | df["arrears_start_date"].isna()
        return (df["signal_date"] >= df["arrears_start_date"]) | missing

    @pa.dataframe_check(name="end_of_supply_only_from_energy_or_water")
    @classmethod
    def _end_of_supply_partner(cls, df: pd.DataFrame) -> Series[bool]:
        # eq(True), not the column itself: a missing or uncoercible flag is refused by the column's own checks and must
        # not break (or repeat in) this one
        ended = df["end_of_supply"].eq(True).fillna(False).astype(bool)
        return ~ended | df["partner_type"].isin([PartnerType.ENERGY, PartnerType.WATER])


class HouseholdSchema(_HouseholdKeyed):
    """Household facts the municipality holds (*huishoudgegevens*); model features."""

    household_id: Series[str] = pa.Field(
        str_matches=PSEUDONYM_PATTERN,
        unique=True,
        description="Household pseudonym (huishouden-pseudoniem): keyed hash of the BSN made by the municipality.",
    )
    municipality_code: Series[str] = pa.Field(
        str_matches=MUNICIPALITY_PATTERN, description="CBS code of the municipality (gemeentecode)."
    )
    household_type: Series[str] = pa.Field(
        isin=HouseholdType.values(), description="Household composition (huishoudtype)."
    )
    benefit_type: Series[str] = pa.Field(isin=BenefitType.values(), description="Main benefit (uitkering).")
    municipal_tax_arrears_eur: Series[float] = pa.Field(
        ge=0, le=MAX_AMOUNT_EUR, description="Unpaid municipal taxes in euro (achterstand gemeentelijke belastingen)."
    )
    municipal_tax_remission: Series[pd.BooleanDtype] = pa.Field(
        description="Remission of municipal taxes (kwijtschelding gemeentelijke belastingen)."
    )
    prior_debt_assistance: Series[pd.BooleanDtype] = pa.Field(
        description="Had municipal debt assistance before (eerder schuldhulpverlening)."
    )
    recent_move: Series[pd.BooleanDtype] = pa.Field(description="Moved in the last 12 months (recent verhuisd).")

    @pa.parser("municipal_tax_remission", "prior_debt_assistance", "recent_move")
    @classmethod
    def _yes_no(cls, values: pd.Series) -> pd.Series:
        return parse_yes_no(values)


class AuditSchema(_HouseholdKeyed):
    """Audit attributes (*auditkenmerken*): carried beside the data only to audit fairness, never model features."""

    household_id: Series[str] = pa.Field(
        str_matches=PSEUDONYM_PATTERN,
        unique=True,
        description="Household pseudonym (huishouden-pseudoniem).",
    )
    age_band: Series[str] = pa.Field(isin=AgeBand.values(), description="Age band (leeftijdsklasse).")
    gender: Series[str] = pa.Field(isin=Gender.values(), description="Gender (geslacht).")
    origin: Series[str] = pa.Field(isin=Origin.values(), description="Origin (herkomst, CBS 2022).")
    neighbourhood: Series[str] = pa.Field(
        str_matches=r"^[A-Za-z0-9 _-]{1,64}$", description="Neighbourhood code (wijk/buurt)."
    )


class OutcomeSchema(_HouseholdKeyed):
    """The label: did the household enter problematic debt within 12 months after the reference date?"""

    reference_date: Series[pd.Timestamp] = pa.Field(description="Date the features describe (peildatum).")
    problematic_debt_12m: Series[pd.BooleanDtype] = pa.Field(
        description="Entered problematic debt (problematische schulden) within 12 months after the reference date."
    )

    @pa.parser("problematic_debt_12m")
    @classmethod
    def _yes_no(cls, values: pd.Series) -> pd.Series:
        return parse_yes_no(values)

    class Config:
        unique = ["household_id", "reference_date"]


class TrueRiskSchema(_HouseholdKeyed):
    """Synthetic data only: the generator's true probability behind each label (for the Bayes-limit AUC)."""

    reference_date: Series[pd.Timestamp] = pa.Field(description="Date the risk applies to (peildatum).")
    true_risk: Series[float] = pa.Field(ge=0, le=1, description="True probability of the label (synthetic).")

    class Config:
        unique = ["household_id", "reference_date"]


def _count_field(name: str):  # noqa: ANN202 - pandera field factory
    return pa.Field(ge=0, le=MAX_COUNT, description=FEATURE_CATALOGUE[name].description)


def _amount_field(name: str):  # noqa: ANN202
    return pa.Field(ge=0, le=MAX_AMOUNT_EUR, description=FEATURE_CATALOGUE[name].description)


def _months_field(name: str):  # noqa: ANN202
    return pa.Field(ge=0, le=MAX_MONTHS, description=FEATURE_CATALOGUE[name].description)


def _flag_field(name: str):  # noqa: ANN202
    return pa.Field(isin=[0, 1], description=FEATURE_CATALOGUE[name].description)


class FeatureSchema(_HouseholdKeyed):
    """One row per household per reference date: the model's input, built from signals and household facts."""

    reference_date: Series[pd.Timestamp] = pa.Field(description="Date the features describe (peildatum).")
    signals_3m: Series[int] = _count_field("signals_3m")
    signals_12m: Series[int] = _count_field("signals_12m")
    rent_signals_12m: Series[int] = _count_field("rent_signals_12m")
    energy_signals_12m: Series[int] = _count_field("energy_signals_12m")
    water_signals_12m: Series[int] = _count_field("water_signals_12m")
    health_insurance_signals_12m: Series[int] = _count_field("health_insurance_signals_12m")
    other_signals_12m: Series[int] = _count_field("other_signals_12m")
    distinct_partners_12m: Series[int] = pa.Field(
        ge=0,
        le=FEATURE_CATALOGUE["distinct_partners_12m"].maximum,
        description=FEATURE_CATALOGUE["distinct_partners_12m"].description,
    )
    rent_arrears_eur: Series[float] = _amount_field("rent_arrears_eur")
    energy_arrears_eur: Series[float] = _amount_field("energy_arrears_eur")
    water_arrears_eur: Series[float] = _amount_field("water_arrears_eur")
    health_insurance_arrears_eur: Series[float] = _amount_field("health_insurance_arrears_eur")
    other_arrears_eur: Series[float] = _amount_field("other_arrears_eur")
    rent_arrears_months: Series[float] = _months_field("rent_arrears_months")
    energy_arrears_months: Series[float] = _months_field("energy_arrears_months")
    water_arrears_months: Series[float] = _months_field("water_arrears_months")
    health_insurance_arrears_months: Series[float] = _months_field("health_insurance_arrears_months")
    total_arrears_eur: Series[float] = _amount_field("total_arrears_eur")
    max_arrears_eur: Series[float] = _amount_field("max_arrears_eur")
    max_arrears_months: Series[float] = _months_field("max_arrears_months")
    months_since_first_signal: Series[float] = _months_field("months_since_first_signal")
    repeat_signals_6m: Series[int] = _count_field("repeat_signals_6m")
    crisis_signal_3m: Series[int] = _flag_field("crisis_signal_3m")
    end_of_supply_3m: Series[int] = _flag_field("end_of_supply_3m")
    arrears_trend_eur_per_month: Series[float] = pa.Field(
        ge=-MAX_TREND_EUR_PER_MONTH,
        le=MAX_TREND_EUR_PER_MONTH,
        description=FEATURE_CATALOGUE["arrears_trend_eur_per_month"].description,
    )
    household_type: Series[str] = pa.Field(
        isin=HouseholdType.values(), description=FEATURE_CATALOGUE["household_type"].description
    )
    benefit_type: Series[str] = pa.Field(
        isin=BenefitType.values(), description=FEATURE_CATALOGUE["benefit_type"].description
    )
    municipal_tax_arrears_eur: Series[float] = _amount_field("municipal_tax_arrears_eur")
    municipal_tax_remission: Series[int] = _flag_field("municipal_tax_remission")
    prior_debt_assistance: Series[int] = _flag_field("prior_debt_assistance")
    recent_move: Series[int] = _flag_field("recent_move")

    class Config:
        unique = ["household_id", "reference_date"]


#: The household facts the municipality holds (model features), in schema order; and those that are yes/no flags.
HOUSEHOLD_FACT_COLUMNS: tuple[str, ...] = (
    HouseholdSchema.household_type,
    HouseholdSchema.benefit_type,
    HouseholdSchema.municipal_tax_arrears_eur,
    HouseholdSchema.municipal_tax_remission,
    HouseholdSchema.prior_debt_assistance,
    HouseholdSchema.recent_move,
)
HOUSEHOLD_FLAG_COLUMNS: tuple[str, ...] = (
    HouseholdSchema.municipal_tax_remission,
    HouseholdSchema.prior_debt_assistance,
    HouseholdSchema.recent_move,
)

#: The schema per table name used in dataset configs and validation reports.
TABLE_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "signals": SignalSchema,
    "households": HouseholdSchema,
    "audit": AuditSchema,
    "outcomes": OutcomeSchema,
    "true_risk": TrueRiskSchema,
    "features": FeatureSchema,
}
