"""Rendering a page: the Jinja2 environment, what every page's layout needs, and the response headers.

The layout (``templates/base.html.j2``) has a skip link, the ``lang`` attribute, a header with the user's role and
municipality, the language switch, the navigation of the user's role and, first in the main content, the banners:
rule-based fallback active, no model loaded, unapproved model (demo) and demo mode. Pages are never cached (they
hold household data) and carry a strict Content-Security-Policy: only our own stylesheet, script and forms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import anyio
import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import literal, select
from sqlalchemy.exc import DBAPIError

from vroegsignaal.schemas.catalogue import FEATURE_CATALOGUE
from vroegsignaal.schemas.enums import AgeBand, Gender, LabelledEnum, ModelStatus, Origin, Role
from vroegsignaal.service.db import transaction
from vroegsignaal.service.deps import ALL_ROLES, OVERSIGHT_ROLES, QUEUE_ROLES
from vroegsignaal.service.pages import formatting
from vroegsignaal.service.pages.forms import field_id
from vroegsignaal.service.pages.i18n import DEFAULT_LANG, Lang, Translator, is_lang
from vroegsignaal.service.pages.session import (
    LANG_COOKIE,
    SIGN_IN_PATH,
    csrf_token_for,
    local_path_or_none,
    session_token,
)
from vroegsignaal.service.security import Caller, InvalidTokenError
from vroegsignaal.service.serving import DEMO_MODE, DEMO_UNAPPROVED, Services
from vroegsignaal.service.switches import current_ordering

#: Audit attributes whose groups are enumeration values with a label.
AUDIT_ENUMS: Mapping[str, type[LabelledEnum]] = {"age_band": AgeBand, "gender": Gender, "origin": Origin}
COMPARISON_SIGNS: Mapping[str, str] = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}
#: Who the service records as the actor of what it does by itself (registering a bundle it found).
SYSTEM_ACTOR = "system"
#: Methods that only read: a page asked for with one of these can be asked for again at the same address.
READ_METHODS = frozenset({"GET", "HEAD"})
PAGE_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavItem:
    key: str
    href: str
    roles: frozenset[Role]


#: The navigation; each item shows only to the roles that may open it (the same sets as the API).
NAVIGATION: tuple[NavItem, ...] = (
    NavItem("nav.outreach", "/", QUEUE_ROLES),
    NavItem("nav.objections", "/bezwaren", QUEUE_ROLES),
    NavItem("nav.models", "/modellen", ALL_ROLES),
    NavItem("nav.oversight", "/toezicht", OVERSIGHT_ROLES),
)


def home_path(role: Role) -> str:
    """Where a role lands after signing in: the first page of its navigation."""
    return next(item.href for item in NAVIGATION if role in item.roles)


def lang_of(request: Request) -> Lang:
    """The reader's language: their choice (cookie), else Dutch."""
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if is_lang(chosen) else DEFAULT_LANG


