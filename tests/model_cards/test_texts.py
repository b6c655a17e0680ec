"""Default card texts: domain facts for signal data, a neutral variant for custom data, verdicts from numbers."""

from __future__ import annotations

import pytest

from tests.model_cards.factories import failure, fairness, gates
from vroegsignaal.model_cards import texts
from vroegsignaal.schemas.card import DataValidation, FairnessSection, GateResult, LocalizedText

CLEAN_DATA = DataValidation(tables={}, failures=[], warnings=[])


def _all_text(items: list[LocalizedText], lang: str) -> str:
    return " ".join(item.get(lang) for item in items)


def _signal_texts(feature_set: str) -> list[LocalizedText]:
    use = texts.default_intended_use(feature_set)
    return [
        *use.primary_uses,
        *use.primary_users,
        *use.out_of_scope,
        *texts.default_ethical_considerations(feature_set),
        *texts.default_caveats(feature_set, synthetic=False),
        texts.default_label_description(feature_set),
        texts.default_data_description(feature_set),
    ]


@pytest.mark.parametrize(
    ("lang", "facts"),
    [
        ("nl", ["advies", "aanbod", "controlegroep", "selectie-effect", "SyRI", "toeslagenaffaire", "bezwaar"]),
        ("en", ["advice", "offer", "control sample", "selection bias", "SyRI", "childcare-benefits", "objected"]),
    ],
)
def test_signal_data_texts_state_the_domain_facts(lang, facts):
    text = _all_text(_signal_texts("catalogue"), lang)
    missing = [fact for fact in facts if fact not in text]
    assert missing == []


@pytest.mark.parametrize("word", ["Wgs", "schuld", "debt", "signaal", "signal", "SyRI", "huishouden", "household"])
def test_custom_data_texts_claim_nothing_about_the_signal_domain(word):
    text = _all_text(_signal_texts("custom"), "nl") + _all_text(_signal_texts("custom"), "en")
    assert word.lower() not in text.lower()


def test_synthetic_data_adds_a_warning_first():
    caveats = texts.default_caveats("catalogue", synthetic=True)
    assert "synthetische gemeente" in caveats[0].nl
    assert "synthetic municipality" in caveats[0].en
    assert len(caveats) == len(texts.default_caveats("catalogue", synthetic=False)) + 1


def test_custom_label_without_config_text_says_the_label_is_undocumented():
    text = texts.default_label_description("custom")
    assert "beschrijft niet" in text.nl and "does not describe" in text.en


def test_custom_label_keeps_the_config_text_as_given():
    text = texts.default_label_description("custom", config_text="credit risk: 1 = good, 2 = bad")
    assert text.nl.endswith("credit risk: 1 = good, 2 = bad") and text.en.endswith("credit risk: 1 = good, 2 = bad")


def test_verdict_blocks_a_model_that_fails_a_gate_and_names_it():
    verdict = texts.default_verdict(fairness(failing_gate=True), CLEAN_DATA)
    assert verdict.promotable is False and verdict.outcome == "not_promotable"
    assert any("'origin'" in reason.nl and "niet gehaald" in reason.nl for reason in verdict.reasons)


def test_verdict_names_a_gate_without_enough_data_but_does_not_block_on_it():
    verdict = texts.default_verdict(fairness(failing_gate=False), CLEAN_DATA)
    assert verdict.promotable is True
    assert any("te weinig gegevens" in reason.nl for reason in verdict.reasons)
    assert any("too few data" in reason.en for reason in verdict.reasons)


def with_recall_gates(audit: FairnessSection, verdict: str, *, attributes: tuple[str, ...] | None = None):
    """``audit`` with the recall-parity gates of ``attributes`` (default: all) given ``verdict``."""
    changed = [
        gate.model_copy(update={"verdict": verdict})
        if gate.metric == "recall_ratio" and (attributes is None or gate.attribute in attributes)
        else gate
        for gate in audit.gates
    ]
    return audit.model_copy(update={"gates": changed})


def test_verdict_asks_the_reviewer_to_decide_when_recall_parity_could_not_be_judged_for_an_attribute():
    # The factory's neighbourhood has too few households in need to compare its groups; every other gate passes.
    # This used to read "promotable", as if recall parity had been checked there.
    verdict = texts.default_verdict(fairness(failing_gate=False), CLEAN_DATA)
    assert verdict.outcome == "reviewer_decides"
    assert verdict.promotable is True  # the service lets a reviewer approve it, with a comment
    first = verdict.reasons[0]
    assert "Recall parity, the leading fairness criterion, could not be established for 'neighbourhood'" in first.en
    assert "too few households in need" in first.en and "approval comment" in first.en
    assert "'neighbourhood'" in first.nl and "te weinig huishoudens met een hulpvraag" in first.nl
    assert "'age_band'" not in first.en  # judged and passed


