"""The caseworker's pages: the outreach list, a household, recording a decision, and the objections register.

Each route calls the same domain function as its API endpoint (``list_outreach``, ``household_history``,
``record_decision``, ``add_objection``, ``withdraw_objection``), with the same roles and the same municipality and
team scope: those functions check the scope, so another municipality's household is "not found" here as well.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from vroegsignaal.errors import ConflictError, DataValidationError, NotFoundError
from vroegsignaal.schemas.api import MAX_CONTACT_ATTEMPTS, HouseholdHistoryResponse, ObjectionCreate
from vroegsignaal.schemas.enums import ContactKind, EndResult, PartnerType, PartOfDay, RiskBand
from vroegsignaal.schemas.tables import PSEUDONYM_PATTERN
from vroegsignaal.service.clock import dutch_today
from vroegsignaal.service.decisions import MSG_UNKNOWN_ITEM, CaseChangedError, record_decision
from vroegsignaal.service.deps import CASEWORKER_ROLES, ServicesDep, SessionDep
from vroegsignaal.service.households import household_history
from vroegsignaal.service.models import Household, ReviewItem
from vroegsignaal.service.objections import add_objection, list_objections, withdraw_objection
from vroegsignaal.service.outreach import list_outreach
from vroegsignaal.service.pages.deps import CaseworkerPage, FormData, QueuePage
from vroegsignaal.service.pages.forms import FieldError, FormState, errors_from_domain, errors_from_validation
from vroegsignaal.service.pages.household_view import (
    ADD_ATTEMPT_FIELD,
    ATTEMPT_ROWS_FIELD,
    CASE_VERSION_FIELD,
    PREFILLED_DATE_FIELD,
    REACHED_NO,
    REACHED_YES,
    attempt_rows_shown,
    default_decision_values,
    domain_message_key,
    intensity_options,
    options,
    open_item,
    parse_decision_form,
    partner_groups_shown,
    shows_model_advice,
    signal_timeline,
)
from vroegsignaal.service.pages.i18n import Translator
from vroegsignaal.service.pages.outreach_view import (
    OVERDUE_ON,
    OutreachFilters,
    filter_form,
    filter_items,
    neighbourhoods_of,
    parse_filters,
    reason_chips,
    sentences,
    week_capacity,
)
from vroegsignaal.service.pages.rendering import lang_of, render
from vroegsignaal.service.pages.routing import PageRoute
from vroegsignaal.service.pages.session import CsrfChecked
from vroegsignaal.service.routes.review_items import MAX_ID
from vroegsignaal.service.security import Caller

router = APIRouter(route_class=PageRoute, include_in_schema=False)

HouseholdPath = Annotated[str, Path(pattern=PSEUDONYM_PATTERN)]
FilterValue = Annotated[str | None, Query(max_length=64)]
#: The objections register: its page, and where its forms post.
OBJECTIONS_PATH = "/bezwaren"
#: The longest list the page shows; the API's own limit.
LIST_LIMIT = 1000
#: ``?notice=`` after a redirect → message key of the notice shown at the top of the page.
NOTICES: dict[str, str] = {
    "decision_saved": "notice.decision_saved",
    "objection_saved": "notice.objection_saved",
    "objection_withdrawn": "notice.objection_withdrawn",
}
#: The warning on a decision form refused because the case changed after the page showed it: nothing was saved.
CASE_CHANGED_KEY = "notice.case_changed"


def notice_key(notice: str | None) -> str | None:
    return NOTICES.get(notice or "")


def household_path(pseudonym: str) -> str:
    """The household page's address (a pseudonym matches ``PSEUDONYM_PATTERN``, so it needs no quoting)."""
    return f"/huishoudens/{pseudonym}"


def redirect(path: str, *, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'notice': notice})}", status_code=303)


# ---------------------------------------------------------------------------------------------------- outreach list


