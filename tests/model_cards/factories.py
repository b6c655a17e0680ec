"""A realistic model card with fake but plausible numbers, for the model-card tests.

The numbers look like a LightGBM model trained on a synthetic municipality: AUC around 0.8, the rule around 0.66,
the scorecard in between; 10% capacity; an origin gate that fails on recall ratio, a tiny group that cannot be
judged, and (optionally) an exponentiated-gradient mitigation. Curves are drawn from closed formulas, so they are
deterministic and small.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import partial
from typing import Any

from vroegsignaal.model_cards import texts
from vroegsignaal.schemas.card import (
    ApprovalEvent,
    AttributeResult,
    AuditAttribute,
    CalibrationCurve,
    CapacityInfo,
    Curve,
    Curves,
    DataValidation,
    DataValidationFailure,
    Estimate,
    EvaluationData,
    Explanations,
    Factors,
    FairnessSection,
    FeatureEntry,
    GateResult,
    GlobalImportance,
    GroupResult,
    InUse,
    InUseGroup,
    InUseList,
    LocalizedText,
    Mitigation,
    ModelCard,
    ModelDetails,
    ModelMetrics,
    Performance,
    ProxyCheck,
    ProxyFeature,
    ScoreHistogram,
    TableSummary,
    TrainingData,
)
from vroegsignaal.schemas.catalogue import FEATURE_CATALOGUE, FEATURE_NAMES
from vroegsignaal.schemas.enums import ModelStatus, Role

CREATED_AT = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
PERIODS_TRAIN = [f"2023-{month:02d}" for month in range(1, 13)] + [f"2024-{month:02d}" for month in range(1, 7)]
PERIODS_TEST = [f"2024-{month:02d}" for month in range(7, 13)]


def _roc(auc_like: float, points: int = 41) -> Curve:
    # A binormal-style ROC curve: y = x ** a, whose AUC is 1 / (1 + a).
    exponent = 1 / auc_like - 1
    xs = [i / (points - 1) for i in range(points)]
    return Curve(x=xs, y=[x**exponent for x in xs])


def _pr(base_rate: float, strength: float, points: int = 41) -> Curve:
    recalls = [i / (points - 1) for i in range(1, points)]
    precisions = [base_rate + (1 - base_rate) * (1 - r) ** strength * 0.6 for r in recalls]
    return Curve(x=recalls, y=precisions)


def _estimate(value: float | None, width: float = 0.05) -> Estimate:
    if value is None:
        return Estimate(value=None, ci_low=None, ci_high=None)
    return Estimate(value=value, ci_low=max(value - width, 0.0), ci_high=min(value + width, 1.0))


#: Test rows per household in the factory's signal data (a household signalled in several test months).
ROWS_PER_HOUSEHOLD = 2.4


def _group(group: str, size: int, positives: int, recall: float | None, fpr: float, selection: float,
           *, judgeable: bool = True, rows_per_household: float | None = ROWS_PER_HOUSEHOLD) -> GroupResult:
    """One group of ``size`` rows; ``rows_per_household`` None leaves out the households (an older card)."""
    width = 0.04 if size > 1000 else 0.12
    households = None if rows_per_household is None else round(size / rows_per_household)
    return GroupResult(
        group=group,
        size=size,
        positives=positives,
        households=households,
        positive_households=None if rows_per_household is None else round(positives / rows_per_household),
        judgeable=judgeable,
        metrics={
            "recall": _estimate(recall, width),
            "false_positive_rate": _estimate(fpr, width / 2),
            "selection_rate": _estimate(selection, width / 2),
            "precision": _estimate(0.31 if positives else None, width),
            "auc": _estimate(0.79 if positives else None, width),
            "calibration_error": _estimate(0.02, 0.01),
            "mean_score": _estimate(positives / size if size else None, 0.01),
            "observed_rate": _estimate(positives / size if size else None, 0.01),
        },
    )


def _attribute(name: str, groups: list[GroupResult], *, kind: str = "single",
               columns: list[str] | None = None) -> AttributeResult:
    judged = [g for g in groups if g.judgeable and g.metrics["recall"].value is not None]
    recalls = [g.metrics["recall"].value for g in judged]
    spread = (max(recalls) - min(recalls)) if recalls else None
    ratio = (min(recalls) / max(recalls)) if recalls else None
    return AttributeResult(
        name=name,
        columns=columns or [name],
        kind=kind,
        groups=groups,
        differences={"recall": _estimate(spread, 0.06), "false_positive_rate": _estimate(0.02, 0.01)},
        ratios={"recall": _estimate(ratio, 0.08), "false_positive_rate": _estimate(0.81, 0.05)},
    )


def attributes(
    *, shift: float = 0.0, rows_per_household: float | None = ROWS_PER_HOUSEHOLD
) -> list[AttributeResult]:
    """Audit results per attribute; ``shift`` narrows the origin gap (used for the 'after mitigation' numbers)."""
    group = partial(_group, rows_per_household=rows_per_household)
    return [
        _attribute(
            "age_band",
            [
                group("18-24", 1210, 140, 0.58, 0.05, 0.10),
                group("25-34", 2890, 360, 0.62, 0.05, 0.11),
                group("35-44", 3020, 350, 0.61, 0.05, 0.11),
                group("65+", 95, 3, None, 0.01, 0.02, judgeable=False),
            ],
        ),
        _attribute(
            "gender",
            [group("female", 3650, 440, 0.62, 0.05, 0.11), group("male", 3565, 413, 0.60, 0.05, 0.10)],
        ),
        _attribute(
            "origin",
            [
                group("dutch", 5100, 560, 0.66, 0.05, 0.10),
                group("europe", 820, 95, 0.55 + shift / 2, 0.06, 0.11),
                group("outside_europe", 1295, 198, 0.46 + shift, 0.07, 0.13),
            ],
        ),
        _attribute(
            "gender×origin",
            [
                group("female|dutch", 2580, 290, 0.67, 0.05, 0.10),
                group("male|outside_europe", 640, 101, 0.45 + shift, 0.07, 0.13),
            ],
            kind="intersection",
            columns=["gender", "origin"],
        ),
    ]


def gates(*, failing: bool = True, all_judged: bool = False) -> list[GateResult]:
    """The card's gates; ``all_judged`` gives the neighbourhood enough data to judge its recall parity (it passes)."""
    origin_ratio = 0.70 if failing else 0.86
    neighbourhood = (
        GateResult(attribute="neighbourhood", metric="recall_ratio", threshold=0.8, comparison=">=", value=0.88,
                   ci_low=0.81, ci_high=0.95, verdict="pass", reason="Recall ratio 0.88 is at least 0.8.")
        if all_judged
        else GateResult(attribute="neighbourhood", metric="recall_ratio", threshold=0.8, comparison=">=", value=None,
                        ci_low=None, ci_high=None, verdict="insufficient_data",
                        reason="Fewer than two groups with at least 20 positives.")
    )
    return [
        GateResult(attribute="age_band", metric="recall_ratio", threshold=0.8, comparison=">=", value=0.94,
                   ci_low=0.85, ci_high=1.0, verdict="pass", reason="Recall ratio 0.94 is at least 0.8."),
        GateResult(attribute="gender", metric="recall_ratio", threshold=0.8, comparison=">=", value=0.97,
                   ci_low=0.9, ci_high=1.0, verdict="pass", reason="Recall ratio 0.97 is at least 0.8."),
        GateResult(attribute="origin", metric="recall_ratio", threshold=0.8, comparison=">=", value=origin_ratio,
                   ci_low=origin_ratio - 0.08, ci_high=min(origin_ratio + 0.08, 1.0),
                   verdict="fail" if failing else "pass",
                   reason=f"Recall ratio {origin_ratio} is {'below' if failing else 'at least'} 0.8."),
        GateResult(attribute="origin", metric="calibration_error_max", threshold=0.1, comparison="<=",
                   value=0.03, ci_low=0.02, ci_high=0.05, verdict="pass", reason="Largest group calibration error 0.03."),
        neighbourhood,
    ]


