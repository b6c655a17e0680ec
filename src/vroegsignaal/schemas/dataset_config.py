"""The dataset config: how to train on a tabular data set without writing code for it.

A config is a YAML file validated by :class:`DatasetConfig`. It names the data (one flat csv/parquet table, or the
signal, household, audit and outcome tables of the signal data contract), the id, time and label columns, the
features and their monotone directions, the sensitive (audit-only) attributes with bands for continuous ones, the
team's capacity, and the fairness gates, which are fixed here *before* the audit runs.

Sensitive attributes can never become features: :meth:`DatasetConfig.resolve_features` refuses any sensitive or
denylisted column (gender, nationality, origin, language, health, religion, free text, ...) with
:class:`~vroegsignaal.errors.SensitiveFeatureError`, and the fit step checks the matrix it receives again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vroegsignaal.errors import ConfigError, SensitiveFeatureError

MSG_SENSITIVE_AS_FEATURE = "is a sensitive (audit-only) attribute and can never be a model feature"
MSG_DENYLISTED_AS_FEATURE = "looks like a denylisted attribute ({what}) and can never be a model feature"
MSG_EXTRACTED_ON_FLAT = (
    "extracted_on dates the signal tables (their signal and reference dates and label windows); a flat table "
    "(data.path) has none of them"
)
MSG_SIGNAL_TABLES_WITHOUT_HEADER = (
    "csv.header false (with csv.columns) names the columns of one flat table (data.path); the csv files of "
    "the signal tables need their header row"
)

#: Name fragments of attributes that are never model features, with what they stand for. Matched on whole words of
#: the column name (split on ``_``, ``-``, spaces and camelCase), in Dutch and English; see also
#: :data:`DENYLIST_PARTS` and :data:`DENYLIST_EDGES` for the parts of compound words.
DENYLIST: dict[str, str] = {
    # The four audit attributes of DESIGN ("Sensitive attributes"): age band, gender, origin, neighbourhood.
    "age": "age",
    "ages": "age",
    "leeftijd": "age",
    "leeftijdscategorie": "age",
    "birth": "age/origin",
    "birthdate": "age",
    "birthday": "age",
    "dob": "age",
    "geboortedatum": "age",
    "geboortejaar": "age",
    "geboorteland": "ethnicity/origin",
    "geboorteplaats": "ethnicity/origin",
    "birthplace": "ethnicity/origin",
    "neighbourhood": "neighbourhood",
    "neighborhood": "neighbourhood",
    "wijk": "neighbourhood",
    "wijkcode": "neighbourhood",
    "buurt": "neighbourhood",
    "buurtcode": "neighbourhood",
    "district": "neighbourhood",
    "postcode": "neighbourhood",
    "postal": "neighbourhood",
    "zipcode": "neighbourhood",
    "zip": "neighbourhood",
    "gender": "gender",
    "genders": "gender",
    "sex": "gender",
    "geslacht": "gender",
    "nationality": "nationality",
    "nationalities": "nationality",
    "nationaliteit": "nationality",
    "citizenship": "nationality",
    "ethnicity": "ethnicity/origin",
    "ethnic": "ethnicity/origin",
    "etniciteit": "ethnicity/origin",
    "race": "ethnicity/origin",
    "origin": "ethnicity/origin",
    "herkomst": "ethnicity/origin",
    "migration": "ethnicity/origin",
    "migratieachtergrond": "ethnicity/origin",
    "foreign": "ethnicity/origin",
    "buitenlands": "ethnicity/origin",
    "language": "language ability",
    "languages": "language ability",
    "moedertaal": "language ability",
    "taalniveau": "language ability",
    "taal": "language ability",
    "taaleis": "language ability",
    "health": "health data",
    "gezondheid": "health data",
    "medical": "health data",
    "medisch": "health data",
    "diagnosis": "health data",
    "disability": "health data",
    "disabled": "health data",
    "handicap": "health data",
    "beperking": "health data",
    "religion": "religion",
    "religie": "religion",
    "geloof": "religion",
    "religious": "religion",
    "religions": "religion",
    "kerkgenootschap": "religion",
    "notes": "free text",
    "note": "free text",
    "comment": "free text",
    "comments": "free text",
    "opmerking": "free text",
    "opmerkingen": "free text",
    "freetext": "free text",
    "free_text": "free text",
    "judgement": "free text",
    "oordeel": "free text",
    "toelichting": "free text",
    "memo": "free text",
    "remark": "free text",
    "remarks": "free text",
    "notitie": "free text",
    "notities": "free text",
    "verslag": "free text",
    "yob": "age",
    "geboren": "age",
    "gebdat": "age",
    "afkomst": "ethnicity/origin",
    "allochtoon": "ethnicity/origin",
    "autochtoon": "ethnicity/origin",
    "migrant": "ethnicity/origin",
    "immigrant": "ethnicity/origin",
    "immigration": "ethnicity/origin",
    "verblijfsstatus": "nationality",
    "verblijfsvergunning": "nationality",
    "residency": "nationality",
    "inburgering": "language ability",
    "inburgeringsplicht": "language ability",
    "nt2": "language ability",
    "tongue": "language ability",
    "stadsdeel": "neighbourhood",
    "ziekte": "health data",
    "ggz": "health data",
    "psychisch": "health data",
    "psychiatric": "health data",
    "mental": "health data",
    "illness": "health data",
    "verslaving": "health data",
    "addiction": "health data",
    "geloofsovertuiging": "religion",
    "belief": "religion",
}
#: Word parts that mark a denylisted attribute anywhere inside a word: Dutch glues words together
#: ("geslachtscode", "herkomstland", "nationaliteitcode"), so whole words alone let those through. Only parts long
#: and distinctive enough not to occur inside ordinary words ("taal" does, in "totaal": it stays a whole word).
DENYLIST_PARTS: dict[str, str] = {
    "leeftijd": "age",
    "geboorte": "age/origin",
    "birth": "age/origin",
    "geslacht": "gender",
    "gender": "gender",
    "nationalit": "nationality",
    "herkomst": "ethnicity/origin",
    "etnic": "ethnicity/origin",
    "etnisch": "ethnicity/origin",
    "ethnic": "ethnicity/origin",
    "migratie": "ethnicity/origin",
    "moedertaal": "language ability",
    "taalniveau": "language ability",
    "gezondheid": "health data",
    "medisch": "health data",
    "handicap": "health data",
    "religi": "religion",
    "postcode": "neighbourhood",
    "opmerking": "free text",
    "taalvaardig": "language ability",
    "inburger": "language ability",
    "allochto": "ethnicity/origin",
    "toelichting": "free text",
    "psychi": "health data",
    "verslav": "health data",
    "geloofs": "religion",
}
#: Word parts that mark a denylisted attribute at the start or the end of a word ("buurtnaam", "woonwijk"), not in
#: its middle ("afwijking" is a deviation, not a district).
DENYLIST_EDGES: dict[str, str] = {"wijk": "neighbourhood", "buurt": "neighbourhood"}
#: Further whole words: short codes and compounds of English words that are too short to match as parts ("age" is
#: in "average" and "agent").
DENYLIST.update(
    {
        "sexe": "gender",
        "agegroup": "age",
        "ageband": "age",
        "agecategory": "age",
        "agebracket": "age",
        "pc4": "neighbourhood",
        "pc5": "neighbourhood",
        "pc6": "neighbourhood",
    }
)
#: Column-name words that are allowed although a denylisted word appears in them (the premium of a health insurer is
#: an arrears signal, not health data).
DENYLIST_EXCEPTIONS: frozenset[str] = frozenset({"health_insurance"})


def denylisted_reason(column: str) -> str | None:
    """What a column name stands for when it is denylisted, else ``None``.

    >>> denylisted_reason("gender")
    'gender'
    >>> denylisted_reason("personal_status_sex")
    'gender'
    >>> denylisted_reason("geslachtscode")
    'gender'
    >>> denylisted_reason("health_insurance_arrears_eur") is None
    True
    """
    name = column
    for allowed in DENYLIST_EXCEPTIONS:
        name = name.replace(allowed, " ")
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()
    words = [word for word in re.split(r"[\s_\-.]+", spaced) if word]
    joined = "_".join(words)
    for word in [*words, joined]:
        if word in DENYLIST:
            return DENYLIST[word]
    for word in words:
        for part, what in DENYLIST_PARTS.items():
            if part in word:
                return what
        for edge, what in DENYLIST_EDGES.items():
            if word.startswith(edge) or word.endswith(edge):
                return what
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CsvOptions(_Strict):
    """How to read the data's csv files (the flat table, or every signal table) when they are not
    comma-separated with a header row: a Dutch Excel export, for one, writes ``;`` between fields and ``,`` in
    numbers."""

    sep: str = Field(
        ",", description="Field separator of every csv table: ';' for a Dutch Excel export, ' ' for spaces."
    )
    header: bool = Field(
        True, description="Whether the first line holds the column names (a flat table only can do without)."
    )
    columns: list[str] | None = Field(None, description="Column names, required when there is no header row.")
    decimal: str = Field(
        ".", description="Decimal mark in the numbers of every csv table: ',' for a Dutch Excel export."
    )

    @model_validator(mode="after")
    def _columns_without_header(self) -> CsvOptions:
        if not self.header and not self.columns:
            raise ValueError("csv.columns is required when csv.header is false")
        return self


#: The tables of the signal data contract a dataset config can name, in reading order.
SIGNAL_TABLE_NAMES: tuple[str, ...] = ("signals", "households", "audit", "outcomes", "true_risk")


class DataSource(_Strict):
    """Where the data lives: one flat table (``path``) or the tables of the signal data contract."""

    path: Path | None = Field(None, description="A flat csv or parquet table with one row per id (and time).")
    csv: CsvOptions = Field(
        default_factory=CsvOptions,
        description="How every csv table of the source is read (the flat table or each signal table alike); "
        "parquet files need no options.",
    )
    signals: Path | None = Field(None, description="Signal table (one row per Vroegsignaal).")
    households: Path | None = Field(None, description="Household-facts table.")
    audit: Path | None = Field(None, description="Audit-attributes table (never features).")
    outcomes: Path | None = Field(None, description="Outcome table: household, reference date, label.")
    true_risk: Path | None = Field(None, description="Synthetic data only: the true risk per label row.")
    extracted_on: dt.date | None = Field(
        None,
        description="Signal tables: the day the data was extracted (extractiedatum). No signal date or "
        "reference date may lie after it, and an outcome row is used only when its label window "
        "(split.label_horizon_days after the reference date) had ended by then: a 'no' whose window is still "
        "open is not known yet. Without it, dates may not lie after today and the label windows must have "
        "ended by the newest date in the data. A synthetic data set gives the last day of its simulated "
        "calendar, which may lie after today.",
    )

    @model_validator(mode="after")
    def _one_layout(self) -> DataSource:
        tables = [self.signals, self.households, self.outcomes]
        if self.path is not None and any(t is not None for t in [*tables, self.audit]):
            raise ValueError("give either data.path (a flat table) or the signal tables, not both")
        if self.path is None and not all(t is not None for t in tables):
            raise ValueError("give data.path, or data.signals, data.households and data.outcomes (audit optional)")
        if self.path is None and not self.csv.header:
            raise ValueError(MSG_SIGNAL_TABLES_WITHOUT_HEADER)
        if self.path is not None and self.extracted_on is not None:
            raise ValueError(MSG_EXTRACTED_ON_FLAT)
        return self

    @property
    def is_flat(self) -> bool:
        return self.path is not None

    @property
    def tables(self) -> dict[str, Path]:
        """The tables the source names, by table name: ``data`` for a flat table, else the signal tables
        given."""
        if self.path is not None:
            return {"data": self.path}
        return {name: path for name in SIGNAL_TABLE_NAMES if (path := getattr(self, name)) is not None}

    def resolved(self, base: Path) -> DataSource:
        """The same source with relative paths resolved against ``base`` (the config file's folder)."""
        updates: dict[str, Any] = {}
        for name in ("path", *SIGNAL_TABLE_NAMES):
            value = getattr(self, name)
            if value is not None and not value.is_absolute():
                updates[name] = (base / value).resolve()
        return self.model_copy(update=updates)


class SensitiveAttribute(_Strict):
    """An audit-only attribute: used to audit fairness, never to train."""

    column: str = Field(..., description="Column in the data (or in the audit table).")
    name: str | None = Field(None, description="Name in reports; defaults to the column.")
    bins: list[float] | None = Field(
        None, description="Band edges for a continuous attribute, e.g. age: [18, 25, 35, 50, 65, 120]."
    )
    labels: list[str] | None = Field(None, description="Band names, one fewer than the edges.")
    map: dict[str, str] | None = Field(
        None, description="Recode values into groups, e.g. codebook codes to 'female'/'male'."
    )

    @property
    def report_name(self) -> str:
        return self.name or self.column

    @model_validator(mode="after")
    def _bins_and_labels(self) -> SensitiveAttribute:
        if self.bins is not None:
            if len(self.bins) < 2 or sorted(self.bins) != self.bins or len(set(self.bins)) != len(self.bins):
                raise ValueError(f"sensitive '{self.column}': bins must be at least two increasing edges")
            if self.labels is not None and len(self.labels) != len(self.bins) - 1:
                raise ValueError(
                    f"sensitive '{self.column}': {len(self.bins) - 1} band(s) need as many labels, "
                    f"got {len(self.labels)}"
                )
        elif self.labels is not None:
            raise ValueError(f"sensitive '{self.column}': labels need bins")
        if self.bins is not None and self.map is not None:
            raise ValueError(f"sensitive '{self.column}': give bins or map, not both")
        return self


#: Days a contacted household stays off the outreach list unless its arrears rise (DESIGN.md: about six months).
DEFAULT_COOLDOWN_DAYS = 182


class Capacity(_Strict):
    """How many households the team can contact per period (per reference date when there is a time column)."""

    fraction: float | None = Field(None, gt=0, le=1, description="Share of the scored households.")
    count: int | None = Field(None, gt=0, description="Number of households.")
    cooldown_days: int = Field(
        DEFAULT_COOLDOWN_DAYS,
        ge=0,
        le=730,
        description="Days a contacted household is held back from the list (the service's cooldown_days): the "
        "card replays the test periods as the list would hand them out.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Capacity:
        if (self.fraction is None) == (self.count is None):
            raise ValueError("capacity needs exactly one of fraction or count")
        return self

    def k(self, n: int) -> int:
        """How many of ``n`` scored households fit in the capacity (at least one when ``n`` > 0)."""
        if n <= 0:
            return 0
        wanted = self.count if self.count is not None else round(self.fraction * n)  # type: ignore[operator]
        return max(1, min(n, int(wanted)))


FairnessMetric = Literal["recall", "false_positive_rate", "selection_rate", "precision", "auc", "calibration_error"]


class FairnessGates(_Strict):
    """Thresholds that block promotion when crossed. Fixed in the config before the audit runs."""

    recall_ratio_min: float | None = Field(
        0.8, ge=0, le=1, description="Lowest allowed ratio of smallest to largest group recall (equal opportunity)."
    )
    false_positive_rate_ratio_min: float | None = Field(None, ge=0, le=1)
    selection_rate_ratio_min: float | None = Field(None, ge=0, le=1)
    precision_ratio_min: float | None = Field(None, ge=0, le=1)
    calibration_error_max: float | None = Field(
        0.1, ge=0, le=1, description="Highest allowed calibration error in any group."
    )
    proxy_auc_max: float | None = Field(
        0.75, ge=0.5, le=1, description="Highest allowed AUC of the features predicting an audit attribute."
    )


class FairnessConfig(_Strict):
    """How the fairness audit runs and which gates it applies."""

    metrics: list[FairnessMetric] = Field(
        default_factory=lambda: ["recall", "false_positive_rate", "selection_rate", "precision", "auc", "calibration_error"]
    )
    gates: FairnessGates = Field(default_factory=FairnessGates)
    intersections: list[list[str]] | None = Field(
        None, description="Pairs (or more) of sensitive attributes to audit together; default all pairs."
    )
    min_group_size: int = Field(
        100,
        ge=1,
        description="Groups with fewer distinct households (ids, not rows) are reported but too small to "
        "judge by a gate.",
    )
    min_group_positives: int = Field(
        20,
        ge=1,
        description="Groups with fewer households with a positive row are reported but too small to judge "
        "recall (likewise negatives for the false-positive rate, selected households for precision).",
    )
    gate_intersections: bool = Field(
        False, description="Also apply the gates to intersections (judgeable intersection groups only)."
    )
    bootstrap_samples: int = Field(
        200,
        ge=0,
        le=10_000,
        description="Bootstrap resamples behind the intervals (and the calibration error's bias correction, which "
        "needs at least 50); 0 gives values without intervals.",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1)


class MitigationConfig(_Strict):
    """Optional fairlearn mitigation; the card then reports its effect on every group."""

    method: Literal["none", "exponentiated_gradient"] = Field(
        "none",
        description="'exponentiated_gradient' trains under a fairness constraint (fairlearn reductions); the "
        "sensitive attribute is used during training only, never when scoring. Post-processing with group "
        "thresholds is not offered: it would need audit attributes at scoring time.",
    )
    constraint: Literal["true_positive_rate_parity", "equalized_odds", "demographic_parity"] = (
        "true_positive_rate_parity"
    )
    sensitive: str | None = Field(None, description="The sensitive attribute to mitigate for; default the first.")


class ModelParams(_Strict):
    """LightGBM settings. Monotone constraints come from the config's monotone lists."""

    num_leaves: int = Field(31, ge=2, le=1024)
    learning_rate: float = Field(0.05, gt=0, le=1)
    n_estimators: int = Field(1000, ge=1, le=20_000, description="Upper bound; early stopping picks the number.")
    early_stopping_rounds: int = Field(50, ge=1)
    min_child_samples: int = Field(50, ge=1)
    feature_fraction: float = Field(0.9, gt=0, le=1)
    bagging_fraction: float = Field(0.9, gt=0, le=1)
    bagging_freq: int = Field(1, ge=0)
    lambda_l2: float = Field(1.0, ge=0)
    num_threads: int = Field(0, ge=0, description="0 means all cores.")


class SplitConfig(_Strict):
    """Test/validation/calibration shares. With a time column the test set is the latest periods."""

    test_fraction: float = Field(0.25, gt=0, lt=1)
    validation_fraction: float = Field(0.15, gt=0, lt=1, description="Of the non-test rows, for early stopping.")
    calibration_fraction: float = Field(0.15, gt=0, lt=1, description="Of the non-test rows, for calibration.")
    calibration_method: Literal["sigmoid", "isotonic"] = Field(
        "sigmoid",
        description="'sigmoid' (Platt scaling) keeps the model's order of households; 'isotonic' is more flexible "
        "but ties households in steps.",
    )
    label_horizon_days: int = Field(
        365,
        ge=0,
        description="How far after its reference date a row's label looks (12 months for problematic_debt_12m). "
        "In a temporal split, training rows of a household that is also tested are left out when their label "
        "window reaches into the test periods: the same event would be a label on both sides.",
    )

    @model_validator(mode="after")
    def _room_to_train(self) -> SplitConfig:
        if self.validation_fraction + self.calibration_fraction >= 0.8:
            raise ValueError("validation_fraction + calibration_fraction must leave at least 20% to train on")
        return self


class RuleKey(_Strict):
    """One sort key of the rule-based baseline (the status quo): e.g. crisis first, then partners, then arrears."""

    column: str
    descending: bool = True


class FeatureText(_Strict):
    """Texts for a feature that is not in the feature catalogue."""

    nl: str
    en: str
    reason_nl: str | None = Field(None, description="Reason sentence; '{value}' is the household's value.")
    reason_en: str | None = None
    reason_allowed: bool = True


class DatasetConfig(_Strict):
    """Everything the pipeline needs to train, evaluate and audit on one data set."""

    name: str = Field(..., pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$", description="Short id, used in run names.")
    description: str = ""
    registered_model_name: str | None = Field(
        None, description="MLflow registered-model name; defaults to 'vroegsignaal-<name>'."
    )
    data: DataSource
    id: str | None = Field(
        None, description="Id column (a household pseudonym for signal data); default: the row number."
    )
    time: str | None = Field(None, description="Time column; present → temporal split, else stratified random.")
    contact: str | None = Field(
        None,
        pattern=r"^(?:[^@\s]+@[^@\s]+\.[A-Za-z]{2,}|https://\S+)$",
        description="Who answers questions about the model: the algorithm owner's e-mail address or an https "
        "page (the card's contact and the Algoritmeregister's contact_email). Without it both say it is to be "
        "filled in.",
    )
    label: str
    positive: str | int | float | bool = Field(True, description="Label value that means 'at risk'.")
    label_description: str = Field(
        "",
        description="How the label was made and which selection bias it carries (shown on the model card).",
    )
    features: list[str] | None = Field(None, description="Model features; default all other non-sensitive columns.")
    categorical: list[str] = Field(default_factory=list)
    monotone_increasing: list[str] = Field(default_factory=list)
    monotone_decreasing: list[str] = Field(default_factory=list)
    sensitive: list[SensitiveAttribute] = Field(default_factory=list)
    true_risk: str | None = Field(None, description="Synthetic data: column with the true risk (Bayes limit).")
    capacity: Capacity = Field(default_factory=lambda: Capacity(fraction=0.1))
    risk_bands: dict[str, float] | None = Field(
        None,
        description="Share of scored households per band from the top, e.g. {high: 0.1, medium: 0.3}; "
        "default: high = capacity, medium = the next two capacities.",
    )
    baseline_rule: list[RuleKey] = Field(default_factory=list, description="The rule-based status quo.")
    fairness: FairnessConfig = Field(default_factory=FairnessConfig)
    mitigation: MitigationConfig = Field(default_factory=MitigationConfig)
    model: ModelParams = Field(default_factory=ModelParams)
    split: SplitConfig = Field(default_factory=SplitConfig)
    feature_text: dict[str, FeatureText] = Field(default_factory=dict)
    seed: int = 42

    @field_validator("categorical", "monotone_increasing", "monotone_decreasing")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        duplicates = sorted({v for v in value if value.count(v) > 1})
        if duplicates:
            raise ValueError(f"listed more than once: {', '.join(duplicates)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DatasetConfig:
        both = set(self.monotone_increasing) & set(self.monotone_decreasing)
        if both:
            raise ValueError(f"both monotone increasing and decreasing: {', '.join(sorted(both))}")
        special = {c for c in (self.id, self.label, self.time, self.true_risk) if c}
        if self.features is not None:
            clash = sorted(special & set(self.features))
            if clash:
                raise ValueError(f"features may not include the id, time, label or true-risk column: {', '.join(clash)}")
        names = [s.report_name for s in self.sensitive]
        if len(set(names)) != len(names):
            raise ValueError("sensitive attributes need distinct names")
        if self.fairness.intersections:
            unknown = sorted({c for combo in self.fairness.intersections for c in combo} - set(names))
            if unknown:
                raise ValueError(f"fairness.intersections name unknown sensitive attributes: {', '.join(unknown)}")
        if self.mitigation.sensitive is not None and self.mitigation.sensitive not in names:
            raise ValueError(f"mitigation.sensitive '{self.mitigation.sensitive}' is not a sensitive attribute")
        if self.features is not None:
            # Refuse at load time as well as at resolve time: the earlier the better.
            check_features_allowed(self.features, self.sensitive_columns)
        for listed in (self.categorical, self.monotone_increasing, self.monotone_decreasing):
            check_features_allowed(listed, self.sensitive_columns)
        return self

    @property
    def model_name(self) -> str:
        return self.registered_model_name or f"vroegsignaal-{self.name}"

    @property
    def sensitive_columns(self) -> list[str]:
        return [s.column for s in self.sensitive]

    @property
    def intersections(self) -> list[list[str]]:
        """Sensitive-attribute combinations to audit together (default: every pair)."""
        if self.fairness.intersections is not None:
            return self.fairness.intersections
        names = [s.report_name for s in self.sensitive]
        return [[a, b] for i, a in enumerate(names) for b in names[i + 1 :]]

    def resolve_features(self, available: Iterable[str]) -> list[str]:
        """The model's feature columns, given the columns the data has.

        Raises :class:`ConfigError` for a listed feature that is missing and :class:`SensitiveFeatureError` for a
        sensitive or denylisted one. Without an explicit list, every column except the id, time, label, true risk
        and sensitive columns becomes a feature, and a denylisted name among them is refused too: declare it
        ``sensitive`` or leave it out of the data.
        """
        columns = list(available)
        excluded = {c for c in (self.id, self.label, self.time, self.true_risk) if c} | set(self.sensitive_columns)
        features = self.features if self.features is not None else [c for c in columns if c not in excluded]
        check_features_allowed(features, self.sensitive_columns)
        missing = [f for f in features if f not in columns]
        if missing:
            raise ConfigError(
                f"features: column(s) {', '.join(repr(m) for m in missing)} not found in the data "
                f"(available: {', '.join(columns)})"
            )
        if not features:
            raise ConfigError("features: no feature columns left after removing id, time, label and sensitive columns")
        for listed_name, listed in (
            ("categorical", self.categorical),
            ("monotone_increasing", self.monotone_increasing),
            ("monotone_decreasing", self.monotone_decreasing),
        ):
            stray = [c for c in listed if c not in features]
            if stray:
                raise ConfigError(f"{listed_name}: {', '.join(repr(s) for s in stray)} is not a model feature")
        return features


def check_features_allowed(features: Sequence[str], sensitive_columns: Iterable[str]) -> None:
    """Refuse sensitive and denylisted columns as features, naming every offender and the rule it breaks."""
    sensitive = set(sensitive_columns)
    problems = []
    for feature in features:
        if feature in sensitive:
            problems.append(f"'{feature}' {MSG_SENSITIVE_AS_FEATURE}")
            continue
        what = denylisted_reason(feature)
        if what:
            problems.append(f"'{feature}' {MSG_DENYLISTED_AS_FEATURE.format(what=what)}")
    if problems:
        raise SensitiveFeatureError("features: " + "; ".join(problems))


def load_dataset_config(path: str | Path) -> DatasetConfig:
    """Read and validate a dataset config; relative data paths are resolved against the config's folder."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config: file '{path}' does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"config '{path}': not valid YAML ({error})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config '{path}': expected a mapping at the top level, got {type(raw).__name__}")
    config = parse_dataset_config(raw, source=str(path))
    return config.model_copy(update={"data": config.data.resolved(path.parent)})


def parse_dataset_config(raw: dict[str, Any], *, source: str = "config") -> DatasetConfig:
    """Validate a config given as a mapping; every problem is listed with its field path."""
    try:
        return DatasetConfig.model_validate(raw)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            original = problem.get("ctx", {}).get("error")
            if isinstance(original, SensitiveFeatureError):
                # The most important refusal keeps its own type, so callers and tests can tell it apart.
                raise SensitiveFeatureError(f"{source}: {original}") from None
            where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
            message = problem["msg"].removeprefix("Value error, ")
            lines.append(f"  - {where}: {message} (got {problem.get('input')!r})")
        raise ConfigError(f"{source}: {len(lines)} problem(s):\n" + "\n".join(lines)) from None
