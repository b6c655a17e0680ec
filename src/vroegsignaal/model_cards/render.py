"""Render a :class:`~vroegsignaal.schemas.card.ModelCard` to files, and read one back.

``render_card`` writes, into one card folder::

    card.json              the card (validated against card.schema.json with jsonschema before writing)
    card.schema.json       ModelCard's JSON schema
    card.md, card.html     Dutch (the default language of the pages)
    card.en.md, card.en.html
    plots/*.png            roc.png, roc.en.png, ...
    algoritmeregister.json the card's facts in the fields of the Algoritmeregister publication standard

Everything is generated in memory and written to a temporary sibling folder that is renamed into place at the end,
so a failed render (a plot that cannot be drawn, a full disk) leaves no half-written card: either the old folder or
the new one, never a mix.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from vroegsignaal.errors import ConfigError, ModelBundleError
from vroegsignaal.model_cards import algoritmeregister, plots, texts
from vroegsignaal.model_cards.plots import CardPlot
from vroegsignaal.number_format import format_estimate
from vroegsignaal.schemas.card import (
    LANGS,
    MODEL_KINDS,
    AttributeResult,
    Estimate,
    GateResult,
    GroupResult,
    Lang,
    LocalizedText,
    Mitigation,
    ModelCard,
    card_json_schema,
)
from vroegsignaal.schemas.enums import ModelStatus, Role

CARD_JSON = "card.json"
CARD_SCHEMA_JSON = "card.schema.json"
PLOTS_DIR = "plots"
ALGORITMEREGISTER_JSON = "algoritmeregister.json"

COMPARISON_SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}

MSG_UNKNOWN_LANG = "langs: unknown language"
MSG_NO_LANGS = "langs: at least one language is needed"
MSG_INVALID_CARD = "does not match the model-card schema"
MSG_CARD_NOT_FOUND = "model card not found"
MSG_CARD_NOT_JSON = "is not valid JSON"
_MAX_MESSAGE = 300

#: The per-group tables of the card: who is found and listed (outreach), and how good the score is per group.
GROUP_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("group_outreach", ("recall", "false_positive_rate", "selection_rate", "precision")),
    ("group_score_quality", ("auc", "calibration_error", "mean_score", "observed_rate")),
)
MITIGATION_METRICS: tuple[str, ...] = ("recall", "false_positive_rate", "selection_rate")
#: Count columns of a group table: field of ``GroupResult`` and the text key of its header.
HOUSEHOLD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("households", "households"),
    ("positive_households", "positive_households"),
)
ROW_COLUMNS: tuple[tuple[str, str], ...] = (("size", "rows"), ("positives", "positive_rows"))
MODEL_METRICS: tuple[str, ...] = (
    "auc",
    "pr_auc",
    "brier",
    "calibration_error",
    "precision_at_k",
    "recall_at_k",
    "lift_at_k",
)
#: Sections of the card in order: (anchor, label key).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "summary"),
    ("model-details", "model_details"),
    ("intended-use", "intended_use"),
    ("factors", "factors"),
    ("training-data", "training_data"),
    ("evaluation-data", "evaluation_data"),
    ("performance", "performance"),
    ("fairness", "fairness"),
    ("gates", "gates"),
    ("proxy", "proxy"),
    ("mitigation", "mitigation"),
    ("data-validation", "data_validation"),
    ("features", "features"),
    ("explanations", "explanations"),
    ("ethical", "ethical_considerations"),
    ("caveats", "caveats"),
    ("approvals", "approval_history"),
)


@dataclass(frozen=True)
class CardFiles:
    """Paths of a rendered card (all inside ``directory``)."""

    directory: Path
    card_json: Path
    schema_json: Path
    markdown: Mapping[Lang, Path]
    html: Mapping[Lang, Path]
    plots: tuple[Path, ...]
    algoritmeregister: Path


def card_filename(stem: str, lang: Lang, suffix: str) -> str:
    """``card.md`` for Dutch (the default language), ``card.en.md`` for English."""
    return f"{stem}{suffix}" if lang == "nl" else f"{stem}.{lang}{suffix}"


def render_card(
    card: ModelCard,
    out_dir: Path,
    *,
    langs: Sequence[Lang] = LANGS,
    organisation: str = algoritmeregister.ORGANISATION_PLACEHOLDER,
    card_url: str | None = None,
    source_code_url: str | None = None,
    legal_basis_url: str | None = None,
) -> CardFiles:
    """Write the card's JSON, schema, Markdown, HTML, plots and Algoritmeregister entry into ``out_dir``.

    ``out_dir`` is the card folder itself (e.g. ``<bundle>/card``); an existing folder is replaced as a whole. The
    JSON is validated against the card's JSON schema before anything is written. The write is atomic: on any
    error ``out_dir`` is left as it was (absent, or the previous card) and no temporary folder remains.
    ``organisation``, ``card_url``, ``source_code_url`` and ``legal_basis_url`` only feed the Algoritmeregister
    entry.

    Raises
    ------
    ConfigError
        ``langs`` is empty or names a language other than ``"nl"`` and ``"en"``; or ``out_dir`` exists and is not a
        card folder (a file, or a folder with other things in it): it is never replaced.
    ModelBundleError
        The card's JSON does not match its schema (names every offending field).
    """
    languages = _check_langs(langs)
    _check_card_folder(out_dir)
    schema = card_json_schema()
    payload = card.model_dump(mode="json")
    validate_card_json(payload, source=CARD_JSON, schema=schema)

    files: dict[str, bytes] = {
        CARD_JSON: _json_bytes(payload),
        CARD_SCHEMA_JSON: _json_bytes(schema),
        ALGORITMEREGISTER_JSON: _json_bytes(
            algoritmeregister.algoritmeregister_entry(
                card,
                organisation=organisation,
                card_url=card_url,
                source_code_url=source_code_url,
                legal_basis_url=legal_basis_url,
            )
        ),
    }
    for lang in languages:
        card_plots = plots.card_plots(card, lang=lang)
        for plot in card_plots:
            files[f"{PLOTS_DIR}/{plot.filename}"] = plot.png
        files[card_filename("card", lang, ".md")] = render_markdown(card, card_plots, lang=lang).encode("utf-8")
        files[card_filename("card", lang, ".html")] = render_html(card, card_plots, lang=lang).encode("utf-8")

    out_dir = Path(out_dir)
    _write_atomically(out_dir, files)
    return CardFiles(
        directory=out_dir,
        card_json=out_dir / CARD_JSON,
        schema_json=out_dir / CARD_SCHEMA_JSON,
        markdown={lang: out_dir / card_filename("card", lang, ".md") for lang in languages},
        html={lang: out_dir / card_filename("card", lang, ".html") for lang in languages},
        plots=tuple(sorted(out_dir / name for name in files if name.startswith(f"{PLOTS_DIR}/"))),
        algoritmeregister=out_dir / ALGORITMEREGISTER_JSON,
    )


def load_card(path: Path) -> ModelCard:
    """Read a card from ``card.json`` or from the card folder that holds it.

    Raises :class:`ModelBundleError` when the file is missing, is not JSON, or does not match the card schema; the
    message names the file and every offending field.
    """
    path = Path(path)
    file = path / CARD_JSON if path.is_dir() else path
    if not file.is_file():
        raise ModelBundleError(f"{file}: {MSG_CARD_NOT_FOUND}")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelBundleError(f"{file}: {MSG_CARD_NOT_JSON} ({error})") from None
    validate_card_json(data, source=str(file))
    try:
        return ModelCard.model_validate(data)
    except ValidationError as error:
        # The JSON schema cannot express every rule (e.g. positives <= rows); pydantic names the rest.
        problems = [
            f"{'.'.join(str(part) for part in problem['loc']) or '(top level)'}: {problem['msg']}"
            for problem in error.errors()
        ]
        raise ModelBundleError(_problems_message(str(file), problems)) from None


def validate_card_json(data: Any, *, source: str = CARD_JSON, schema: Mapping[str, Any] | None = None) -> None:
    """Validate card JSON against the card schema, listing every problem with its field path.

    Raises :class:`ModelBundleError`, e.g. ``card.json does not match the model-card schema (1 problem):
    - (top level): 'performance' is a required property``.
    """
    validator = Draft202012Validator(schema if schema is not None else card_json_schema())
    errors = sorted(validator.iter_errors(data), key=lambda error: [str(part) for part in error.absolute_path])
    if errors:
        problems = [
            f"{'.'.join(str(part) for part in error.absolute_path) or '(top level)'}: {_shorten(error.message)}"
            for error in errors
        ]
        raise ModelBundleError(_problems_message(source, problems))


def _problems_message(source: str, problems: Sequence[str]) -> str:
    lines = [f"{source} {MSG_INVALID_CARD} ({len(problems)} problem{'s' if len(problems) != 1 else ''}):"]
    lines.extend(f"  - {problem}" for problem in problems)
    return "\n".join(lines)


def _shorten(message: str) -> str:
    # jsonschema quotes the offending instance, which can be a whole section; the path already says where.
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def _check_langs(langs: Sequence[str]) -> tuple[Lang, ...]:
    unknown = [lang for lang in langs if lang not in LANGS]
    if unknown:
        raise ConfigError(f"{MSG_UNKNOWN_LANG} {', '.join(repr(u) for u in unknown)} (allowed: {', '.join(LANGS)})")
    ordered = tuple(lang for lang in LANGS if lang in langs)
    if not ordered:
        raise ConfigError(MSG_NO_LANGS)
    return ordered


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def _write_atomically(out_dir: Path, files: Mapping[str, bytes]) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        for name, content in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _check_card_folder(out_dir: Path) -> None:
    """Refuse to replace anything but a card folder: a bundle, data or any other folder given as ``--out`` stays."""
    out_dir = Path(out_dir)
    if (out_dir.parent / "manifest.json").is_file():
        raise ConfigError(
            f"--out: '{out_dir}' is inside a model bundle; writing there would break the bundle's checksums"
        )
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise ConfigError(f"--out: '{out_dir}' is a file, not a folder; choose a folder for the card")
    if any(out_dir.iterdir()) and not (out_dir / "card.json").is_file():
        raise ConfigError(f"--out: folder '{out_dir}' holds no model card (no card.json); it is not replaced")


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    # A directory cannot be renamed onto a non-empty one, so an old card is moved aside first and restored if the
    # second rename fails.
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    retired.rmdir()
    os.replace(out_dir, retired)
    try:
        os.replace(staging, out_dir)
    except BaseException:
        os.replace(retired, out_dir)
        raise
    shutil.rmtree(retired, ignore_errors=True)


# --- HTML and Markdown ---------------------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    # Built once: templates are compiled on first use and shared by every render.
    environment = Environment(
        loader=PackageLoader("vroegsignaal.model_cards", "templates"),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters["md"] = _markdown_escape
    return environment


def render_html(card: ModelCard, card_plots: Sequence[CardPlot], *, lang: Lang) -> str:
    """The self-contained HTML page of the card in ``lang`` (plots embedded as base64 PNG)."""
    context = _context(card, card_plots, lang, image_source=_data_uri)
    return _environment().get_template("card.html.j2").render(context)


def render_markdown(card: ModelCard, card_plots: Sequence[CardPlot], *, lang: Lang) -> str:
    """The Markdown card in ``lang``; plots are linked as ``plots/<file>.png``."""
    context = _context(card, card_plots, lang, image_source=lambda plot: f"{PLOTS_DIR}/{plot.filename}")
    text = _environment().get_template("card.md.j2").render(context)
    return _collapse_blank_lines(text)


def _collapse_blank_lines(text: str) -> str:
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip() or (lines and lines[-1].strip()):
            lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"


def _data_uri(plot: CardPlot) -> str:
    return "data:image/png;base64," + base64.b64encode(plot.png).decode("ascii")


def _context(card: ModelCard, card_plots: Sequence[CardPlot], lang: Lang, *, image_source: Any) -> dict[str, Any]:
    fairness = card.fairness
    latest = card.approval_history[-1].to_status if card.approval_history else ModelStatus.CANDIDATE
    labels = {entry.name: entry.label(lang) for entry in card.features}
    plot_by_name = {plot.name: plot for plot in card_plots}
    single = [attribute for attribute in fairness.attributes if attribute.kind == "single"]
    expected = {"roc", "precision_recall", "calibration", "score_distribution", "importance"}
    expected |= {plots.group_plot_name(attribute) for attribute in single}

    def number(value: float | None, digits: int = 3) -> str:
        return texts.format_number(value, lang, digits=digits)

    def estimate(value: Estimate | None, *, judged: bool = True) -> str:
        """A value with its interval; a group too small to judge gets "too few" instead: its bootstrap interval
        collapses (one positive household gives a recall of "1.00 (1.00–1.00)") and would look certain."""
        if value is None:
            return texts.NOT_AVAILABLE[lang]
        if not judged and value.value is not None:
            return f"{number(value.value, 2)} ({texts.label('too_few', lang)})"
        return with_interval(value.value, value.ci_low, value.ci_high)

    def with_interval(value: float | None, low: float | None, high: float | None) -> str:
        return format_estimate(value, low, high, lang, missing=texts.NOT_AVAILABLE[lang])

    def lift_sentence(lift: float | None, other: str) -> str:
        if lift is None:
            return texts.NOT_AVAILABLE[lang]
        periods = texts.test_periods(card)
        key = "lift_explained" if periods > 1 else "lift_explained_one_period"
        return texts.label(key, lang).format(k=card.capacity.k, periods=periods, lift=number(lift, 2), other=other)

    return {
        "card": card,
        "d": card.model_details,
        "fairness": fairness,
        "lang": lang,
        "na": texts.NOT_AVAILABLE[lang],
        "sections": SECTIONS,
        "kinds": [kind for kind in MODEL_KINDS if kind in card.performance.models],
        "model_metrics": MODEL_METRICS,
        "mitigation_metrics": MITIGATION_METRICS,
        "mitigation_pairs": _mitigation_pairs(card),
        "features_by_importance": sorted(
            card.features, key=lambda entry: -1.0 if entry.importance is None else entry.importance, reverse=True
        ),
        "current_status": latest,
        "approved": latest in (ModelStatus.APPROVED, ModelStatus.CHAMPION),
        "plots": plot_by_name,
        "expected_plots": expected,
        "img": image_source,
        "t": lambda key: texts.label(key, lang),
        "text": lambda value: value.get(lang) if isinstance(value, LocalizedText) else str(value),
        "num": number,
        "count": lambda value: texts.format_count(value, lang),
        "est": estimate,
        "metric": lambda name, short=False: texts.metric_label(name, lang, short=short),
        "gate_metric": lambda name: texts.gate_metric_label(name, lang),
        "gate_text": lambda gate: texts.describe_gate(gate).get(lang),
        "gates_summary": texts.gates_summary,
        "unevaluated": lambda attribute: _unevaluated_groups(card, attribute),
        "gate_value": lambda gate: with_interval(gate.value, gate.ci_low, gate.ci_high),
        "proxy_auc": lambda check: with_interval(check.auc, check.ci_low, check.ci_high),
        "verdict_label": lambda verdict: texts.verdict_label(verdict, lang),
        "kind": lambda name: texts.model_kind_label(name, lang),
        "group": lambda attribute, value: texts.group_label(attribute.name, value, lang, columns=attribute.columns),
        "audit_group": lambda name, value: texts.group_label(name, value, lang),
        "unit": lambda unit: texts.unit_label(unit, lang),
        "comparison": lambda comparison: COMPARISON_SYMBOLS.get(comparison, comparison),
        "monotone": lambda direction: texts.MONOTONE_LABELS[direction][0 if lang == "nl" else 1],
        "yes_no": lambda flag: ("ja" if flag else "nee") if lang == "nl" else ("yes" if flag else "no"),
        "status": lambda status: ModelStatus(status).label(lang),
        "role": lambda role: Role(role).label(lang),
        "when": _format_datetime,
        "periods": lambda periods: _periods(periods, lang),
        "lift_sentence": lift_sentence,
        "feature_label": lambda name: labels.get(name, name),
        "group_tables": _group_tables,
        "count_columns": _count_columns,
        "households_repeat": _households_repeat,
        "gate_pairs": _gate_pairs,
        "difference_metrics": _difference_metrics,
        "after_group": _find_group,
        "plot_name": plots.group_plot_name,
    }


def _unevaluated_groups(card: ModelCard, attribute: AttributeResult) -> list[str]:
    """Groups of a single attribute that the data holds but the test rows do not: audited nowhere, so named."""
    if attribute.kind != "single":
        return []
    audited = {group.group for group in attribute.groups}
    known = next((a.groups for a in card.factors.audit_attributes if a.name == attribute.name), [])
    return [group for group in known if group not in audited]


def _group_tables(attribute: AttributeResult) -> list[tuple[str, list[str]]]:
    """The metrics of each per-group table that the attribute has; unknown metrics join the last table."""
    present: list[str] = []
    for group in attribute.groups:
        present.extend(metric for metric in group.metrics if metric not in present)
    tables = [(key, [metric for metric in metrics if metric in present]) for key, metrics in GROUP_TABLES]
    listed = {metric for _, metrics in GROUP_TABLES for metric in metrics}
    tables[-1][1].extend(metric for metric in present if metric not in listed)
    # The outreach table always shows: it carries the group sizes.
    return [tables[0], *[table for table in tables[1:] if table[1]]]


def _count_columns(attribute: AttributeResult) -> tuple[tuple[str, str], ...]:
    """The count columns of an attribute's group table: households, with the rows beside them if they differ.

    The committee must read how many people a group holds. Rows (household × period) are shown too when some
    household has rows in several periods, and alone in cards made before households were counted.
    """
    if any(group.households is None for group in attribute.groups):
        return ROW_COLUMNS
    if any(group.counts_rows for group in attribute.groups):
        return HOUSEHOLD_COLUMNS + ROW_COLUMNS
    return HOUSEHOLD_COLUMNS


def _households_repeat(attributes: Sequence[AttributeResult]) -> bool:
    """Whether some group's households have rows in several periods (then the card says what it counts)."""
    return any(len(_count_columns(attribute)) > len(ROW_COLUMNS) for attribute in attributes)