def fairness(
    *, failing_gate: bool = True, mitigation: bool = True, rows_per_household: float | None = ROWS_PER_HOUSEHOLD,
    all_judged: bool = False,
) -> FairnessSection:
    gate_results = gates(failing=failing_gate, all_judged=all_judged)
    return FairnessSection(
        primary_metric="recall",
        capacity_k=720,
        confidence=0.95,
        bootstrap_samples=200,
        attributes=attributes(rows_per_household=rows_per_household),
        gates=gate_results,
        proxy=[
            ProxyCheck(attribute="origin", auc=0.68, ci_low=0.64, ci_high=0.72, threshold=0.75, verdict="pass",
                       top_features=[ProxyFeature(feature="benefit_type", importance=0.41),
                                     ProxyFeature(feature="household_type", importance=0.22)]),
            ProxyCheck(attribute="age_band", auc=0.71, threshold=None, verdict="not_gated",
                       top_features=[ProxyFeature(feature="benefit_type", importance=0.55)]),
        ],
        passed=not failing_gate,
        mitigation=Mitigation(
            method="exponentiated_gradient",
            constraint="true_positive_rate_parity",
            attribute="origin",
            before=attributes(rows_per_household=rows_per_household),
            after=attributes(shift=0.14, rows_per_household=rows_per_household),
            gates_before=gate_results,
            gates_after=gates(failing=False),
        )
        if mitigation
        else None,
    )


