"""The model card's plots as PNG bytes, with alt text that states what each plot shows.

Each ``plot_*`` function is pure: it builds its own :class:`~matplotlib.figure.Figure` (no pyplot, so no global
figure registry and no backend switch), draws under a fixed style inside a style context (the caller's rcParams are
restored afterwards and cannot change the output), and returns PNG bytes without a software stamp, so the same card
gives byte-identical plots. Colours are the Okabe–Ito colour-blind-safe palette, and every series also differs in
line style or hatching, so no plot relies on colour alone.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import matplotlib.style
from matplotlib.figure import Figure

from vroegsignaal.model_cards import texts
from vroegsignaal.schemas.card import (
    MODEL_KINDS,
    AttributeResult,
    CalibrationCurve,
    Curve,
    FeatureEntry,
    GlobalImportance,
    Lang,
    ModelCard,
    ScoreHistogram,
)

#: Metrics shown per group in the fairness plots: who is found, who is contacted needlessly, who is listed.
GROUP_PLOT_METRICS: tuple[str, ...] = ("recall", "false_positive_rate", "selection_rate")
IMPORTANCE_TOP_N = 15
DPI = 100

_COLOURS = {"model": "#0072B2", "rule": "#D55E00", "scorecard": "#009E73"}
_LINESTYLES = {"model": "-", "rule": "--", "scorecard": ":"}
_MARKERS = {"model": "o", "rule": "s", "scorecard": "^"}
_POSITIVE_COLOUR = "#D55E00"
_NEGATIVE_COLOUR = "#0072B2"
_BAR_COLOUR = "#0072B2"
_STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.color": "#d0d0d0",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "svg.hashsalt": "vroegsignaal",
}


@dataclass(frozen=True)
class CardPlot:
    """One rendered plot of a card in one language."""

    name: str
    lang: Lang
    png: bytes
    alt: str
    caption: str

    @property
    def filename(self) -> str:
        """``roc.png`` for the Dutch card, ``roc.en.png`` for the English one (like ``card.md``/``card.en.md``)."""
        return f"{self.name}.png" if self.lang == "nl" else f"{self.name}.{self.lang}.png"


@contextmanager
def _fixed_style() -> Iterator[None]:
    # "default" first so a caller's rcParams (or a matplotlibrc) cannot change the card's pixels.
    with matplotlib.style.context(["default", _STYLE]):
        yield


def _to_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No "Software" stamp: the bytes depend on the data only.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _t(nl: str, en: str, lang: Lang) -> str:
    return nl if lang == "nl" else en


def _n(value: float | None, lang: Lang, digits: int = 2) -> str:
    return texts.format_number(value, lang, digits=digits)


# --- performance plots ---------------------------------------------------------------------------------------------


def plot_roc(curves: Mapping[str, Curve], *, lang: Lang) -> bytes:
    """ROC curves of model, rule and scorecard against the chance diagonal."""
    with _fixed_style():
        figure = Figure(figsize=(5.6, 4.6), layout="constrained")
        axes = figure.add_subplot()
        axes.plot([0, 1], [0, 1], color="#6e6e6e", linewidth=1, linestyle="-.", label=_t("toeval", "chance", lang))
        for kind in _ordered(curves):
            _plot_curve(axes, kind, curves[kind], lang)
        axes.set(
            xlim=(0, 1),
            ylim=(0, 1.01),
            xlabel=_t("fout-positief-ratio (onnodig benaderd)", "false-positive rate", lang),
            ylabel=_t("recall (gevonden van wie hulp nodig had)", "recall (true-positive rate)", lang),
            title=_t("ROC-curve", "ROC curve", lang),
        )
        axes.legend(loc="lower right")
        return _to_png(figure)


def plot_precision_recall(curves: Mapping[str, Curve], *, lang: Lang, base_rate: float | None = None) -> bytes:
    """Precision–recall curves of model, rule and scorecard, with the base rate as the chance line."""
    with _fixed_style():
        figure = Figure(figsize=(5.6, 4.6), layout="constrained")
        axes = figure.add_subplot()
        if base_rate is not None:
            axes.axhline(
                base_rate,
                color="#6e6e6e",
                linewidth=1,
                linestyle="-.",
                label=_t(f"aandeel 'ja' ({_n(base_rate, lang)})", f"base rate ({_n(base_rate, lang)})", lang),
            )
        for kind in _ordered(curves):
            _plot_curve(axes, kind, curves[kind], lang)
        axes.set(
            xlim=(0, 1),
            ylim=(0, 1.01),
            xlabel=_t("recall", "recall", lang),
            ylabel=_t("precisie", "precision", lang),
            title=_t("Precisie en recall", "Precision–recall curve", lang),
        )
        axes.legend(loc="upper right")
        return _to_png(figure)


def _ordered(curves: Mapping[str, Curve]) -> list[str]:
    # The model is drawn last so it sits on top of the alternatives.
    known = [kind for kind in MODEL_KINDS if kind in curves and kind != "model"]
    return [*known, *[k for k in curves if k not in MODEL_KINDS], *(["model"] if "model" in curves else [])]


def _plot_curve(axes: Any, kind: str, curve: Curve, lang: Lang) -> None:
    axes.plot(
        curve.x,
        curve.y,
        color=_COLOURS.get(kind, "#000000"),
        linestyle=_LINESTYLES.get(kind, "-"),
        linewidth=2.2 if kind == "model" else 1.6,
        label=texts.model_kind_label(kind, lang),
    )


def plot_calibration(curve: CalibrationCurve, *, lang: Lang) -> bytes:
    """Reliability diagram: mean predicted probability against the observed rate per bin, with the diagonal."""
    with _fixed_style():
        figure = Figure(figsize=(5.6, 4.6), layout="constrained")
        axes = figure.add_subplot()
        upper = max([*curve.mean_predicted, *curve.observed, 0.05])
        limit = min(1.0, upper * 1.1)
        axes.plot([0, limit], [0, limit], color="#6e6e6e", linewidth=1, linestyle="-.",
                  label=_t("perfecte kalibratie", "perfect calibration", lang))
        axes.plot(curve.mean_predicted, curve.observed, color=_COLOURS["model"], marker="o", linewidth=1.8,
                  label=texts.model_kind_label("model", lang))
        axes.set(
            xlim=(0, limit),
            ylim=(0, limit),
            xlabel=_t("voorspelde kans (gemiddeld per groep)", "mean predicted probability", lang),
            ylabel=_t("werkelijk aandeel 'ja'", "observed rate", lang),
            title=_t("Kalibratie", "Calibration (reliability diagram)", lang),
        )
        axes.legend(loc="upper left")
        return _to_png(figure)


def plot_score_distribution(histogram: ScoreHistogram, *, lang: Lang) -> bytes:
    """Score distribution of positives and negatives, each as a share of its own class so both are visible."""
    with _fixed_style():
        figure = Figure(figsize=(6.4, 4.2), layout="constrained")
        axes = figure.add_subplot()
        lefts = histogram.edges[:-1]
        widths = [b - a for a, b in zip(histogram.edges, histogram.edges[1:])]
        for counts, colour, hatch, name in (
            (histogram.negatives, _NEGATIVE_COLOUR, "", _t("label 'nee'", "negative", lang)),
            (histogram.positives, _POSITIVE_COLOUR, "//", _t("label 'ja'", "positive", lang)),
        ):
            total = sum(counts)
            shares = [count / total if total else 0.0 for count in counts]
            axes.bar(lefts, shares, width=widths, align="edge", alpha=0.55, color=colour, edgecolor=colour,
                     hatch=hatch, label=f"{name} (n={texts.format_count(total, lang)})")
        axes.set(
            xlim=(histogram.edges[0], histogram.edges[-1]),
            xlabel=_t("score (gekalibreerde kans)", "score (calibrated probability)", lang),
            ylabel=_t("deel van de groep", "share of the class", lang),
            title=_t("Verdeling van de score", "Score distribution", lang),
        )
        axes.legend(loc="upper right")
        return _to_png(figure)


# --- fairness and importance ---------------------------------------------------------------------------------------


def plot_group_metrics(
    attribute: AttributeResult, *, lang: Lang, metrics: Sequence[str] = GROUP_PLOT_METRICS
) -> bytes:
    """Per-group bars with confidence intervals, one panel per metric; group sizes are in the labels.

    Groups too small to judge are hatched and marked in their label; a value that cannot be computed is written
    as 'n.b.'/'n/a' instead of drawn.
    """
    groups = attribute.groups
    with _fixed_style():
        figure = Figure(figsize=(3.4 * len(metrics) + 1.8, 1.2 + 0.42 * max(len(groups), 1)), layout="constrained")
        axes_row = figure.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
        positions = list(range(len(groups)))
        labels = [
            _group_tick(attribute.name, group.group, group.group_size, group.judgeable, lang)
            for group in groups
        ]
        for axes, metric in zip(axes_row, metrics):
            for position, group in zip(positions, groups):
                estimate = group.metrics.get(metric)
                if estimate is None or estimate.value is None:
                    axes.text(0.01, position, texts.NOT_AVAILABLE[lang], va="center", fontsize=9)
                    continue
                error = None
                if estimate.ci_low is not None and estimate.ci_high is not None:
                    below = max(estimate.value - estimate.ci_low, 0.0)
                    error = [[below], [max(estimate.ci_high - estimate.value, 0.0)]]
                axes.barh(position, estimate.value, xerr=error, color=_BAR_COLOUR if group.judgeable else "#9ecae1",
                          edgecolor="#08306b", hatch="" if group.judgeable else "//", capsize=3,
                          error_kw={"ecolor": "#000000", "linewidth": 1})
            axes.set_xlim(0, _axis_limit(attribute, metric))
            axes.set_title(texts.metric_label(metric, lang, short=True))
            axes.grid(axis="y", visible=False)
        axes_row[0].set_yticks(positions, labels)
        axes_row[0].invert_yaxis()
        figure.suptitle(_t(f"Per groep: {attribute.name}", f"Per group: {attribute.name}", lang))
        return _to_png(figure)


def _axis_limit(attribute: AttributeResult, metric: str) -> float:
    # Recall is read against the full 0–1 scale; rare events (false positives, selection) get a scale that shows
    # their differences, with the axis ticks saying so.
    if metric == "recall":
        return 1.0
    highs = [
        estimate.ci_high if estimate.ci_high is not None else estimate.value
        for group in attribute.groups
        if (estimate := group.metrics.get(metric)) is not None and estimate.value is not None
    ]
    return min(1.0, max([0.1, *[1.15 * high for high in highs if high is not None]]))


def _group_tick(attribute: str, group: str, size: int, judgeable: bool, lang: Lang) -> str:
    text = f"{texts.group_label(attribute, group, lang)} (n={texts.format_count(size, lang)})"
    return text if judgeable else text + _t(", te klein", ", too small", lang)


def plot_importance(
    importance: Sequence[GlobalImportance], labels: Mapping[str, str], *, lang: Lang, top_n: int = IMPORTANCE_TOP_N
) -> bytes:
    """The ``top_n`` features by mean |contribution|, largest on top."""
    shown = sorted(importance, key=lambda item: item.mean_abs_contribution, reverse=True)[:top_n]
    with _fixed_style():
        figure = Figure(figsize=(7.2, 1.0 + 0.34 * max(len(shown), 1)), layout="constrained")
        axes = figure.add_subplot()
        axes.barh(range(len(shown)), [item.mean_abs_contribution for item in shown], color=_BAR_COLOUR)
        axes.set_yticks(range(len(shown)), [labels.get(item.feature, item.feature) for item in shown])
        axes.invert_yaxis()
        axes.grid(axis="y", visible=False)
        axes.set(
            xlabel=_t("gemiddelde |bijdrage| aan de score (log-odds)", "mean |contribution| to the score (log-odds)",
                      lang),
            title=_t("Belangrijkste kenmerken", "Most important features", lang),
        )
        return _to_png(figure)


# --- the card's plots with their alt texts -------------------------------------------------------------------------


def card_plots(card: ModelCard, *, lang: Lang) -> tuple[CardPlot, ...]:
    """Every plot the card has data for, in the order the card shows them; missing data means no plot."""
    performance = card.performance
    curves = performance.curves
    metrics = performance.models
    evaluation = card.evaluation_data
    base_rate = evaluation.positives / evaluation.rows if evaluation.rows else None
    plots: list[CardPlot] = []

    def auc_list(key: str) -> str:
        return "; ".join(
            f"{texts.model_kind_label(kind, lang)} {_n(getattr(metrics[kind], key), lang)}"
            for kind in MODEL_KINDS
            if kind in metrics
        )

    if curves.roc:
        plots.append(
            CardPlot(
                "roc",
                lang,
                plot_roc(curves.roc, lang=lang),
                alt=_t(
                    f"ROC-curve van {_kinds(curves.roc, lang)} op de testset, met de diagonaal voor gokken. "
                    f"AUC: {auc_list('auc')}. Hoe verder een lijn boven de diagonaal, hoe beter het onderscheid.",
                    f"ROC curves of {_kinds(curves.roc, lang)} on the test set, with the chance diagonal. "
                    f"AUC: {auc_list('auc')}. The further a line lies above the diagonal, the better it separates.",
                    lang,
                ),
                caption=_t("ROC-curve: model, regel en scorekaart.", "ROC curve: model, rule and scorecard.", lang),
            )
        )
    if curves.pr:
        plots.append(
            CardPlot(
                "precision_recall",
                lang,
                plot_precision_recall(curves.pr, lang=lang, base_rate=base_rate),
                alt=_t(
                    f"Precisie tegen recall van {_kinds(curves.pr, lang)} op de testset. PR-AUC: "
                    f"{auc_list('pr_auc')}. Het aandeel 'ja' in de testset is {_n(base_rate, lang)}.",
                    f"Precision against recall of {_kinds(curves.pr, lang)} on the test set. PR AUC: "
                    f"{auc_list('pr_auc')}. The base rate of the test set is {_n(base_rate, lang)}.",
                    lang,
                ),
                caption=_t("Precisie en recall: model, regel en scorekaart.",
                           "Precision–recall: model, rule and scorecard.", lang),
            )
        )
    if curves.calibration is not None and curves.calibration.count:
        error = _n(metrics["model"].calibration_error, lang)
        bins = len(curves.calibration.count)
        plots.append(
            CardPlot(
                "calibration",
                lang,
                plot_calibration(curves.calibration, lang=lang),
                alt=_t(
                    f"Kalibratiediagram: voorspelde kans tegen het werkelijke aandeel 'ja' in {bins} groepen van "
                    f"scores, met de diagonaal voor perfecte kalibratie. Kalibratiefout van het model: {error}.",
                    f"Reliability diagram: predicted probability against the observed rate in {bins} score bins, "
                    f"with the diagonal of perfect calibration. Calibration error of the model: {error}.",
                    lang,
                ),
                caption=_t("Kalibratie van de score.", "Calibration of the score.", lang),
            )
        )
    histogram = curves.score_histogram
    if histogram is not None and (sum(histogram.positives) + sum(histogram.negatives)) > 0:
        plots.append(
            CardPlot(
                "score_distribution",
                lang,
                plot_score_distribution(histogram, lang=lang),
                alt=_t(
                    f"Verdeling van de score bij {texts.format_count(sum(histogram.positives), lang)} huishoudens "
                    f"met label 'ja' en {texts.format_count(sum(histogram.negatives), lang)} met label 'nee', elk "
                    "als deel van de eigen groep.",
                    f"Score distribution of {texts.format_count(sum(histogram.positives), lang)} positive and "
                    f"{texts.format_count(sum(histogram.negatives), lang)} negative households, each as a share of "
                    "its own class.",
                    lang,
                ),
                caption=_t("Verdeling van de score.", "Score distribution.", lang),
            )
        )
    for attribute in card.fairness.attributes:
        if attribute.kind == "single" and attribute.groups:
            plots.append(_group_plot(attribute, card.fairness.confidence, lang))
    if card.explanations.global_importance:
        labels = {entry.name: entry.label(lang) for entry in card.features}
        plots.append(_importance_plot(card.explanations.global_importance, labels, card.features, lang))
    return tuple(plots)


def _kinds(curves: Mapping[str, Curve], lang: Lang) -> str:
    names = [texts.model_kind_label(kind, lang) for kind in MODEL_KINDS if kind in curves]
    joiner = " en " if lang == "nl" else " and "
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + joiner + names[-1]


def _group_plot(attribute: AttributeResult, confidence: float, lang: Lang) -> CardPlot:
    parts = []
    for group in attribute.groups:
        values = ", ".join(
            f"{texts.metric_label(metric, lang, short=True)} "
            f"{_n(group.metrics[metric].value if metric in group.metrics else None, lang)}"
            for metric in GROUP_PLOT_METRICS
        )
        small = "" if group.judgeable else _t(", te klein om te beoordelen", ", too small to judge", lang)
        size = texts.format_count(group.group_size, lang)
        parts.append(f"{texts.group_label(attribute.name, group.group, lang)} (n={size}{small}): {values}")
    share = f"{confidence * 100:.0f}"
    return CardPlot(
        group_plot_name(attribute),
        lang,
        plot_group_metrics(attribute, lang=lang),
        alt=_t(
            f"Staafdiagram per groep van '{attribute.name}' met {share}%-marges voor recall, fout-positief-ratio en "
            f"selectiegraad. " + "; ".join(parts) + ".",
            f"Bar chart per group of '{attribute.name}' with {share}% intervals for recall, false-positive rate and "
            f"selection rate. " + "; ".join(parts) + ".",
            lang,
        ),
        caption=_t(
            f"Recall, fout-positief-ratio en selectiegraad per groep van '{attribute.name}'.",
            f"Recall, false-positive rate and selection rate per group of '{attribute.name}'.",
            lang,
        ),
    )


def _importance_plot(
    importance: Sequence[GlobalImportance], labels: Mapping[str, str], features: Sequence[FeatureEntry], lang: Lang
) -> CardPlot:
    ranked = sorted(importance, key=lambda item: item.mean_abs_contribution, reverse=True)
    top = "; ".join(
        f"{labels.get(item.feature, item.feature)} {_n(item.mean_abs_contribution, lang)}" for item in ranked[:5]
    )
    shown = min(len(ranked), IMPORTANCE_TOP_N)
    return CardPlot(
        "importance",
        lang,
        plot_importance(importance, labels, lang=lang),
        alt=_t(
            f"Staafdiagram van de {shown} belangrijkste van {len(features)} kenmerken, naar gemiddelde absolute "
            f"bijdrage aan de score. De vijf grootste: {top}.",
            f"Bar chart of the {shown} most important of {len(features)} features by mean absolute contribution to "
            f"the score. The top five: {top}.",
            lang,
        ),
        caption=_t("Belangrijkste kenmerken.", "Most important features.", lang),
    )


def group_plot_name(attribute: AttributeResult) -> str:
    """Name of the per-group plot of an attribute: ``fairness_<attribute>`` with only letters, digits and '_'."""
    slug = "".join(ch if ch.isalnum() else "_" for ch in attribute.name).strip("_").lower()
    return f"fairness_{slug or 'attribute'}"
