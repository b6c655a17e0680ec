"""The message catalogues: Dutch and English complete and in step, every key the pages use exists, templates hold
no literal text and draw their fields with the shared macros, and what a caseworker reads is written in short
sentences."""

from __future__ import annotations

import re
import string
from html.parser import HTMLParser
from importlib import resources
from typing import get_args

import pytest

from vroegsignaal.schemas.api import GroupOutcome, StandardReason
from vroegsignaal.schemas.card import MODEL_KINDS, GateResult, ProxyCheck
from vroegsignaal.service.pages.auth import SIGN_IN_REASONS
from vroegsignaal.service.pages.caseworker import CASE_CHANGED_KEY
from vroegsignaal.service.pages.caseworker import NOTICES as CASEWORKER_NOTICES
from vroegsignaal.service.pages.forms import DEFAULT_MESSAGE_KEY, FREE_TEXT_MESSAGE_KEYS, PYDANTIC_MESSAGE_KEYS
from vroegsignaal.service.pages.household_view import ATTEMPT_FIELDS, domain_message_key
from vroegsignaal.service.pages.i18n import LANGS, MSG_MISSING_KEY, Translator, load_catalogue
from vroegsignaal.service.pages.model_view import Direction, metric_lines
from vroegsignaal.service.pages.models import NOTICES as MODEL_NOTICES
from vroegsignaal.service.pages.outreach_view import FILTER_ERROR_KEY
from vroegsignaal.service.pages.rendering import NAVIGATION
from vroegsignaal.service.pages.routing import CSRF_KEY, ERROR_KEYS, ERROR_KEYS_BY_KIND
from vroegsignaal.schemas.tables import AuditSchema
from vroegsignaal.service.decisions import (
    CHECK_REASON_REQUIRED,
    MSG_ATTEMPT_BEFORE_CASE,
    MSG_ATTEMPT_IN_FUTURE,
    MSG_RESULT_CONTRADICTS_CONTACT,
    MSG_RESULT_NEEDS_ATTEMPT,
    MSG_RESULT_NEEDS_CONTACT,
)
from vroegsignaal.training.fairness_gates import CALIBRATION_GATE, PROXY_GATE, RATIO_GATES
from vroegsignaal.training.fairness_metrics import DECISION_METRICS, RANKING_METRICS

TEMPLATES = resources.files("vroegsignaal.service").joinpath("templates")
_KEY_CALL = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.]+)["']""")
_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
_ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')
_ATTRIBUTES_ONLY = re.compile(rf"(\s*{_ATTRIBUTE.pattern})+\s*")
#: Attributes whose values a person reads (or hears).
_READ_ATTRIBUTES = frozenset({"title", "alt", "aria-label", "placeholder", "aria-description"})
#: The template of the shared macros, and a field a template writes itself (a hidden input is no field).
MACROS = "_macros.html.j2"
_OWN_FIELD = re.compile(r'<(?:select|textarea)\b|<input\b(?![^>]*type="hidden")')
#: Keys built in templates from a prefix and a value; each prefix with every value it can take.
DYNAMIC_KEYS: dict[str, list[str]] = {
    "error.title.": [*map(str, ERROR_KEYS), "other"],
    "verdict.": sorted(set(get_args(GateResult.model_fields["verdict"].annotation))
                       | set(get_args(ProxyCheck.model_fields["verdict"].annotation))),
    "outreach.standard_reason.": list(get_args(StandardReason)),
    "household.standard.": list(get_args(StandardReason)),
    "month.": [str(month) for month in range(1, 13)],
    "month.short.": [str(month) for month in range(1, 13)],
    "decision.attempt.": list(ATTEMPT_FIELDS),
    "card.model_kind.": list(MODEL_KINDS),
    "compare.version_": ["1", "2"],
    "compare.better.": list(get_args(Direction)),
    "oversight.group.": list(get_args(GroupOutcome.model_fields["group"].annotation)),
}
#: Message keys that caseworkers read (the committee's pages may name a metric in brackets).
CASEWORKER_PREFIXES = ("outreach.", "household.", "decision.", "objections.", "sign_in.", "banner.", "notice.",
                       "error.", "form.", "layout.")
MAX_WORDS_PER_SENTENCE = 20
#: The formal address ("u", "uw"): the Dutch pages address their reader as "je" and "jouw", as docs/pages.md does.
FORMAL_ADDRESS = re.compile(r"\b(?:u|uw|uzelf)\b", re.IGNORECASE)
AUDIT_COLUMNS = [
    name for name in AuditSchema.to_schema().columns if name not in ("household_id", "municipality_code")
]