def metrics(*, auc: float | None, calibrated: bool = True) -> ModelMetrics:
    if auc is None:
        return ModelMetrics(auc=None, pr_auc=None, brier=None, calibration_error=None, precision_at_k=None,
                            recall_at_k=None, lift_at_k=None)
    strength = (auc - 0.5) * 2
    return ModelMetrics(
        auc=auc,
        pr_auc=0.12 + 0.4 * strength,
        brier=0.11 - 0.03 * strength,
        calibration_error=0.018 if calibrated else None,
        precision_at_k=0.12 + 0.35 * strength,
        recall_at_k=0.1 + 0.6 * strength,
        lift_at_k=1.0 + 3.5 * strength,
    )


def in_use() -> InUse:
    """The lists replayed with a 182-day cooldown: the model's list beats the rule's by less than per period."""
    model = InUseList(contacts=4_320, households=3_610, found=2_020, households_helped=1_890,
                      households_in_need=2_410, precision=2_020 / 4_320, household_recall=1_890 / 2_410)
    rule = InUseList(contacts=4_320, households=3_480, found=1_640, households_helped=1_560,
                     households_in_need=2_410, precision=1_640 / 4_320, household_recall=1_560 / 2_410)
    return InUse(
        cooldown_days=182,
        orderings={"model": model, "rule": rule},
        lift_over_rule=1_890 / 1_560,
        summary=texts.in_use_summary(
            cooldown_days=182, model=model.model_dump(), rule=rule.model_dump(), lift_over_rule=1_890 / 1_560
        ),
        groups=[
            InUseGroup(attribute="origin", group="dutch", households_in_need=1_480, households_helped=1_190,
                       share=1_190 / 1_480, judgeable=True),
            InUseGroup(attribute="origin", group="europe", households_in_need=520, households_helped=390,
                       share=390 / 520, judgeable=True),
            InUseGroup(attribute="origin", group="outside_europe", households_in_need=12, households_helped=7,
                       share=7 / 12, judgeable=False),
        ],
    )