@router.get("/")
def outreach_page(
    request: Request,
    caller: QueuePage,
    services: ServicesDep,
    session: SessionDep,
    band: FilterValue = None,
    partner: FilterValue = None,
    overdue: FilterValue = None,
    neighbourhood: FilterValue = None,
    team: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = None,
    notice: FilterValue = None,
) -> Response:
    """The team's outreach list, in the service's order, with filters and this week's capacity."""
    outreach = list_outreach(
        session, caller=caller, team=team, settings=services.settings, now=services.now(), limit=LIST_LIMIT
    )
    filter_error: DataValidationError | None = None
    try:
        filters = parse_filters(band=band, partner=partner, overdue=overdue, neighbourhood=neighbourhood)
    except DataValidationError as exc:
        filters, filter_error = OutreachFilters(), exc
    lang = lang_of(request)
    t = Translator(lang)
    return render(
        request,
        "outreach.html.j2",
        caller=caller,
        status=422 if filter_error else 200,
        outreach=outreach,
        items=filter_items(outreach.items, filters),
        standard_items=filter_items(outreach.standard_approach, filters),
        filters=filters,
        form=filter_form(filters, filter_error),
        capacity=week_capacity(outreach, per_team=services.settings.weekly_capacity),
        all_teams=outreach.team == "*",
        chips={item.review_item_id: reason_chips(item, lang=lang)
               for item in (*outreach.items, *outreach.standard_approach)},
        band_options=options(RiskBand, t),
        partner_options=options(PartnerType, t),
        neighbourhood_options=[(code, code) for code in neighbourhoods_of(outreach)],
        overdue_on=OVERDUE_ON,
        open_households=caller.role in CASEWORKER_ROLES,
        notice_key=notice_key(notice),
    )


# -------------------------------------------------------------------------------------------------------- household


def _household_page(
    request: Request, caller: Caller, history: HouseholdHistoryResponse, *, today: dt.date, form: FormState,
    status: int = 200, warning_key: str | None = None,
) -> Response:
    item = open_item(history)
    latest = history.scores[-1] if history.scores else None
    lang = lang_of(request)
    t = Translator(lang)
    # A signal a correction replaced stays in the table, marked; the timeline shows the signals that count.
    counting = [signal for signal in history.signals if signal.replaced_by_signal_id is None]
    timeline = signal_timeline(counting, today=today)
    reasons = [reason.text_nl if lang == "nl" else reason.text_en for reason in latest.reasons] if latest else []
    return render(
        request,
        "household.html.j2",
        caller=caller,
        status=status,
        page_path=household_path(history.household_id),
        history=history,
        item=item,
        show_advice=shows_model_advice(item),
        latest=latest,
        reason_sentences=sentences(reasons),
        timeline=timeline,
        legend=partner_groups_shown(timeline),
        decisions=list(reversed(history.decisions)),
        form=form,
        attempt_rows=range(attempt_rows_shown(form.values)),
        attempt_rows_field=ATTEMPT_ROWS_FIELD,
        add_attempt_field=ADD_ATTEMPT_FIELD,
        max_attempts=MAX_CONTACT_ATTEMPTS,
        prefilled_date_field=PREFILLED_DATE_FIELD,
        case_version_field=CASE_VERSION_FIELD,
        reached_yes=REACHED_YES,
        reached_no=REACHED_NO,
        kind_options=options(ContactKind, t),
        part_options=options(PartOfDay, t),
        result_options=options(EndResult, t),
        intensity_options=intensity_options(item.suggested_intensity if item else None, t),
        today=today,
        warning_key=warning_key,
    )


def _default_form(history: HouseholdHistoryResponse, *, today: dt.date) -> FormState:
    item = open_item(history)
    return FormState(default_decision_values(today=today, suggested=item.suggested_intensity if item else None))


@router.get("/huishoudens/{household_id}")
def household_page(
    request: Request, household_id: HouseholdPath, caller: CaseworkerPage, services: ServicesDep, session: SessionDep
) -> Response:
    """A household: its signals over time, scores with versions, reasons, earlier contacts, and the decision form."""
    now = services.now()
    history = household_history(session, pseudonym=household_id, caller=caller, settings=services.settings, now=now)
    return _household_page(request, caller, history, today=dutch_today(now), form=_default_form(history, today=dutch_today(now)))


def _review_item_id(form: dict[str, str]) -> int:
    raw = form.get("review_item_id", "")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:  # isdigit() alone admits "²"
        # The form is ours; a missing or changed id is an item that is not there.
        raise NotFoundError(MSG_UNKNOWN_ITEM.format(item_id="?"))
    return int(raw)


def _item_of_household_or_raise(session: Session, *, item_id: int, household_id: str) -> None:
    """The form's item must be a case of the household in the address: a decision is never recorded on another
    household than the page showed (the decision itself checks municipality and team)."""
    with session.begin():  # its own short read: the decision opens the transaction that locks and writes
        pseudonym = session.scalar(
            select(Household.household_pseudonym)
            .join(ReviewItem, ReviewItem.household_id == Household.id)
            .where(ReviewItem.id == item_id)
        )
    if pseudonym != household_id:
        raise NotFoundError(MSG_UNKNOWN_ITEM.format(item_id=item_id))


