"""A signal partner corrects a signal: the correction replaces it, and only the correction counts from then on."""

from __future__ import annotations

from sqlalchemy import select

from tests.service.conftest import auth, batch, household, row_counts, signal
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.models import ReviewItem, Signal

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


def test_a_correction_can_take_back_a_crisis(client):
    first = _post(client, household("hh_typo_000000002", signal("s-2", days_ago=2, crisis=True))).json()["results"][0]
    assert "crisis" in {flag["flag"] for flag in first["review_flags"]}
    correction = {**signal("s-2-corr", days_ago=2), "replaces_signal_id": "s-2"}
    fixed = _post(client, household("hh_typo_000000002", correction)).json()["results"][0]
    assert "crisis" not in {flag["flag"] for flag in fixed["review_flags"]}
    assert fixed["deadline"] == first["deadline"]  # a deadline already set is never postponed


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
    assert row_counts(engine) == before
    assert _post(client, household("hh_typo_000000003", {**signal("s-3-a"), "replaces_signal_id": "s-3"})).status_code == 200
    twice = _post(client, household("hh_typo_000000003", {**signal("s-3-b"), "replaces_signal_id": "s-3"}))
    assert twice.status_code == 422 and "already replaced by another correction" in twice.json()["detail"]
    with engine.connect() as connection:
        replaced = connection.execute(select(Signal.signal_ref).where(Signal.replaced_by_ref.is_not(None))).all()
    assert [ref for (ref,) in replaced] == ["s-3"]
