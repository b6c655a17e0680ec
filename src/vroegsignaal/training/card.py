"""Assemble the model card from the pipeline's artefacts (rendering lives in :mod:`vroegsignaal.model_cards`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from vroegsignaal.model_cards import texts
from vroegsignaal.schemas.card import (
    AuditAttribute,
    CapacityInfo,
    DataValidation,
    EvaluationData,
    Explanations,
    FairnessSection,
    FeatureEntry,
    Factors,
    GlobalImportance,
    InUse,
    InUseGroup,
    InUseList,
    LocalizedText,
    ModelCard,
    ModelDetails,
    ModelMetrics,
    Performance,
    TrainingData,
)
from vroegsignaal.schemas.catalogue import CATALOGUE_VERSION, FEATURE_CATALOGUE
from vroegsignaal.schemas.dataset_config import DatasetConfig
from vroegsignaal.scoring.bundle import FeatureSet, library_versions, monotone_vector
from vroegsignaal.scoring.reasons import ReasonWriter, wording_for
from vroegsignaal.training.data import Dataset
from vroegsignaal.training.evaluate import Evaluation
from vroegsignaal.training.explain import GlobalExplanation
from vroegsignaal.training.split import DataSplit

LICENCE = "EUPL-1.2"
#: The card's contact when the dataset config names none: to be filled in before the card is published.
CONTACT_PLACEHOLDER = "[e-mailadres of webpagina van de algoritme-eigenaar / the algorithm owner's e-mail or web page]"
MODEL_TYPE = (
    "LightGBM gradient-boosted decision trees with monotone constraints and early stopping, calibrated to a "
    "probability ({calibration}); explained per household with exact TreeSHAP"
)

_KNOWN_ATTRIBUTES: dict[str, LocalizedText] = {
    "age_band": LocalizedText(nl="Leeftijdsklasse van de hoofdbewoner.", en="Age band of the main resident."),
    "gender": LocalizedText(nl="Geregistreerd geslacht van de hoofdbewoner.", en="Registered gender of the main resident."),
    "origin": LocalizedText(nl="Herkomst volgens de CBS-indeling (2022).", en="Origin in the CBS classification (2022)."),
    "neighbourhood": LocalizedText(nl="Wijk waarin het huishouden woont.", en="Neighbourhood the household lives in."),
}


def _attribute_description(config: DatasetConfig, name: str) -> LocalizedText:
    if name in _KNOWN_ATTRIBUTES:
        return _KNOWN_ATTRIBUTES[name]
    attribute = next(a for a in config.sensitive if a.report_name == name)
    how_nl = " In banden ingedeeld." if attribute.bins else " Codes gegroepeerd." if attribute.map else ""
    how_en = " Grouped into bands." if attribute.bins else " Codes grouped." if attribute.map else ""
    return LocalizedText(
        nl=f"Auditkenmerk uit kolom '{attribute.column}'.{how_nl} Wordt nooit als kenmerk van het model gebruikt.",
        en=f"Audit attribute from column '{attribute.column}'.{how_en} Never used as a model feature.",
    )


def _periods(times: np.ndarray | None, rows: np.ndarray) -> list[str] | None:
    if times is None:
        return None
    return sorted({pd.Timestamp(t).strftime("%Y-%m") for t in np.unique(times[rows])})


def _in_use(evaluation: Evaluation) -> InUse | None:
    if evaluation.in_use is None:
        return None
    replay = evaluation.in_use.to_dict()
    orderings = replay["orderings"]
    return InUse(
        cooldown_days=replay["cooldown_days"],
        orderings={name: InUseList.model_validate(metrics) for name, metrics in orderings.items()},
        lift_over_rule=replay["lift_over_rule"],
        groups=[InUseGroup.model_validate(group) for group in replay["groups"]],
        summary=texts.in_use_summary(
            cooldown_days=replay["cooldown_days"],
            model=orderings["model"],
            rule=orderings.get("rule"),
            lift_over_rule=replay["lift_over_rule"],
        ),
    )


def _rule_description(config: DatasetConfig, dataset: Dataset) -> LocalizedText | None:
    """The baseline rule's sort keys in words (the features' labels), as the card and the register name it."""
    keys = []
    for key in config.baseline_rule:
        wording = wording_for(
            key.column, categorical=key.column in dataset.categorical, feature_text=config.feature_text
        )
        keys.append((wording.label_nl, wording.label_en, key.descending))
    return texts.rule_description(keys)


def _feature_entries(
    config: DatasetConfig, dataset: Dataset, explanation: GlobalExplanation
) -> list[FeatureEntry]:
    importance = explanation.as_mapping()
    writer = ReasonWriter.build(dataset.feature_names, categorical=dataset.categorical, feature_text=config.feature_text)
    monotone = monotone_vector(config, dataset.feature_names)
    entries = []
    for wording, direction in zip(writer.wordings, monotone, strict=True):
        spec = FEATURE_CATALOGUE.get(wording.name)
        if spec is not None:
            entries.append(FeatureEntry.from_spec(spec, importance=importance.get(wording.name)))
            continue
        entries.append(
            FeatureEntry(
                name=wording.name,
                label_nl=wording.label_nl,
                label_en=wording.label_en,
                unit="",
                monotone=direction,
                reason_allowed=wording.reason_allowed,
                importance=importance.get(wording.name),
            )
        )
    return entries


def _model_metrics(evaluation: Evaluation) -> dict[str, ModelMetrics]:
    metrics = {}
    for name, values in evaluation.models.items():
        data = values.to_dict()
        data.pop("found_at_k")
        metrics[name] = ModelMetrics(**data)
    return metrics


def build_model_card(
    *,
    config: DatasetConfig,
    dataset: Dataset,
    split: DataSplit,
    evaluation: Evaluation,
    fairness: Mapping[str, Any],
    explanation: GlobalExplanation,
    model_version: str,
    created_at: datetime,
    feature_set: FeatureSet,
    calibration_method: str,
    capacity_k: int,
    synthetic: bool,
    counting_unit: LocalizedText | None = None,
    warnings: Sequence[str] = (),
) -> ModelCard:
    """The card of one trained model, from the artefacts of the pipeline run that made it."""
    fit_rows = np.concatenate([split.train, split.validation, split.calibration])
    fairness_section = FairnessSection.model_validate(dict(fairness))
    validation = DataValidation.model_validate(
        {**dataset.report.to_dict(), "warnings": [*dataset.report.warnings, *warnings]}
    )
    curves = dict(evaluation.curves)
    return ModelCard(
        model_details=ModelDetails(
            name=config.model_name,
            version=model_version,
            created_at=created_at,
            model_type=MODEL_TYPE.format(calibration=calibration_method),
            dataset_config=config.name,
            feature_set=feature_set,
            catalogue_version=CATALOGUE_VERSION if feature_set == "catalogue" else None,
            seed=config.seed,
            library_versions=library_versions(),
            mlflow_run_id=None,
            registered_model=config.model_name,
            licence=LICENCE,
            contact=config.contact or CONTACT_PLACEHOLDER,
        ),
        intended_use=texts.default_intended_use(feature_set),
        factors=Factors(
            audit_attributes=[
                AuditAttribute(
                    name=name,
                    groups=sorted(dataset.audit[name].unique().tolist()),
                    description=_attribute_description(config, name),
                )
                for name in dataset.audit.columns
            ],
            intersections=[list(combo) for combo in config.intersections],
        ),
        training_data=TrainingData(
            rows=len(fit_rows),
            positives=int(dataset.y[fit_rows].sum()),
            periods=_periods(dataset.times, fit_rows),
            description=texts.default_data_description(feature_set, config_text=config.description),
            label_description=texts.default_label_description(feature_set, config_text=config.label_description),
        ),
        evaluation_data=EvaluationData(
            rows=len(split.test),
            positives=int(dataset.y[split.test].sum()),
            periods=_periods(dataset.times, split.test),
            split=split.kind,
            description=texts.evaluation_description(
                split.kind, _periods(dataset.times, split.test), label_horizon_days=config.split.label_horizon_days
            ),
        ),
        capacity=CapacityInfo(
            k=capacity_k,
            description=texts.capacity_description(capacity_k, fraction=config.capacity.fraction),
            periods=None if dataset.times is None else len(np.unique(dataset.times[split.test])),
        ),
        performance=Performance(
            models=_model_metrics(evaluation),
            bayes_auc=evaluation.bayes_auc,
            share_of_bayes_auc=evaluation.share_of_bayes_auc,
            lift_over_rule=evaluation.lift_over("rule"),
            rule_description=_rule_description(config, dataset),
            counting_unit=counting_unit,
            lift_over_scorecard=evaluation.lift_over("scorecard"),
            in_use=_in_use(evaluation),
            curves=curves,
        ),
        fairness=fairness_section,
        data_validation=validation,
        features=_feature_entries(config, dataset, explanation),
        explanations=Explanations(
            method=explanation.to_dict()["method"],
            global_importance=[GlobalImportance(feature=n, mean_abs_contribution=v) for n, v in explanation.importance],
        ),
        ethical_considerations=texts.default_ethical_considerations(feature_set),
        caveats_and_recommendations=texts.default_caveats(feature_set, synthetic=synthetic),
        verdict=texts.default_verdict(
            fairness_section,
            validation,
            lift_over_rule=evaluation.lift_over("rule"),
            lift_over_rule_in_use=None if evaluation.in_use is None else evaluation.in_use.lift_over("rule"),
        ),
        approval_history=[],
    )
