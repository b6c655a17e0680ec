"""What the outreach-list page adds to the API's list: filters, this week's capacity, reason chips. Pure functions.

Filters only hide lines; every line keeps its position in the full list (``rank``), so a filtered list never
suggests another order than the real one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from vroegsignaal.errors import DataValidationError, ValidationFailure
from vroegsignaal.schemas.api import NEIGHBOURHOOD_PATTERN, OutreachItemPublic, OutreachListResponse
from vroegsignaal.schemas.enums import PartnerType, RiskBand
from vroegsignaal.service.pages.forms import FieldError, FormState

FILTER_TABLE = "filters"
MSG_BAD_FILTER = "the list's filters are not valid"
# Language-neutral: the page puts it into its own sentence ("possible: ..." / "mogelijk: ...").
CHECK_ONE_OF = "{values}"
CHECK_PATTERN = "{pattern}"
OVERDUE_ON = "1"
#: Message key of a filter value the list does not know, shown at that filter's field.
FILTER_ERROR_KEY = "outreach.filter_error_value"


@dataclass(frozen=True)
class OutreachFilters:
    """The filters of the outreach list; ``None`` (or ``False``) means "all"."""

    band: RiskBand | None = None
    partner: PartnerType | None = None
    overdue_only: bool = False
    neighbourhood: str | None = None

    @property
    def active(self) -> bool:
        return any((self.band, self.partner, self.overdue_only, self.neighbourhood))

    def matches(self, item: OutreachItemPublic) -> bool:
        return (
            (self.band is None or item.risk_band == self.band)
            and (self.partner is None or self.partner in item.partners)
            and (not self.overdue_only or item.overdue)
            and (self.neighbourhood is None or item.neighbourhood == self.neighbourhood)
        )


def _enum_or_failure(
    enum: type[RiskBand] | type[PartnerType], value: str, column: str, failures: list[ValidationFailure]
) -> RiskBand | PartnerType | None:
    if not value:
        return None
    try:
        return enum(value)
    except ValueError:
        check = CHECK_ONE_OF.format(values=", ".join(enum.values()))
        failures.append(ValidationFailure(FILTER_TABLE, column, check, 1, examples=(value,)))
        return None


def parse_filters(
    *, band: str | None, partner: str | None, overdue: str | None, neighbourhood: str | None
) -> OutreachFilters:
    """The filters of the page's query string (empty values mean "all").

    Raises
    ------
    DataValidationError
        Naming every filter with a value it does not know, and the values it would accept.
    """
    failures: list[ValidationFailure] = []
    chosen_band = _enum_or_failure(RiskBand, band or "", "band", failures)
    chosen_partner = _enum_or_failure(PartnerType, partner or "", "partner", failures)
    if overdue not in (None, "", OVERDUE_ON):
        failures.append(ValidationFailure(FILTER_TABLE, "overdue", CHECK_ONE_OF.format(values=OVERDUE_ON), 1,
                                          examples=(overdue,)))
    if neighbourhood and not re.fullmatch(NEIGHBOURHOOD_PATTERN, neighbourhood):
        failures.append(ValidationFailure(FILTER_TABLE, "neighbourhood",
                                          CHECK_PATTERN.format(pattern=NEIGHBOURHOOD_PATTERN), 1,
                                          examples=(neighbourhood,)))
    if failures:
        raise DataValidationError(failures, summary=MSG_BAD_FILTER)
    return OutreachFilters(
        band=chosen_band,  # type: ignore[arg-type]
        partner=chosen_partner,  # type: ignore[arg-type]
        overdue_only=overdue == OVERDUE_ON,
        neighbourhood=neighbourhood or None,
    )


def filter_form(filters: OutreachFilters, refused: DataValidationError | None = None) -> FormState:
    """The filter form as the list shows it: the filters in use (none after a refusal: the list then shows every
    line), and a message at each filter whose value the list does not know."""
    values = {
        "band": filters.band.value if filters.band else "",
        "partner": filters.partner.value if filters.partner else "",
        "neighbourhood": filters.neighbourhood or "",
        "overdue": OVERDUE_ON if filters.overdue_only else "",
    }
    failures = refused.failures if refused is not None else []
    errors = {
        failure.column: FieldError(FILTER_ERROR_KEY, {"value": failure.examples[0], "rule": failure.check})
        for failure in failures if failure.column
    }
    return FormState(values, errors)


def filter_items(items: Iterable[OutreachItemPublic], filters: OutreachFilters) -> list[OutreachItemPublic]:
    """The lines that pass every filter, in list order."""
    return [item for item in items if filters.matches(item)]


def neighbourhoods_of(outreach: OutreachListResponse) -> list[str]:
    """The neighbourhoods on the list (for the filter's choices), sorted."""
    items = (*outreach.items, *outreach.standard_approach)
    return sorted({item.neighbourhood for item in items if item.neighbourhood})


@dataclass(frozen=True)
class WeekCapacity:
    """This week's capacity of the list's team(s) and what is left of it; which lines still fit, per team."""

    per_week: int
    decided: int
    #: Per line (review item id): whether it fits in what is left of its team's capacity this week.
    fits: Mapping[int, bool] = field(default_factory=dict)
    #: What is left, summed over the teams (a team past its capacity leaves nothing for another); ``None``: one team.
    left_over_teams: int | None = None

    @property
    def remaining(self) -> int:
        return self.left_over_teams if self.left_over_teams is not None else max(self.per_week - self.decided, 0)

    def this_week(self, item: OutreachItemPublic) -> bool:
        """Whether ``item`` fits in what is left of its team's capacity this week."""
        return self.fits.get(item.review_item_id, False)


def week_capacity(outreach: OutreachListResponse, *, per_team: int | None = None) -> WeekCapacity:
    """The capacity of the list. On an all-teams list (an admin's) each team's lines count against that team's own
    capacity (``per_team``, the setting) and decisions, in the list's order: the whole list's rank against all
    teams' capacity marked too many lines of one team."""
    one_team = outreach.team != "*"
    per_team = outreach.capacity_per_week if one_team or per_team is None else per_team
    taken: dict[str, int] = {}
    fits: dict[int, bool] = {}
    for item in outreach.items:
        decided = outreach.decided_this_week if one_team else outreach.decided_this_week_by_team.get(item.team, 0)
        taken[item.team] = taken.get(item.team, 0) + 1
        fits[item.review_item_id] = taken[item.team] <= max(per_team - decided, 0)
    left = None
    if not one_team:
        teams = {item.team for item in outreach.items} | set(outreach.decided_this_week_by_team)
        left = sum(max(per_team - outreach.decided_this_week_by_team.get(team, 0), 0) for team in teams)
    return WeekCapacity(
        per_week=outreach.capacity_per_week, decided=outreach.decided_this_week, fits=fits, left_over_teams=left
    )


def reason_chips(item: OutreachItemPublic, *, lang: str, limit: int = 3) -> list[str]:
    """The top reasons of a line as short texts in ``lang`` (the scorer's own wording)."""
    return [reason.text_nl if lang == "nl" else reason.text_en for reason in item.reasons[:limit]]


def sentences(texts: Sequence[str]) -> list[str]:
    """Reasons as full sentences: a capital first letter and a full stop."""
    result = []
    for text in texts:
        text = text.strip()
        if not text:
            continue
        text = text[0].upper() + text[1:]
        result.append(text if text.endswith((".", "!", "?")) else f"{text}.")
    return result
