"""The oversight report: is human oversight real, and does the model help?

Per team: how often decisions on the model's advice departed from it (a share near zero is a warning sign of
automation bias; decisions on the standard approach had no model advice to depart from), the backlog and what is
overdue. Across teams: outcomes of the control sample (standard approach regardless of score) against the scored
households, the unbiased view of the model's lift. Aggregates only; no household data.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from vroegsignaal.schemas.api import GroupOutcome, OversightResponse, TeamOversight
from vroegsignaal.schemas.enums import HELP_ACCEPTED_RESULTS
from vroegsignaal.service.clock import dutch_today, start_of_dutch_day
from vroegsignaal.service.models import REACHED_RESIDENT, ContactAttempt, Decision, ReviewItem
from vroegsignaal.service.outreach import load_queue
from vroegsignaal.service.settings import Settings
from vroegsignaal.service.switches import current_ordering

MSG_AUTOMATION_BIAS = (
    "only {share:.1%} of {n} decisions on the model's advice departed from it: check that the advice is weighed, "
    "not followed"
)


def municipalities_with_work(session: Session) -> list[str]:
    """Municipality codes that have review items, for choosing one in the oversight page."""
    with session.begin():
        codes = session.scalars(
            select(ReviewItem.municipality_code).distinct().order_by(ReviewItem.municipality_code)
        )
        return list(codes)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def oversight_report(
    session: Session, *, municipality: str, since: dt.date, settings: Settings, now: dt.datetime
) -> OversightResponse:
    """The report for ``municipality`` over decisions since ``since``."""
    today = dutch_today(now)
    since_moment = start_of_dutch_day(since)
    # Only the model's advice can be followed blindly: a decision on the standard approach (the control sample, an
    # objection, the rule-based order, withdrawn advice) had no model advice to depart from, and counting it would
    # hide a team that follows the model every time, or make another look like one.
    advised = Decision.approach == "model"
    departed = Decision.departed_intensity | Decision.departed_order
    with session.begin():
        ordering, _ = current_ordering(session, municipality)
        per_team = session.execute(
            select(
                Decision.team,
                # Decisions whose advice an objection erased no longer tell whether they departed from it: counting
                # departed_intensity leaves out their empty one.
                func.count(case((advised, Decision.departed_intensity))),
                func.sum(case((advised & departed, 1), else_=0)),
                func.sum(case((advised & Decision.departed_intensity, 1), else_=0)),
                func.sum(case((advised & Decision.departed_order, 1), else_=0)),
            )
            .where(Decision.municipality_code == municipality, Decision.decided_at >= since_moment)
            .group_by(Decision.team)
        ).all()
        reached = (
            select(ContactAttempt.decision_id).where(REACHED_RESIDENT).distinct().scalar_subquery()
        )
        groups = session.execute(
            select(
                Decision.control_sample,
                func.count(),
                func.sum(case((Decision.id.in_(reached), 1), else_=0)),
                func.sum(case((Decision.end_result.in_([r.value for r in HELP_ACCEPTED_RESULTS]), 1), else_=0)),
            )
            .where(
                Decision.municipality_code == municipality,
                Decision.decided_at >= since_moment,
                advised | Decision.control_sample,
                # Under the rule-based order every household gets the standard approach: the control sample is then
                # no comparison, and its decisions would meet scored ones from other periods only.
                Decision.ordering.is_distinct_from("rule"),
            )
            .group_by(Decision.control_sample)
        ).all()
        view = load_queue(session, municipality=municipality, team=None, today=today, ordering=ordering,
                          settings=settings)
    backlog, overdue, held, standard = Counter(), Counter(), Counter(), Counter()
    for entry in view.listed:
        backlog[entry.payload[0].team] += 1
        overdue[entry.payload[0].team] += entry.overdue(today)
    for entry in view.standard:
        standard[entry.payload[0].team] += 1
        overdue[entry.payload[0].team] += entry.overdue(today)
    for entry in view.held_back:
        held[entry.payload[0].team] += 1
    decided: dict[str, tuple[int, int, int, int]] = defaultdict(lambda: (0, 0, 0, 0))
    for team, count, departures, by_intensity, by_order in per_team:
        decided[team] = (int(count), int(departures or 0), int(by_intensity or 0), int(by_order or 0))
    teams = sorted(set(decided) | set(backlog) | set(held) | set(standard))
    return OversightResponse(
        municipality_code=municipality,
        since=since,
        teams=[_team(team, decided[team], backlog[team], overdue[team], held[team], standard[team], settings)
               for team in teams],
        control_vs_scored=_groups(groups, min_decisions=settings.oversight_min_decisions),
    )


def _team(
    team: str, decided: tuple[int, int, int, int], backlog: int, overdue: int, held: int, standard: int,
    settings: Settings,
) -> TeamOversight:
    count, departures, by_intensity, by_order = decided
    share = _share(departures, count)
    warning = None
    if share is not None and count >= settings.oversight_min_decisions and share <= settings.automation_bias_share:
        warning = MSG_AUTOMATION_BIAS.format(share=share, n=count)
    return TeamOversight(
        team=team,
        decisions=count,
        departures=departures,
        departure_share=share,
        intensity_departures=by_intensity,
        order_departures=by_order,
        backlog=backlog,
        overdue=overdue,
        held_back=held,
        standard_approach=standard,
        warning=warning,
    )


def _groups(rows: list, *, min_decisions: int) -> list[GroupOutcome]:  # noqa: ANN001 - SQLAlchemy rows
    """Outcomes of the control sample and of the scored households; a group of fewer than ``min_decisions``
    decisions gets no shares (one control decision would read as 100%: too little to compare)."""
    by_group = {bool(control): (int(n), int(reached or 0), int(accepted or 0)) for control, n, reached, accepted in rows}
    result = []
    for control, name in ((True, "control_sample"), (False, "scored")):
        n, reached, accepted = by_group.get(control, (0, 0, 0))
        enough = n >= min_decisions
        result.append(
            GroupOutcome(
                group=name,
                decisions=n,
                reached_share=_share(reached, n) if enough else None,
                help_accepted_share=_share(accepted, n) if enough else None,
            )
        )
    return result
