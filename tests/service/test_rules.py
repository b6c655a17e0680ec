"""Pure rules: deadlines with working days and holidays, the control-sample draw, cooldown and the list order."""

from __future__ import annotations

import datetime as dt

import pytest

from vroegsignaal.service.control_sample import in_control_sample, position_draw, sample_period
from vroegsignaal.service.deadlines import add_working_days, dutch_public_holidays, first_contact_deadline
from vroegsignaal.service.queue import QueueEntry, SignalFacts, cooldown_hold, order_entries, total_arrears

KEY = b"unit-test-key"
DAY = dt.date(2026, 3, 4)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (dt.date(2026, 3, 4), 3, dt.date(2026, 3, 9)),  # Wednesday -> Monday over a weekend
        (dt.date(2026, 4, 2), 3, dt.date(2026, 4, 9)),  # Good Friday and Easter Monday skipped
        (dt.date(2026, 12, 23), 3, dt.date(2026, 12, 29)),  # Thu 24th counts, Christmas (Fri) skipped, Mon, Tue
        (dt.date(2026, 3, 4), 0, dt.date(2026, 3, 4)),
    ],
)
def test_working_days_skip_weekends_and_holidays(start, days, expected):
    assert add_working_days(start, days) == expected


def test_every_dutch_holiday_of_a_year_is_known():
    """Removing Ascension, Liberation Day or Boxing Day went unnoticed: only Easter, Christmas and King's Day
    were checked. The dates of 2026, from the official calendar."""
    assert dutch_public_holidays(2026) == {
        dt.date(2026, 1, 1), dt.date(2026, 4, 3), dt.date(2026, 4, 6), dt.date(2026, 4, 27),
        dt.date(2026, 5, 5), dt.date(2026, 5, 14), dt.date(2026, 5, 25),  # Easter and Whit Sunday are Sundays
        dt.date(2026, 12, 25), dt.date(2026, 12, 26),
    }
    assert add_working_days(dt.date(2025, 12, 24), 1) == dt.date(2025, 12, 29)  # Christmas and Boxing Day (Fri)


def test_kings_day_moves_to_saturday_when_on_sunday():
    assert dt.date(2025, 4, 26) in dutch_public_holidays(2025)  # 27 April 2025 is a Sunday


def test_deadline_is_calendar_days_unless_urgent():
    assert first_contact_deadline(DAY, urgent=False, calendar_days=28, urgent_working_days=3) == dt.date(2026, 4, 1)
    assert first_contact_deadline(DAY, urgent=True, calendar_days=28, urgent_working_days=3) == dt.date(2026, 3, 9)


def test_control_sample_is_deterministic_and_near_its_rate():
    draws = [
        in_control_sample(key=KEY, municipality="GM0344", household=f"hh_{i:012d}", period="2026-03", rate=0.05)
        for i in range(4000)
    ]
    again = in_control_sample(key=KEY, municipality="GM0344", household="hh_000000000007", period="2026-03", rate=0.05)
    assert again == draws[7]
    assert 0.035 < sum(draws) / len(draws) < 0.065
    assert sample_period(DAY) == "2026-03"


def test_control_sample_depends_on_the_key():
    other = [in_control_sample(key=b"other", municipality="GM0344", household=f"hh_{i:012d}", period="p", rate=0.5)
             for i in range(64)]
    mine = [in_control_sample(key=KEY, municipality="GM0344", household=f"hh_{i:012d}", period="p", rate=0.5)
            for i in range(64)]
    assert other != mine


def test_position_draw_is_uniform_enough():
    draws = [position_draw(key=KEY, municipality="GM0344", household=f"hh_{i:012d}") for i in range(2000)]
    assert 0.45 < sum(draws) / len(draws) < 0.55 and min(draws) >= 0 and max(draws) < 1


def _signal(partner: str, amount: float, days_ago: int) -> SignalFacts:
    day = DAY - dt.timedelta(days=days_ago)
    return SignalFacts(partner, amount, day - dt.timedelta(days=30), day, False, False)


def test_total_arrears_takes_the_latest_amount_per_partner_in_twelve_months():
    signals = [_signal("rent", 500.0, 100), _signal("rent", 800.0, 10), _signal("water", 50.0, 20),
               _signal("energy", 999.0, 400)]
    assert total_arrears(signals, reference=DAY) == 850.0


@pytest.mark.parametrize(
    ("last_contact", "at_contact", "now", "expected"),
    [
        (None, None, 500.0, None),
        (dt.date(2026, 2, 1), 500.0, 500.0, dt.date(2026, 8, 2)),  # within cooldown, arrears did not rise
        (dt.date(2026, 2, 1), 500.0, 501.0, None),  # arrears rose
        (dt.date(2025, 8, 1), 500.0, 100.0, None),  # cooldown over
    ],
)
def test_cooldown_hold(last_contact, at_contact, now, expected):
    assert cooldown_hold(last_contact_on=last_contact, arrears_at_contact=at_contact, arrears_now=now,
                         cooldown_days=182, today=DAY) == expected


def test_a_new_threat_ends_the_cooldown():
    held = {"last_contact_on": dt.date(2026, 2, 1), "arrears_at_contact": 500.0, "arrears_now": 500.0,
            "cooldown_days": 182, "today": DAY}
    assert cooldown_hold(**held) == dt.date(2026, 8, 2)
    assert cooldown_hold(**held, new_threat=True) is None


def _entry(item_id: int, score: float | None, *, urgent: bool = False, deadline_days: int = 20, first: int = 10,
           model: bool = True, draw: float = 0.5) -> QueueEntry:
    return QueueEntry(item_id, urgent, DAY + dt.timedelta(days=deadline_days), score, model, draw,
                      DAY - dt.timedelta(days=first))


def test_model_order_puts_urgent_and_overdue_first_then_score():
    entries = [_entry(1, 0.9), _entry(2, 0.1, urgent=True), _entry(3, 0.2, deadline_days=-1), _entry(4, 0.5)]
    assert [e.item_id for e in order_entries(entries, ordering="model", today=DAY)] == [3, 2, 1, 4]


def test_rule_order_is_oldest_signal_first_after_urgent():
    entries = [_entry(1, 0.9, first=5), _entry(2, 0.1, first=50), _entry(3, 0.5, first=1, urgent=True)]
    assert [e.item_id for e in order_entries(entries, ordering="rule", today=DAY)] == [3, 2, 1]


def test_unranked_item_takes_the_score_at_its_drawn_quantile():
    entries = [_entry(1, 0.9), _entry(2, 0.5), _entry(3, 0.1), _entry(4, 0.99, model=False, draw=0.0)]
    # a draw of 0 places the control item at the lowest score, whatever its own (high) score
    assert [e.item_id for e in order_entries(entries, ordering="model", today=DAY)][-2:] == [3, 4]


def test_an_urgent_unranked_item_draws_its_place_among_the_urgent_items():
    urgent = [_entry(1, 0.9, urgent=True), _entry(2, 0.8, urgent=True), _entry(3, 0.7, urgent=True)]
    later = [_entry(10 + i, 0.01 * i) for i in range(20)]  # most scores on the list are low
    control = _entry(5, None, urgent=True, model=False, draw=0.5)
    order = [e.item_id for e in order_entries([*urgent, *later, control], ordering="model", today=DAY)]
    # The middle of the urgent block (the draw's quantile of 0.7, 0.8, 0.9 is 0.8; ties go to the older item).
    assert order[:4] == [1, 2, 5, 3]