def _gate_pairs(mitigation: Mitigation) -> list[tuple[GateResult, GateResult | None]]:
    after = {(gate.attribute, gate.metric): gate for gate in mitigation.gates_after}
    return [(gate, after.get((gate.attribute, gate.metric))) for gate in mitigation.gates_before]


def _difference_metrics(attribute: AttributeResult) -> list[str]:
    return _in_order(list(dict.fromkeys([*attribute.differences, *attribute.ratios])))


def _in_order(metrics: Sequence[str]) -> list[str]:
    order = [metric for _, group_metrics in GROUP_TABLES for metric in group_metrics]
    known = [metric for metric in order if metric in metrics]
    return known + [metric for metric in metrics if metric not in order]


def _find_group(attribute: AttributeResult | None, group: str) -> GroupResult | None:
    if attribute is None:
        return None
    return next((candidate for candidate in attribute.groups if candidate.group == group), None)


def _mitigation_pairs(card: ModelCard) -> list[tuple[AttributeResult, AttributeResult | None]]:
    mitigation = card.fairness.mitigation
    if mitigation is None:
        return []
    after = {attribute.name: attribute for attribute in mitigation.after}
    return [(attribute, after.get(attribute.name)) for attribute in mitigation.before]


def _periods(periods: Sequence[str] | None, lang: Lang) -> str:
    if not periods:
        return texts.label("no_periods", lang)
    return f"{periods[0]} – {periods[-1]} ({len(periods)})"


def _format_datetime(moment: datetime) -> str:
    # ISO-like and unambiguous in both languages; the offset stays visible.
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip() or moment.isoformat()


_MARKDOWN_SPECIAL = str.maketrans({char: f"\\{char}" for char in "\\`*_[]<>|"})


def _markdown_escape(value: Any) -> str:
    """Plain text for a Markdown table cell or list item: special characters escaped, no line breaks."""
    return " ".join(str(value).split()).translate(_MARKDOWN_SPECIAL)
