"""A signal partner corrects a signal: the correction replaces it, and only the correction counts from then on."""

from __future__ import annotations

from sqlalchemy import select

from tests.service.conftest import TODAY, auth, batch, household, row_counts, signal
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.models import AuditRecord, ReviewItem, Signal

CASEWORKER = auth(Role.CASEWORKER)


def _post(client, *households):  # noqa: ANN001, ANN202
    return client.post("/v1/scores", json=batch(*households), headers=CASEWORKER)


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


def test_a_correction_neither_takes_an_urgency_back_nor_adds_one(client):
    # A crisis signal whose amount is corrected: the case stays urgent (erring on the side of the household; the
    # caseworker sees the replaced signal marked). A new crisis sent along with a correction counts as usual.
    first = _post(client, household("hh_typo_000000002", signal("s-2", days_ago=2, crisis=True))).json()["results"][0]
    correction = {**signal("s-2-corr", days_ago=5, amount=900.0, crisis=True), "replaces_signal_id": "s-2"}
    fixed = _post(client, household("hh_typo_000000002", correction)).json()["results"][0]
    assert "crisis" in {flag["flag"] for flag in fixed["review_flags"]} and fixed["deadline"] == first["deadline"]
    plain = _post(client, household("hh_typo_000000005", signal("s-5", days_ago=2, amount=15_000.0)))
    fix = {**signal("s-5-corr", days_ago=2, amount=1_500.0), "replaces_signal_id": "s-5"}
    late_crisis = signal("s-6", partner="energy", days_ago=6, crisis=True)
    both = _post(client, household("hh_typo_000000005", fix, late_crisis)).json()["results"][0]
    assert both["review_item_id"] == plain.json()["results"][0]["review_item_id"]
    assert "crisis" in {flag["flag"] for flag in both["review_flags"]}


def test_a_correction_of_a_handled_case_opens_no_new_case(client, engine):
    # The case was decided (the resident reached); then the partner corrects the amount of its crisis signal. The
    # correction fixes data of a handled case: no second case, no new urgency, the cooldown not lifted.
    first = _post(client, household("hh_typo_000000006", signal("s-7", days_ago=3, amount=2_000.0, crisis=True)))
    item_id = first.json()["results"][0]["review_item_id"]
    decided = client.post(f"/v1/review-items/{item_id}/decisions", headers=CASEWORKER, json={
        "end_result": "advice_quick_fix", "chosen_intensity": "letter", "departure_reason": "resident asked",
        "contact_attempts": [{"kind": "phone", "reached": True, "attempted_on": TODAY.isoformat(),
                              "part_of_day": "morning"}],
    })
    assert decided.status_code == 201, decided.text
    before = row_counts(engine)
    upwards = {**signal("s-7-corr", days_ago=3, amount=5_000.0, crisis=True), "replaces_signal_id": "s-7"}
    again = _post(client, household("hh_typo_000000006", upwards)).json()["results"][0]
    assert (again["case_status"], again["review_item_id"]) == ("closed", item_id)
    assert row_counts(engine)["review_items"] == before["review_items"]
    assert client.get("/v1/outreach", headers=CASEWORKER).json()["items"] == []
    with engine.connect() as connection:
        detail = connection.execute(
            select(AuditRecord.detail).where(AuditRecord.action == "signals_resent")
        ).scalar_one()
    assert detail["replaced_signals"] == ["s-7"]  # the audit record says which signal stopped counting


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