def _templates() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in TEMPLATES.iterdir() if path.name.endswith(".j2")}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _keys_used_by_code() -> set[str]:
    keys = {item.key for item in NAVIGATION} | set(SIGN_IN_REASONS.values()) | set(ERROR_KEYS.values())
    keys |= set(CASEWORKER_NOTICES.values()) | set(MODEL_NOTICES.values()) | set(PYDANTIC_MESSAGE_KEYS.values())
    keys |= {key for _, key in FREE_TEXT_MESSAGE_KEYS} | {key for _, key in ERROR_KEYS_BY_KIND}
    keys |= {CASE_CHANGED_KEY, CSRF_KEY, DEFAULT_MESSAGE_KEY, FILTER_ERROR_KEY, "form.error.already_objected", "decision.advised",
             "role.system"}
    keys |= {domain_message_key(CHECK_REASON_REQUIRED), domain_message_key(MSG_ATTEMPT_IN_FUTURE.format(today="x"))}
    keys |= {domain_message_key(MSG_ATTEMPT_BEFORE_CASE.format(first="x")),
             domain_message_key(MSG_RESULT_CONTRADICTS_CONTACT.format(result="x", index=0)),
             domain_message_key(MSG_RESULT_NEEDS_CONTACT.format(result="x")),
             domain_message_key(MSG_RESULT_NEEDS_ATTEMPT.format(result="x"))}
    keys |= {line.key for line in metric_lines([None])}
    keys |= {f"banner.{name}" for name in ("rule_fallback", "no_model", "unapproved_model", "demo_mode",
                                          "database_unavailable")}
    keys |= {f"sign_in.error.{name}" for name in ("empty", "expired", "invalid", "too_long")}
    keys |= {"format.date", "format.datetime"} | {f"month.{month}" for month in range(1, 13)}
    # Names from the model card that the pages put in words (others are shown as they are).
    keys |= {f"attribute.{column}" for column in AUDIT_COLUMNS}
    keys |= {f"metric.{name}" for name in (*DECISION_METRICS, *RANKING_METRICS)}
    keys |= {f"metric.{name}" for _, name in RATIO_GATES.values()} | {f"metric.{CALIBRATION_GATE[1]}"}
    keys |= {f"metric.{PROXY_GATE}"}
    return keys


def test_dutch_and_english_have_the_same_keys():
    dutch, english = (set(load_catalogue(lang)) for lang in LANGS)
    assert dutch - english == set(), "keys missing in English"
    assert english - dutch == set(), "keys missing in Dutch"


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_is_written(lang):
    empty = [key for key, text in load_catalogue(lang).items() if not text.strip()]
    assert empty == []


def test_both_languages_take_the_same_parameters():
    dutch, english = (load_catalogue(lang) for lang in LANGS)
    different = {key: (_placeholders(dutch[key]), _placeholders(english[key]))
                 for key in dutch if _placeholders(dutch[key]) != _placeholders(english[key])}
    assert different == {}


def test_every_key_the_templates_and_the_code_use_exists():
    catalogue = set(load_catalogue("nl"))
    used: set[str] = set()
    for text in _templates().values():
        for key in _KEY_CALL.findall(text):
            used |= {key + value for value in DYNAMIC_KEYS[key]} if key in DYNAMIC_KEYS else {key}
    used |= _keys_used_by_code()
    assert sorted(used - catalogue) == []


def test_every_key_in_the_catalogue_is_used():
    used = set(_keys_used_by_code())
    for text in _templates().values():
        for key in _KEY_CALL.findall(text):
            used |= {key + value for value in DYNAMIC_KEYS[key]} if key in DYNAMIC_KEYS else {key}
    assert sorted(set(load_catalogue("nl")) - used) == []


class _VisibleText(HTMLParser):
    """Collects the text a reader sees: text nodes and readable attributes (Jinja already removed)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self.found.extend(value for name, value in attrs if name in _READ_ATTRIBUTES and value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if _ATTRIBUTES_ONLY.fullmatch(data):
            # A macro writing attributes into the tag it is called in: markup, but its readable ones count.
            self.handle_starttag("attributes", _ATTRIBUTE.findall(data))
        else:
            self.found.append(data)


@pytest.mark.parametrize("name", sorted(_templates()))
def test_template_holds_no_literal_text(name):
    parser = _VisibleText()
    parser.feed(_JINJA.sub(" ", _templates()[name]))
    literal = [text.strip() for text in parser.found if re.search(r"[^\W\d_]", text)]
    assert literal == [], f"{name} shows text that is not in the catalogue"


@pytest.mark.parametrize("name", sorted(set(_templates()) - {MACROS}))
def test_template_draws_its_fields_with_the_shared_macros(name):
    """A field's label, hint, message and their ties (``aria-describedby``, ``aria-invalid``) come from one place."""
    assert _OWN_FIELD.findall(_templates()[name]) == []


def test_missing_key_is_an_error_naming_the_key():
    with pytest.raises(KeyError, match=re.escape(MSG_MISSING_KEY.format(key="no.such.key", lang="en"))):
        Translator("en")("no.such.key")


@pytest.mark.parametrize("lang", LANGS)
def test_what_a_caseworker_reads_is_in_short_sentences(lang):
    long_sentences = []
    for key, text in load_catalogue(lang).items():
        if not key.startswith(CASEWORKER_PREFIXES):
            continue
        for sentence in re.split(r"(?<=[.!?:])\s+", text):
            if len(sentence.split()) > MAX_WORDS_PER_SENTENCE:
                long_sentences.append((key, sentence))
    assert long_sentences == []


def test_the_dutch_pages_address_their_reader_as_je_throughout():
    formal = {key: text for key, text in load_catalogue("nl").items() if FORMAL_ADDRESS.search(text)}
    assert formal == {}
