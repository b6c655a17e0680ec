"""The pages' words: one message catalogue per language (``locales/nl.json``, ``locales/en.json``), Dutch by default.

Templates never hold literal text: every sentence is a key, looked up with ``t("key", name=value)``. Dutch is
written at B1 level (short sentences, everyday words). Enumerations bring their own labels (``.nl`` / ``.en`` in
``schemas.enums``) and reasons their own sentences (``text_nl`` / ``text_en`` from the scorer), so those are not in
the catalogue. ``tests/pages/test_i18n.py`` proves both catalogues have the same keys and the templates use only
those.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal, TypeGuard

from vroegsignaal.schemas.enums import LabelledEnum

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")
DEFAULT_LANG: Lang = "nl"

MSG_MISSING_KEY = "message key {key!r} is not in the {lang} catalogue"
MSG_MISSING_PARAMETER = "message {key!r} needs the parameter {name!r}"


def is_lang(value: object) -> TypeGuard[Lang]:
    return value in LANGS


@lru_cache(maxsize=len(LANGS))
def load_catalogue(lang: Lang) -> Mapping[str, str]:
    """The catalogue of ``lang``: message key → text (``str.format`` fields for parameters)."""
    text = resources.files(__package__).joinpath("locales", f"{lang}.json").read_text(encoding="utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class Translator:
    """Looks up messages of one language; templates call it as ``t("key", count=3)``."""

    lang: Lang

    @property
    def messages(self) -> Mapping[str, str]:
        return load_catalogue(self.lang)

    def __call__(self, key: str, **params: object) -> str:
        try:
            template = self.messages[key]
        except KeyError:
            raise KeyError(MSG_MISSING_KEY.format(key=key, lang=self.lang)) from None
        try:
            return template.format(**params)
        except KeyError as exc:
            raise KeyError(MSG_MISSING_PARAMETER.format(key=key, name=exc.args[0])) from None

    def has(self, key: str) -> bool:
        return key in self.messages

    def label(self, member: LabelledEnum | None) -> str:
        """An enumeration member's label in this language (empty for ``None``)."""
        return "" if member is None else member.label(self.lang)

    def pick(self, nl: str, en: str) -> str:
        """Of a Dutch and an English text (a reason, a card sentence), the one in this language."""
        return nl if self.lang == "nl" else en
