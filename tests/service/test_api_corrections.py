"""A signal partner corrects a signal: the correction replaces it, and only the correction counts from then on."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.service.conftest import OTHER_TEAM, TODAY, auth, batch, household, row_counts, signal, spoken_to
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.decisions import MSG_ATTEMPT_BEFORE_CASE, MSG_CASE_CHANGED
from vroegsignaal.service.models import AuditRecord, ReviewItem, Signal

CASEWORKER = auth(Role.CASEWORKER)
ADMIN = auth(Role.ADMIN)


def _post(client, *households):  # noqa: ANN001, ANN202
    return client.post("/v1/scores", json=batch(*households), headers=CASEWORKER)


#: A decision that the signal needed no help: nobody was reached, so no cooldown starts.
NOT_NEEDED = {"end_result": "unjustified_signal", "chosen_intensity": "letter", "contact_attempts": [],
              "departure_reason": "paid before we wrote"}


def _decide(client, item_id: int, **changes):  # noqa: ANN001, ANN003, ANN202
    return client.post(f"/v1/review-items/{item_id}/decisions", headers=CASEWORKER, json={**NOT_NEEDED, **changes})


def _arrears(engine, item_id: int) -> float:  # noqa: ANN001
    with engine.connect() as connection:
        return connection.execute(select(ReviewItem.total_arrears_eur).where(ReviewItem.id == item_id)).scalar_one()


def test_a_correction_replaces_the_wrong_amount_on_the_open_case(client, engine):
    wrong = _post(client, household("hh_typo_000000001", signal("s-1", amount=15_000.0)))
    item_id = wrong.json()["results"][0]["review_item_id"]
    assert _arrears(engine, item_id) == 15_000.0
    correction = {**signal("s-1-corr", amount=1_500.0), "replaces_signal_id": "s-1"}
    fixed = _post(client, household("hh_typo_000000001", correction))
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["results"][0]["review_item_id"] == item_id  # the same case, now with the right figure
    assert _arrears(engine, item_id) == 1_500.0
    history = client.get("/v1/households/hh_typo_000000001", headers=CASEWORKER).json()
    marks = {s["signal_id"]: (s["replaces_signal_id"], s["replaced_by_signal_id"]) for s in history["signals"]}
    assert marks == {"s-1": (None, "s-1-corr"), "s-1-corr": ("s-1", None)}
    # The correction sent again is a resend; the replaced signal sent again changes nothing either.
    before = row_counts(engine)
    assert _post(client, household("hh_typo_000000001", correction)).status_code == 200
    assert _post(client, household("hh_typo_000000001", signal("s-1", amount=15_000.0))).status_code == 200
    assert row_counts(engine)["signals"] == before["signals"]
    assert _arrears(engine, item_id) == 1_500.0


def test_a_correction_counts_like_a_new_signal_for_urgency_and_never_takes_one_back(client):
    # A crisis signal whose amount is corrected: the case stays urgent (the caseworker sees the replaced signal
    # marked). A correction that adds a missing crisis flag makes the case urgent, like any crisis signal.
    first = _post(client, household("hh_typo_000000002", signal("s-2", days_ago=2, crisis=True))).json()["results"][0]
    correction = {**signal("s-2-corr", days_ago=5, amount=900.0), "replaces_signal_id": "s-2"}
    fixed = _post(client, household("hh_typo_000000002", correction)).json()["results"][0]
    assert "crisis" in {flag["flag"] for flag in fixed["review_flags"]} and fixed["deadline"] == first["deadline"]
    plain = _post(client, household("hh_typo_000000005", signal("s-5", days_ago=2))).json()["results"][0]
    assert "crisis" not in {flag["flag"] for flag in plain["review_flags"]}
    added = {**signal("s-5-corr", days_ago=2, crisis=True), "replaces_signal_id": "s-5"}
    urgent = _post(client, household("hh_typo_000000005", added)).json()["results"][0]
    assert urgent["review_item_id"] == plain["review_item_id"]
    assert "crisis" in {flag["flag"] for flag in urgent["review_flags"]}
    assert urgent["deadline"] == "2026-03-09"  # three working days from Wednesday 4 March


def _listed(client) -> dict[str, dict]:  # noqa: ANN001
    return {item["household_id"]: item for item in client.get("/v1/outreach", headers=CASEWORKER).json()["items"]}


def test_a_correction_of_a_wrongly_early_signal_date_moves_the_cases_first_signal_date(client, clock):
    # The rent signal was dated 200 days back by mistake: the case led the oldest-signal-first order on that date.
    # Its correction (5 days back) leaves the water signal of 20 days back as the case's first signal still in force.
    client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model under review"}, headers=ADMIN)
    _post(client, household("hh_typo_000000009", signal("s-9", days_ago=200), signal("s-10", partner="water",
                                                                                        days_ago=20)))
    _post(client, household("hh_waiting_000009", signal("s-11", days_ago=60)))
    seen = _listed(client)
    assert list(seen) == ["hh_typo_000000009", "hh_waiting_000009"]
    assert seen["hh_typo_000000009"]["first_signal_date"] == str(TODAY - dt.timedelta(days=200))
    clock.advance(minutes=5)
    correction = {**signal("s-9-corr", days_ago=5), "replaces_signal_id": "s-9"}
    assert _post(client, household("hh_typo_000000009", correction)).status_code == 200
    now = _listed(client)
    assert list(now) == ["hh_waiting_000009", "hh_typo_000000009"]
    corrected, before = now["hh_typo_000000009"], seen["hh_typo_000000009"]
    assert corrected["first_signal_date"] == str(TODAY - dt.timedelta(days=20))
    # The deadline counts from the day the municipality received the first signal, not from its date: unchanged.
    assert corrected["deadline"] == before["deadline"] and not corrected["overdue"]
    # A caseworker deciding on the case as it was before the correction is told it changed.
    assert corrected["updated_at"] != before["updated_at"]
    stale = _decide(client, before["review_item_id"], chosen_intensity=before["suggested_intensity"],
                    case_updated_at=before["updated_at"])
    assert stale.status_code == 409
    assert stale.json()["detail"] == MSG_CASE_CHANGED.format(
        item_id=before["review_item_id"], updated_at=clock.now.isoformat(),
        seen=dt.datetime.fromisoformat(before["updated_at"]).isoformat(),
    )


def test_an_attempt_made_before_a_correction_dated_the_case_later_can_still_be_recorded(client, clock):
    # The case came in today on a signal dated 30 days back; the caseworker called two days later; then the partner
    # corrected the signal's date to five days from now. The call was still an attempt of this case.
    opened = _post(client, household("hh_called_000001", signal("s-20", days_ago=30))).json()["results"][0]
    clock.advance(days=10)
    correction = {**signal("s-20-corr", days_ago=-5), "replaces_signal_id": "s-20"}
    assert _post(client, household("hh_called_000001", correction)).status_code == 200
    called = {**spoken_to(on=TODAY + dt.timedelta(days=2)), "reached": False}
    too_early = {**called, "attempted_on": (TODAY - dt.timedelta(days=1)).isoformat()}
    refused = _decide(client, opened["review_item_id"], end_result="no_contact_possible",
                      contact_attempts=[too_early, called])
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["contact_attempts.0.attempted_on"]
    assert MSG_ATTEMPT_BEFORE_CASE.format(first=TODAY) in refused.json()["detail"]
    recorded = _decide(client, opened["review_item_id"], end_result="no_contact_possible", contact_attempts=[called])
    assert recorded.status_code == 201, recorded.text


def test_a_correction_on_an_open_case_leaves_out_the_signals_its_closed_case_handled(client, clock):
    handled = _post(client, household("hh_typo_000000012", signal("s-20", days_ago=90))).json()["results"][0]
    assert _decide(client, handled["review_item_id"]).status_code == 201
    clock.advance(days=1)
    _post(client, household("hh_typo_000000012", signal("s-21", partner="water", days_ago=30),
                            signal("s-22", partner="energy", days_ago=10)))
    clock.advance(minutes=5)
    _post(client, household("hh_typo_000000012", {**signal("s-21-corr", partner="water", days_ago=8),
                                                  "replaces_signal_id": "s-21"}))
    # The energy signal is the oldest the open case holds; the rent signal of 90 days back was the closed case's.
    assert _listed(client)["hh_typo_000000012"]["first_signal_date"] == str(TODAY - dt.timedelta(days=10))


def test_the_cooldown_compares_with_the_arrears_at_contact_as_corrected_since(client, clock):
    # Two households were spoken to over a signal whose amount was mistyped, one ten times too high, one ten times
    # too low; after the contact the partner corrects it. The cooldown asks whether the arrears rose since the
    # contact: compared with the mistyped figure, the first household's real rise stayed held back (a household in
    # need missed), and the second was listed again although nothing rose (needless contact).
    for pseudonym, typed in (("hh_typo_000000010", 15_000.0), ("hh_typo_000000011", 150.0)):
        item = _post(client, household(pseudonym, signal(f"s-{pseudonym}", days_ago=3, amount=typed)))
        decided = _decide(client, item.json()["results"][0]["review_item_id"], end_result="advice_quick_fix",
                          departure_reason="resident asked", contact_attempts=[spoken_to()])
        assert decided.status_code == 201, decided.text
    clock.advance(days=10)
    for pseudonym in ("hh_typo_000000010", "hh_typo_000000011"):
        correction = {**signal(f"s-{pseudonym}-corr", days_ago=3, amount=1_500.0),
                      "replaces_signal_id": f"s-{pseudonym}"}
        held = _post(client, household(pseudonym, correction)).json()["results"][0]
        assert held["held_back_until"] is not None, pseudonym  # the arrears are what they were at the contact
    assert _listed(client) == {}
    clock.advance(days=10)
    rise = _post(client, household("hh_typo_000000010", signal("s-12", partner="energy", amount=800.0, days_ago=-15)))
    assert rise.json()["results"][0]["held_back_until"] is None  # € 2,300 now against € 1,500 at the contact
    assert list(_listed(client)) == ["hh_typo_000000010"]


def test_a_correction_of_a_handled_case_is_a_new_signal_for_the_household(client, engine):
    # The case was decided (the resident reached); then the partner corrects the amount of its signal. Like any new
    # signal it opens a case; the cooldown holds it back unless the arrears rose, and the audit record names the
    # signal that stopped counting.
    first = _post(client, household("hh_typo_000000006", signal("s-7", days_ago=3, amount=2_000.0)))
    item_id = first.json()["results"][0]["review_item_id"]
    decided = _decide(client, item_id, end_result="advice_quick_fix", departure_reason="resident asked",
                      contact_attempts=[spoken_to()])
    assert decided.status_code == 201, decided.text
    lower = {**signal("s-7-corr", days_ago=3, amount=1_800.0), "replaces_signal_id": "s-7"}
    again = _post(client, household("hh_typo_000000006", lower)).json()["results"][0]
    assert again["case_status"] == "open" and again["review_item_id"] != item_id
    assert again["held_back_until"] is not None  # contacted today, and the arrears did not rise
    assert client.get("/v1/outreach", headers=CASEWORKER).json()["items"] == []
    with engine.connect() as connection:
        detail = connection.execute(
            select(AuditRecord.detail).where(AuditRecord.object_id == "hh_typo_000000006")
            .order_by(AuditRecord.seq.desc())
        ).scalars().first()
    assert detail["replaced_signals"] == ["s-7"]


def test_another_team_cannot_resend_a_closed_cases_signals_or_learn_of_a_correction(client, engine):
    first = _post(client, household("hh_typo_000000007", signal("s-8", amount=2_000.0))).json()["results"][0]
    assert _decide(client, first["review_item_id"]).status_code == 201
    before = row_counts(engine)
    other = client.post("/v1/scores", json=batch(household("hh_typo_000000007", signal("s-8", amount=2_000.0))),
                        headers=auth(Role.CASEWORKER, team=OTHER_TEAM))
    assert other.status_code == 403 and "another team" in other.json()["detail"]
    assert "score" not in other.text and row_counts(engine) == before
    assert client.get("/v1/households/hh_typo_000000007", headers=CASEWORKER).status_code == 200  # still theirs
    # Another household reusing a corrected signal's id learns nothing about the correction.
    _post(client, household("hh_typo_000000007", {**signal("s-8-c", amount=1_000.0), "replaces_signal_id": "s-8"}))
    reuse = _post(client, household("hh_typo_000000008", signal("s-8", amount=5.0)))
    assert reuse.status_code == 409 and "replaced" not in reuse.json()["detail"]


def test_a_correction_must_name_an_earlier_signal_of_the_same_household(client, engine):
    _post(client, household("hh_typo_000000003", signal("s-3")), household("hh_other_00000003", signal("s-4")))
    before = row_counts(engine)
    for target in ("s-404", "s-4"):  # unknown, and another household's: the same answer
        refused = _post(client, household("hh_typo_000000003", {**signal("s-3-corr"), "replaces_signal_id": target}))
        assert refused.status_code == 422
        body = refused.json()
        assert body["errors"][0]["field"] == "households.0.signals.0.replaces_signal_id"
        assert "names no earlier signal of this household" in body["detail"] and target not in body["detail"]
    itself = _post(client, household("hh_typo_000000003", {**signal("s-3-corr"), "replaces_signal_id": "s-3-corr"}))
    assert itself.status_code == 422 and "must name an earlier signal, not this one" in itself.json()["detail"]
    assert "s-3-corr" not in itself.text  # a signal id is never repeated
    assert row_counts(engine) == before
    assert _post(client, household("hh_typo_000000003", {**signal("s-3-a"), "replaces_signal_id": "s-3"})).status_code == 200
    twice = _post(client, household("hh_typo_000000003", {**signal("s-3-b"), "replaces_signal_id": "s-3"}))
    assert twice.status_code == 422 and "already replaced by another correction" in twice.json()["detail"]
    with engine.connect() as connection:
        replaced = connection.execute(select(Signal.signal_ref).where(Signal.replaced_by_ref.is_not(None))).all()
    assert [ref for (ref,) in replaced] == ["s-3"]
    # The replaced signal sent again with other content: the answer points at the latest correction.
    changed = _post(client, household("hh_typo_000000003", signal("s-3", amount=2.0)))
    assert changed.status_code == 409 and "correct the latest correction" in changed.json()["detail"]