def test_verdict_names_every_attribute_whose_recall_parity_could_not_be_judged():
    # The demo's synthetic municipality: no attribute has two groups with enough households in need.
    verdict = texts.default_verdict(with_recall_gates(fairness(failing_gate=False), "insufficient_data"), CLEAN_DATA)
    assert verdict.outcome == "reviewer_decides"
    assert "for 'age_band', 'gender', 'origin' and 'neighbourhood' (too few households in need" in verdict.reasons[0].en
    assert "voor 'age_band', 'gender', 'origin' en 'neighbourhood' (te weinig" in verdict.reasons[0].nl


def test_verdict_asks_the_reviewer_to_decide_when_recall_parity_is_inconclusive():
    audit = with_recall_gates(fairness(failing_gate=False), "inconclusive", attributes=("origin",))
    verdict = texts.default_verdict(audit, CLEAN_DATA)
    assert verdict.outcome == "reviewer_decides" and verdict.promotable is True
    assert "'origin' (the interval crosses the threshold)" in verdict.reasons[0].en
    assert "'origin' (de marge loopt over de drempel)" in verdict.reasons[0].nl


def test_verdict_is_promotable_without_a_word_to_decide_only_when_recall_parity_passed_everywhere():
    audit = with_recall_gates(fairness(failing_gate=False), "pass")
    verdict = texts.default_verdict(audit, CLEAN_DATA)
    assert verdict.outcome == "promotable" and verdict.promotable is True
    assert not any("leading fairness criterion" in reason.en for reason in verdict.reasons)


def test_a_failed_gate_blocks_whatever_recall_parity_says():
    audit = with_recall_gates(fairness(failing_gate=True), "insufficient_data", attributes=("neighbourhood",))
    verdict = texts.default_verdict(audit, CLEAN_DATA)
    assert verdict.outcome == "not_promotable" and verdict.promotable is False


def test_verdict_blocks_on_data_validation_failures():
    data = DataValidation(tables={}, failures=[failure()], warnings=[])
    verdict = texts.default_verdict(fairness(failing_gate=False), data)
    assert verdict.promotable is False
    assert any("1 probleem" in reason.nl for reason in verdict.reasons)


def test_verdict_blocks_a_model_that_does_worse_than_the_rule_it_would_replace():
    verdict = texts.default_verdict(fairness(failing_gate=False), CLEAN_DATA, lift_over_rule=0.8)
    assert verdict.promotable is False
    assert any("0,80" in reason.nl and "does no better than the way of working" in reason.en
               for reason in verdict.reasons)
    assert texts.default_verdict(fairness(failing_gate=False), CLEAN_DATA, lift_over_rule=1.0).promotable is True


def test_verdict_names_a_list_in_use_that_does_worse_than_the_rules_without_blocking_on_it():
    # Better per period, worse once contacted households wait out the cooldown: a reason to weigh (on a few test
    # months that count moves by a household or two), not a block.
    verdict = texts.default_verdict(
        fairness(failing_gate=False), CLEAN_DATA, lift_over_rule=1.1, lift_over_rule_in_use=0.93
    )
    assert verdict.promotable is True
    assert any("0,93" in reason.nl and "As the list works in use" in reason.en for reason in verdict.reasons)
    even = texts.default_verdict(fairness(failing_gate=False), CLEAN_DATA, lift_over_rule=1.1, lift_over_rule_in_use=1.0)
    assert not any("As the list works in use" in reason.en for reason in even.reasons)


def test_in_use_summary_gives_both_lists_numbers_in_each_language():
    model = {"contacts": 40, "households": 38, "found": 22, "households_helped": 21, "households_in_need": 25,
             "precision": 0.55, "household_recall": 0.84}
    rule = {**model, "found": 20, "precision": 0.5, "household_recall": 0.76}
    text = texts.in_use_summary(cooldown_days=182, model=model, rule=rule, lift_over_rule=1.1)
    assert "waits 182 days" in text.en and "contacts 38 households in 40 contacts" in text.en
    assert "precision 0.55" in text.en and "reaches 21 of the 25 households in need" in text.en
    assert "1.10 times as many households in need" in text.en and "nobody waits in the first test period" in text.en
    assert "wacht 182 dagen" in text.nl and "precisie 0,55" in text.nl and "1,10 keer" in text.nl
    without_rule = texts.in_use_summary(cooldown_days=182, model=model, rule=None, lift_over_rule=None)
    assert "The rule" not in without_rule.en and "De regel" not in without_rule.nl