def language_return_path(request: Request, *, caller: Caller | None, page_path: str | None = None) -> str:
    """Where the language switch goes back to: the page itself when it was asked for with GET. A page rendered in
    answer to a form (a refused POST) returns to ``page_path``, its GET address, because the form's own address
    answers only POST; without one, to the reader's first page. Always a path on this site."""
    if request.method in READ_METHODS:
        page_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return local_path_or_none(page_path) or (home_path(caller.role) if caller is not None else SIGN_IN_PATH)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one Jinja2 environment: templates from the package, always escaped, undefined names are errors."""
    folder = resources.files("vroegsignaal.service").joinpath("templates")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["field_id"] = field_id
    return env


class Formatter:
    """The functions of :mod:`formatting` bound to the reader's language (``f.date(...)`` in templates)."""

    def __init__(self, t: Translator) -> None:
        self._t = t

    def date(self, value: dt.date | None) -> str:
        return formatting.format_date(value, self._t)

    def datetime(self, value: dt.datetime | None) -> str:
        return formatting.format_datetime(value, self._t)

    def money(self, value: float | None) -> str:
        return formatting.format_money(value, self._t)

    def number(self, value: float | None, decimals: int = 0) -> str:
        return formatting.format_number(value, self._t, decimals=decimals)

    def percent(self, value: float | None, decimals: int = 0) -> str:
        return formatting.format_percent(value, self._t, decimals=decimals)

    def chance(self, value: float | None) -> str:
        return formatting.format_chance(value, self._t)

    def estimate(self, value: float | None, low: float | None = None, high: float | None = None) -> str:
        return formatting.format_estimate(value, low, high, self._t)

    def short_id(self, pseudonym: str) -> str:
        return formatting.short_id(pseudonym)

    def role(self, value: str) -> str:
        """A role as stored with an event; the service itself acts as "system"."""
        if value in Role.values():
            return self._t.label(Role(value))
        return self._t("role.system") if value == SYSTEM_ACTOR else value

    def actor(self, actor: str, role: str) -> str:
        """Who made a move: "user-7 (lid ethische commissie)", or just "systeem" for the service itself."""
        return self.role(role) if actor == SYSTEM_ACTOR else f"{actor} ({self.role(role)})"

    def status(self, value: str | None) -> str:
        return self._t.label(ModelStatus(value)) if value in ModelStatus.values() else formatting.EMPTY

    def _known(self, key: str, fallback: str) -> str:
        return self._t(key) if self._t.has(key) else fallback

    def attribute(self, name: str) -> str:
        """An audit attribute's name (``origin`` → herkomst); unknown names (a custom data set's) as they are."""
        return self._known(f"attribute.{name}", name)

    def group(self, attribute: str, value: str) -> str:
        """A group of an audit attribute in words (``outside_europe`` → herkomst buiten Europa)."""
        enum = AUDIT_ENUMS.get(attribute)
        return self._t.label(enum(value)) if enum is not None and value in enum.values() else value

    def metric(self, name: str) -> str:
        """A metric or gate name of the card in words (``recall_ratio``); unknown names as they are."""
        return self._known(f"metric.{name}", name)

    def feature(self, name: str) -> str:
        """A model feature's label from the feature catalogue; unknown names as they are."""
        spec = FEATURE_CATALOGUE.get(name)
        return (spec.label_nl if self._t.lang == "nl" else spec.label_en) if spec is not None else name

    @staticmethod
    def comparison(symbol: str) -> str:
        return COMPARISON_SIGNS.get(symbol, symbol)


def banners(services: Services, caller: Caller | None) -> list[str]:
    """Message keys of the banners every page shows now (see the module docstring); the ordering is the one of the
    caller's municipality (a role without one sees no ordering banner)."""
    keys: list[str] = []
    municipality = caller.municipality if caller is not None else None
    ordering: str | None = None
    try:
        with transaction(services.sessions) as session:
            if municipality is not None:
                ordering, _ = current_ordering(session, municipality)
            else:
                session.execute(select(literal(1)))  # an outage shows on every page, whoever reads it
    except DBAPIError:
        ordering = None
        keys.append("banner.database_unavailable")
    if ordering == "rule":
        keys.append("banner.rule_fallback")
    elif services.holder.current is None:
        keys.append("banner.no_model")
    demo = services.demo_state()
    if demo == DEMO_UNAPPROVED:
        keys.append("banner.unapproved_model")
    elif demo == DEMO_MODE:
        keys.append("banner.demo_mode")
    return keys


def services_of(request: Request) -> Services:
    return request.app.state.services


#: How long a page that also shows to readers who are not signed in waits for the identity provider's key set.
READER_WAIT_SECONDS = 1.0


async def caller_or_none(request: Request) -> Caller | None:
    """The signed-in caller, or ``None`` (for pages that also show to people who are not signed in). The token is
    checked as on every other page: one that needs the identity provider's key set is checked off the event loop,
    so an error page knows its reader too and shows their navigation, not a way back to signing in. But such a
    page waits for the provider :data:`READER_WAIT_SECONDS` at most, then shows as to a reader not signed in: an
    error page must answer while the provider is slow or silent, and anyone can send a token that needs a fetch."""
    token = session_token(request)
    if token is None:
        return None
    with anyio.move_on_after(READER_WAIT_SECONDS):
        try:
            return await services_of(request).verifier.verify_off_the_loop(token)
        except InvalidTokenError:
            return None
    return None


def render(
    request: Request,
    template: str,
    *,
    caller: Caller | None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    page_path: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` inside the layout for ``caller`` (``None`` on the sign-in and error pages).

    ``page_path`` is the page's GET address, for a page rendered in answer to a form (see
    :func:`language_return_path`)."""
    t = Translator(lang_of(request))
    token = session_token(request)
    html = environment().get_template(template).render(
        t=t,
        f=Formatter(t),
        lang=t.lang,
        caller=caller,
        csrf_token=csrf_token_for(token) if token and caller is not None else "",
        banners=banners(services_of(request), caller),
        navigation=[item for item in NAVIGATION if caller is not None and caller.role in item.roles],
        current_path=request.url.path,
        language_return=language_return_path(request, caller=caller, page_path=page_path),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})