def curves() -> Curves:
    edges = [i / 20 for i in range(21)]
    positives = [max(0, int(60 * math.exp(-((e - 0.45) ** 2) / 0.03))) for e in edges[:-1]]
    negatives = [max(0, int(900 * math.exp(-((e - 0.08) ** 2) / 0.01))) for e in edges[:-1]]
    predicted = [0.02, 0.05, 0.09, 0.14, 0.22, 0.31, 0.45, 0.62]
    return Curves(
        roc={"model": _roc(0.81), "rule": _roc(0.66), "scorecard": _roc(0.74)},
        pr={"model": _pr(0.118, 2.0), "rule": _pr(0.118, 4.0), "scorecard": _pr(0.118, 3.0)},
        calibration=CalibrationCurve(
            mean_predicted=predicted,
            observed=[p * 1.05 for p in predicted],
            count=[3100, 1500, 900, 600, 450, 330, 210, 125],
        ),
        score_histogram=ScoreHistogram(edges=edges, positives=positives, negatives=negatives),
    )


def features(feature_set: str = "catalogue") -> list[FeatureEntry]:
    if feature_set == "custom":
        # Columns of a German-credit-like data set, as a dataset config would name them.
        return [
            FeatureEntry(name="duration_months", label_nl="looptijd in maanden", label_en="duration in months",
                         unit="months", monotone=1, reason_allowed=True, importance=0.42),
            FeatureEntry(name="credit_amount", label_nl="kredietbedrag", label_en="credit amount", unit="EUR",
                         monotone=0, reason_allowed=True, importance=0.31),
            FeatureEntry(name="savings", label_nl="spaargeld", label_en="savings", unit="", monotone=0,
                         reason_allowed=False, importance=None),
        ]
    return [
        FeatureEntry.from_spec(FEATURE_CATALOGUE[name], importance=round(0.6 / (rank + 1), 4))
        for rank, name in enumerate(FEATURE_NAMES)
    ]


def approvals() -> list[ApprovalEvent]:
    return [
        ApprovalEvent(from_status=None, to_status=ModelStatus.CANDIDATE, by="pipeline", role=Role.DATA_SCIENTIST,
                      at=CREATED_AT, comment=""),
        ApprovalEvent(from_status=ModelStatus.CANDIDATE, to_status=ModelStatus.APPROVED, by="reviewer-01",
                      role=Role.ETHICS_REVIEWER, at=datetime(2025, 3, 20, 14, 0, tzinfo=UTC),
                      comment="Goedgekeurd; herkomst-recall volgen per kwartaal."),
        ApprovalEvent(from_status=ModelStatus.APPROVED, to_status=ModelStatus.CHAMPION, by="admin-01",
                      role=Role.ADMIN, at=datetime(2025, 4, 1, 8, 0, tzinfo=UTC), comment=""),
    ]