def test_verdict_blocks_on_a_failed_proxy_check():
    audit = fairness(failing_gate=False)
    proxy = [audit.proxy[0].model_copy(update={"verdict": "fail", "auc": 0.82}), *audit.proxy[1:]]
    verdict = texts.default_verdict(audit.model_copy(update={"proxy": proxy}), CLEAN_DATA)
    assert verdict.promotable is False
    assert any("0,82" in reason.nl and "0.82" in reason.en for reason in verdict.reasons)


def test_gate_sentence_states_requirement_value_interval_and_verdict():
    origin = next(gate for gate in gates(failing=True) if gate.attribute == "origin")
    sentence = texts.describe_gate(origin)
    assert sentence.nl == (
        "'origin': verhouding kleinste/grootste groep voor de recall moet minstens 0,80 zijn en is 0,70 "
        "(marge 0,62–0,78): niet gehaald."
    )
    assert sentence.en == (
        "'origin': ratio of smallest to largest group recall must be at least 0.80 and is 0.70 "
        "(interval 0.62–0.78): failed."
    )


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [(1234.5678, "nl", "1.234,568"), (1234.5678, "en", "1,234.568"), (None, "nl", "n.b."), (None, "en", "n/a")],
)
def test_numbers_use_the_conventions_of_the_language(value, lang, expected):
    assert texts.format_number(value, lang) == expected


@pytest.mark.parametrize(
    ("attribute", "group", "columns", "lang", "expected"),
    [
        ("origin", "dutch", (), "nl", "Nederlandse herkomst"),
        ("age_band", "65+", (), "en", "65 years and older"),
        ("gender×origin", "female|outside_europe", ("gender", "origin"), "nl", "vrouw × herkomst buiten Europa"),
        ("neighbourhood", "W07", (), "nl", "W07"),
    ],
)
def test_groups_are_labelled_in_the_language_of_the_card(attribute, group, columns, lang, expected):
    assert texts.group_label(attribute, group, lang, columns=columns) == expected


@pytest.mark.parametrize("key", sorted(texts.LABELS))
def test_every_card_label_exists_in_both_languages(key):
    assert texts.label(key, "nl").strip() and texts.label(key, "en").strip()


def test_gates_summary_says_all_passed_only_when_every_gate_passed():
    all_passed = [gate for gate in gates(failing=False) if gate.verdict == "pass"]
    assert texts.gates_summary(all_passed).en == "All 4 gates passed."
    assert texts.gates_summary(all_passed).nl == "Alle 4 drempels gehaald."
    # A gate that could not be judged does not block, but "no gate failed" is not "all passed".
    summary = texts.gates_summary(gates(failing=False))
    assert summary.en == (
        "Of the 5 gates: 4 passed, 0 failed, 0 inconclusive (the interval crosses the threshold) and 1 could not be "
        "judged for too few data."
    )
    assert "passed." not in summary.en.split(":")[0] and "Van de 5 drempels: 4 gehaald, 0 niet gehaald" in summary.nl
    failing = texts.gates_summary(gates(failing=True))
    assert "3 passed, 1 failed" in failing.en and "3 gehaald, 1 niet gehaald" in failing.nl


def test_the_temporal_test_names_the_label_horizon_and_leaves_it_out_when_outcomes_are_known_at_once():
    """The decisions export's labels are the decisions, known when made (a horizon of 0 days): the card said
    "outcome (0 days) ... what a year of change costs"."""
    yearly = texts.evaluation_description("temporal", ["2025-01", "2025-03"], label_horizon_days=365)
    assert "(365 days)" in yearly.en and "a year of change" in yearly.en and "een jaar verandering" in yearly.nl
    half = texts.evaluation_description("temporal", ["2025-01", "2025-03"], label_horizon_days=182)
    assert "182 days of change" in half.en and "182 dagen verandering" in half.nl
    at_once = texts.evaluation_description("temporal", ["2025-01", "2025-03"], label_horizon_days=0)
    assert "days" not in at_once.en and "dagen" not in at_once.nl
    assert at_once.en.startswith("The latest periods (2025-01 to 2025-03).")