@router.post("/huishoudens/{household_id}/beslissing", dependencies=[CsrfChecked])
def record_decision_page(
    request: Request,
    household_id: HouseholdPath,
    caller: CaseworkerPage,
    services: ServicesDep,
    session: SessionDep,
    form: FormData,
) -> Response:
    """Record the contact attempts and the end result; back to the list, which no longer shows the household.

    The "add an attempt" button posts the form too: it comes back with what was filled in and one more attempt
    row, and nothing is recorded."""
    item_id = _review_item_id(form)
    _item_of_household_or_raise(session, item_id=item_id, household_id=household_id)
    parsed = parse_decision_form(form)
    errors: dict[str, FieldError] = parsed.errors
    status, warning_key = 422, None
    if ADD_ATTEMPT_FIELD in form:
        errors, status = {}, 200
    elif parsed.request is not None:
        try:
            record_decision(
                session, item_id=item_id, request=parsed.request, caller=caller, settings=services.settings,
                now=services.now(),
            )
        except DataValidationError as exc:
            errors = errors_from_domain(exc, key_for=domain_message_key, rename=parsed.form_field)
        except CaseChangedError:
            # The page shows the case as it is now, with what was filled in; saving again decides on this version.
            status, warning_key = 409, CASE_CHANGED_KEY
            form = {name: value for name, value in form.items() if name != CASE_VERSION_FIELD}
        else:
            return redirect("/", notice="decision_saved")
    now = services.now()
    history = household_history(session, pseudonym=household_id, caller=caller, settings=services.settings, now=now)
    return _household_page(
        request, caller, history, today=dutch_today(now), form=FormState(form, errors), status=status,
        warning_key=warning_key,
    )


# ------------------------------------------------------------------------------------------------------- objections


def _objections_page(
    request: Request, caller: Caller, session: Session, *, today: dt.date, form: FormState, status: int = 200,
    notice: str | None = None,
) -> Response:
    objections = list_objections(session, caller=caller, include_withdrawn=True)
    return render(
        request,
        "objections.html.j2",
        caller=caller,
        status=status,
        page_path=OBJECTIONS_PATH,
        objections=objections,
        form=form,
        today=today,
        notice_key=notice_key(notice),
    )


@router.get(OBJECTIONS_PATH)
def objections_page(
    request: Request, caller: QueuePage, services: ServicesDep, session: SessionDep, notice: FilterValue = None
) -> Response:
    """The objections register of the caller's municipality, and a form to record a new objection."""
    today = dutch_today(services.now())
    form = FormState({"received_on": today.isoformat()})
    return _objections_page(request, caller, session, today=today, form=form, notice=notice)


@router.post(OBJECTIONS_PATH, dependencies=[CsrfChecked])
def record_objection_page(
    request: Request, caller: QueuePage, services: ServicesDep, session: SessionDep, form: FormData
) -> Response:
    """Record a resident's objection: the household is no longer scored and gets the standard approach."""
    today = dutch_today(services.now())
    values = {name: form.get(name, "").strip() for name in ("household_id", "received_on")}
    try:
        request_body = ObjectionCreate.model_validate(values)
        add_objection(session, request=request_body, caller=caller, settings=services.settings, now=services.now())
    except ValidationError as exc:
        errors = errors_from_validation(exc)
    except ConflictError:
        errors = {"household_id": FieldError("form.error.already_objected")}
    except DataValidationError:  # the one rule the register checks itself: not received after today
        errors = {"received_on": FieldError("form.error.future_date")}
    else:
        return redirect(OBJECTIONS_PATH, notice="objection_saved")
    return _objections_page(request, caller, session, today=today, form=FormState(values, errors), status=422)


@router.post("/bezwaren/{household_id}/intrekken", dependencies=[CsrfChecked])
def withdraw_objection_page(
    household_id: HouseholdPath, caller: QueuePage, services: ServicesDep, session: SessionDep
) -> Response:
    """Withdraw a resident's objection (it stays in the register as withdrawn)."""
    withdraw_objection(session, pseudonym=household_id, caller=caller, now=services.now())
    return redirect(OBJECTIONS_PATH, notice="objection_withdrawn")