def make_card(
    *,
    failing_gate: bool = True,
    mitigation: bool = True,
    none_metrics: bool = False,
    feature_set: str = "catalogue",
    approval_history: list[ApprovalEvent] | None = None,
    rows_per_household: float | None = ROWS_PER_HOUSEHOLD,
    all_judged: bool = False,
) -> ModelCard:
    """A complete card; ``none_metrics`` blanks every number that can be unknown (rule, scorecard, curves).

    ``rows_per_household`` sets the test rows of a household in the fairness groups: 1 for one row per household,
    ``None`` for a card made before households were counted. Without ``all_judged`` the neighbourhood's recall
    parity cannot be judged, so a card without a failing gate asks the reviewer to decide.
    """
    fair = fairness(
        failing_gate=failing_gate, mitigation=mitigation, rows_per_household=rows_per_household, all_judged=all_judged
    )
    validation = DataValidation(
        tables={"signals": TableSummary(rows=41_250, columns=10), "households": TableSummary(rows=12_000, columns=8),
                "audit": TableSummary(rows=12_000, columns=5), "outcomes": TableSummary(rows=28_800, columns=3)},
        failures=[],
        warnings=["households: 3 households without signals in the last 12 months"],
    )
    synthetic = True
    model_metrics = {
        "model": metrics(auc=None if none_metrics else 0.81),
        "rule": metrics(auc=None if none_metrics else 0.66, calibrated=False),
        "scorecard": metrics(auc=None if none_metrics else 0.74),
    }
    return ModelCard(
        model_details=ModelDetails(
            name="vroegsignaal-demo",
            version="3",
            created_at=CREATED_AT,
            model_type="LightGBM (monotone constraints), isotonic calibration",
            dataset_config="demo",
            feature_set=feature_set,
            catalogue_version="1.0.0" if feature_set == "catalogue" else None,
            seed=42,
            library_versions={"python": "3.11.9", "lightgbm": "4.7.0", "scikit-learn": "1.9.1"},
            mlflow_run_id="0f3c5a9e2b7d4e11a6c8d2f4b1e3a5c7",
            registered_model="vroegsignaal-demo/3",
            licence="EUPL-1.2",
            contact="algoritmes@gemeente.example",
        ),
        intended_use=texts.default_intended_use(feature_set),
        factors=Factors(
            audit_attributes=[
                AuditAttribute(name="age_band", groups=["18-24", "25-34", "35-44", "65+"],
                               description=LocalizedText(nl="Leeftijdsklasse van de hoofdbewoner.",
                                                         en="Age band of the main resident.")),
                AuditAttribute(name="gender", groups=["female", "male"],
                               description=LocalizedText(nl="Geregistreerd geslacht.", en="Registered gender.")),
                AuditAttribute(name="origin", groups=["dutch", "europe", "outside_europe"],
                               description=LocalizedText(nl="Herkomst (CBS).", en="Origin (CBS).")),
            ],
            intersections=[["gender", "origin"]],
        ),
        training_data=TrainingData(
            rows=21_600,
            positives=2_380,
            periods=PERIODS_TRAIN,
            description=texts.default_data_description(feature_set),
            label_description=texts.default_label_description(feature_set),
        ),
        evaluation_data=EvaluationData(
            rows=7_215,
            positives=853,
            split="temporal",
            periods=PERIODS_TEST,
            description=texts.evaluation_description("temporal", PERIODS_TEST),
        ),
        capacity=CapacityInfo(k=720, description=texts.capacity_description(720, fraction=0.1)),
        performance=Performance(
            models=model_metrics,
            bayes_auc=None if none_metrics else 0.86,
            share_of_bayes_auc=None if none_metrics else 0.81 / 0.86,
            lift_over_rule=None if none_metrics else 1.62,
            lift_over_scorecard=None if none_metrics else 1.18,
            in_use=None if none_metrics else in_use(),
            curves=Curves(roc={}, pr={}, calibration=None, score_histogram=None) if none_metrics else curves(),
        ),
        fairness=fair,
        data_validation=validation,
        features=features(feature_set),
        explanations=Explanations(
            method="LightGBM pred_contrib (exact tree SHAP)",
            global_importance=[GlobalImportance(feature=f.name, mean_abs_contribution=f.importance)
                               for f in features(feature_set) if f.importance is not None],
        ),
        ethical_considerations=texts.default_ethical_considerations(feature_set),
        caveats_and_recommendations=texts.default_caveats(feature_set, synthetic=synthetic),
        verdict=texts.default_verdict(fair, validation),
        # A card that fails a gate can only have been created; a passing one went all the way to champion.
        approval_history=(approvals()[:1] if failing_gate else approvals())
        if approval_history is None
        else approval_history,
    )


def card_dict(**kwargs: Any) -> dict[str, Any]:
    """The JSON form of :func:`make_card`."""
    return make_card(**kwargs).model_dump(mode="json")


def failure() -> DataValidationFailure:
    return DataValidationFailure(table="signals", column="amount_eur", check="less_than_or_equal_to(1000000.0)",
                                 count=2)