def _failed_proxy(audit: FairnessSection) -> FairnessSection:
    """``audit`` with the origin proxy check failed, and its gate beside the group gates, as the audit builds it."""
    check = audit.proxy[0].model_copy(update={"verdict": "fail", "auc": 0.82, "ci_low": 0.79, "ci_high": 0.85})
    gate = GateResult(attribute="origin", metric="proxy_auc", threshold=0.75, comparison="<=", value=0.82,
                      ci_low=0.79, ci_high=0.85, verdict="fail", reason="The features predict origin too well.")
    return audit.model_copy(update={"proxy": [check, *audit.proxy[1:]], "gates": [*audit.gates, gate]})


def test_verdict_names_a_failed_proxy_check_once_when_its_gate_is_among_the_gates():
    verdict = texts.default_verdict(_failed_proxy(fairness(failing_gate=False)), CLEAN_DATA)
    assert verdict.promotable is False
    assert len([reason for reason in verdict.reasons if "0.82" in reason.en]) == 1
    assert len([reason for reason in verdict.reasons if "0,82" in reason.nl]) == 1


@pytest.mark.parametrize(
    ("lang", "label"),
    [("nl", "AUC waarmee de kenmerken dit kenmerk voorspellen"), ("en", "AUC of the features predicting this attribute")],
)
def test_the_proxy_gate_has_a_label_like_every_gate(lang, label):
    assert texts.gate_metric_label("proxy_auc", lang) == label


def test_an_inconclusive_proxy_gate_speaks_of_the_inputs_not_of_unfairness():
    """Group gates weigh (un)fairness; the proxy gate asks whether the inputs carry the attribute."""
    gate = GateResult(attribute="origin", metric="proxy_auc", threshold=0.75, comparison="<=", value=0.77,
                      ci_low=0.72, ci_high=0.82, verdict="inconclusive", reason="The interval crosses 0.75.")
    sentence = texts.describe_gate(gate)
    assert sentence.en == (
        "'origin': AUC of the features predicting this attribute must be at most 0.75 and is 0.77 (interval "
        "0.72–0.82). The interval crosses the threshold: it is neither shown nor ruled out that the model's "
        "inputs carry this attribute. Weigh it."
    )
    assert sentence.nl == (
        "'origin': AUC waarmee de kenmerken dit kenmerk voorspellen moet hoogstens 0,75 zijn en is 0,77 "
        "(marge 0,72–0,82). De marge loopt over de drempel: niet aangetoond dat de invoer van het model dit kenmerk "
        "verraadt, maar ook niet dat hij dat niet doet. Weeg dit mee."
    )
    group_gate = gate.model_copy(update={"metric": "recall_ratio", "comparison": ">=", "threshold": 0.8})
    assert "unfairness is neither shown nor ruled out" in texts.describe_gate(group_gate).en


def _without_recall_gates(audit: FairnessSection) -> FairnessSection:
    return audit.model_copy(update={"gates": [gate for gate in audit.gates if gate.metric != "recall_ratio"]})


def test_verdict_says_recall_parity_was_never_checked_when_the_config_sets_no_gate_for_it():
    """Every other gate passed, but the leading criterion was not looked at: that must not read as "all passed"."""
    verdict = texts.default_verdict(_without_recall_gates(fairness(failing_gate=False)), CLEAN_DATA)
    assert verdict.promotable is True and verdict.outcome == "reviewer_decides"
    assert verdict.reasons[0].en.startswith(
        "Recall parity, the leading fairness criterion, was not checked: the config sets no gate for it."
    )
    assert verdict.reasons[0].nl.startswith(
        "Gelijke recall, het leidende eerlijkheidscriterium, is niet getoetst: de configuratie stelt er geen "
        "drempel voor in."
    )
    assert not any("Every fairness gate passed" in reason.en for reason in verdict.reasons)


def test_verdict_says_recall_parity_was_never_checked_without_audit_attributes():
    audit = fairness(failing_gate=False, mitigation=False).model_copy(update={"attributes": [], "gates": []})
    verdict = texts.default_verdict(audit, CLEAN_DATA)
    assert verdict.outcome == "reviewer_decides"
    assert "was not checked: the dataset config names no audit attributes" in verdict.reasons[0].en
    assert "is niet getoetst: de datasetconfiguratie noemt geen gevoelige kenmerken" in verdict.reasons[0].nl
