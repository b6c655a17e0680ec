"""The Algoritmeregister entry: the standard's field names and limits, filled from the card's facts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.model_cards.factories import approvals, make_card
from vroegsignaal.model_cards.algoritmeregister import (
    FIELD_MAX_LENGTHS,
    MSG_FIELD_TOO_LONG,
    ORGANISATION_PLACEHOLDER,
    algoritmeregister_entry,
)
from vroegsignaal.model_cards.texts import default_verdict
from vroegsignaal.schemas.card import ApprovalEvent
from vroegsignaal.schemas.enums import ModelStatus, Role

#: Field names of the Algoritmeregister publication standard 1.0.0.
STANDARD_FIELDS = {
    "name", "description_short", "organization", "category", "status", "begin_date", "end_date", "contact_email",
    "website", "publication_category", "url", "goal", "proportionality", "human_intervention", "risks",
    "lawful_basis", "lawful_basis_grouping", "process_index_url", "impacttoetsen_grouping", "impacttoetsen",
    "source_data", "source_data_grouping", "methods_and_models", "provider", "publiccode", "lang",
    "standard_version", "source_id", "tags",
}
REQUIRED_FIELDS = {"name", "description_short", "organization", "status", "contact_email", "publication_category",
                   "lang"}


@pytest.mark.parametrize("feature_set", ["catalogue", "custom"])
def test_entry_uses_only_standard_fields_within_their_limits(feature_set):
    entry = algoritmeregister_entry(make_card(feature_set=feature_set, failing_gate=False), card_url="https://x.example/c")
    assert set(entry) <= STANDARD_FIELDS
    assert REQUIRED_FIELDS <= set(entry)
    too_long = {field: len(entry[field]) for field, limit in FIELD_MAX_LENGTHS.items()
                if isinstance(entry.get(field), str) and len(entry[field]) > limit}
    assert too_long == {}
    assert entry["lang"] == "nld" and entry["standard_version"] == "1.0.0"


def test_organisation_is_a_placeholder_unless_given():
    card = make_card()
    assert algoritmeregister_entry(card)["organization"] == ORGANISATION_PLACEHOLDER
    assert algoritmeregister_entry(card, organisation="Gemeente Utrecht")["organization"] == "Gemeente Utrecht"


def test_entry_refuses_text_the_register_would_cut_off():
    with pytest.raises(ValueError, match=MSG_FIELD_TOO_LONG):
        algoritmeregister_entry(make_card(), organisation="Gemeente " + "x" * 120)


@pytest.mark.parametrize(
    ("history", "status", "begin"),
    [
        (approvals()[:1], "In ontwikkeling", None),
        (approvals()[:2], "In ontwikkeling", None),
        (approvals(), "In gebruik", "2025-04"),
        (
            [*approvals(), ApprovalEvent(from_status=ModelStatus.CHAMPION, to_status=ModelStatus.RETIRED,
                                         by="admin-01", role=Role.ADMIN, at=datetime(2026, 1, 5, tzinfo=UTC))],
            "Buiten gebruik",
            "2025-04",
        ),
    ],
)
def test_status_and_begin_date_follow_the_approval_history(history, status, begin):
    entry = algoritmeregister_entry(make_card(failing_gate=False, approval_history=history))
    assert entry["status"] == status
    assert entry.get("begin_date") == begin


def test_signal_entry_states_purpose_human_oversight_and_legal_basis():
    entry = algoritmeregister_entry(
        make_card(failing_gate=False, all_judged=True), legal_basis_url="https://wetten.example/wgs"
    )
    assert entry["publication_category"] == "Hoog-risico AI-systeem"
    assert "elk huishouden met een signaal krijgt een aanbod" in entry["description_short"]
    assert "beslist niets over een persoon" in entry["human_intervention"]
    assert "Wet gemeentelijke schuldhulpverlening (Wgs), artikel 3" in entry["lawful_basis"]
    assert entry["lawful_basis_grouping"] == [
        {"title": "Wet gemeentelijke schuldhulpverlening, artikel 3", "link": "https://wetten.example/wgs"}
    ]
    assert "1,62 keer zoveel huishoudens die hulp nodig hadden" in entry["goal"]  # the lift over the rule
    assert "met 182 dagen wachttijd na contact, vond het model 1,21 keer zoveel" in entry["goal"]  # ... in use
    assert "Alle 5 drempels gehaald." in entry["risks"]
    assert "wegen de voordelen op tegen de nadelen" in entry["proportionality"]


def test_trade_off_is_left_to_the_committee_when_recall_parity_was_not_established():
    # The card's neighbourhood has too few households in need to judge recall parity: no "advantages outweigh".
    card = make_card(failing_gate=False)
    assert card.verdict.outcome == "reviewer_decides"
    entry = algoritmeregister_entry(card)
    assert "Van de 5 drempels: 4 gehaald, 0 niet gehaald, 0 onbeslist" in entry["risks"]
    assert "en 1 niet te beoordelen" in entry["risks"]
    text = entry["proportionality"]
    assert "wegen de voordelen op tegen" not in text
    assert "kon voor wijk niet worden vastgesteld" in text and "beoordeelt de ethische commissie zelf" in text


def test_trade_off_follows_the_numbers_not_a_fixed_conclusion():
    """A blocked version, a model that finds fewer households than the rule, or features that betray a sensitive
    attribute must not be published with "the advantages outweigh the disadvantages"."""
    blocked = algoritmeregister_entry(make_card(failing_gate=True))["proportionality"]
    assert "wegen de voordelen op tegen" not in blocked and "mag niet gebruikt worden" in blocked

    card = make_card(failing_gate=False)
    worse = card.model_copy(update={"performance": card.performance.model_copy(update={"lift_over_rule": 0.96})})
    text = algoritmeregister_entry(worse)["proportionality"]
    assert "minder huishoudens die hulp nodig hadden dan een regel zonder model (0,96 keer zoveel)" in text
    assert "Voordeel: met dezelfde mensen" not in text and "niet aangetoond" in text
    assert "1,0 keer" not in algoritmeregister_entry(worse)["goal"]  # a loss is never rounded into a tie

    proxy = card.fairness.proxy[0].model_copy(update={"verdict": "fail", "auc": 0.83})
    leaking = card.model_copy(update={"fairness": card.fairness.model_copy(update={"proxy": [proxy]})})
    text = algoritmeregister_entry(leaking)["proportionality"]
    assert "de proxycontrole vond dat de invoer" in text.lower() and "(AUC 0,83)" in text


def test_risks_name_the_attributes_that_were_audited():
    card = make_card(failing_gate=False)
    assert "per groep (leeftijd, geslacht, herkomst)" in algoritmeregister_entry(card)["risks"]


def test_card_link_is_published_where_the_standard_has_room_for_it():
    entry = algoritmeregister_entry(make_card(), card_url="https://gemeente.example/modelkaart")
    assert entry["website"] == "https://gemeente.example/modelkaart"
    assert "https://gemeente.example/modelkaart" in entry["methods_and_models"]
    assert "website" not in algoritmeregister_entry(make_card())


def test_custom_entry_claims_nothing_about_debt_assistance():
    entry = algoritmeregister_entry(make_card(feature_set="custom"))
    text = " ".join(str(value) for value in entry.values())
    assert "Wgs" not in text and "schuld" not in text.lower()
    assert "category" not in entry


@pytest.mark.parametrize("feature_set", ["catalogue", "custom"])
def test_the_technical_description_is_dutch_and_fits_the_data(feature_set):
    """The register is published in Dutch: the model type and the explanation method were English, and a custom
    data set was told that "more arrears can never lower the score"."""
    card = make_card(feature_set=feature_set, failing_gate=False)
    text = algoritmeregister_entry(card)["methods_and_models"]
    assert card.model_details.model_type not in text and "TreeSHAP" in text
    assert ("Meer achterstand" in text) is (feature_set == "catalogue")
    assert "gewogen combinatie" in text  # the factory's card was mitigated


def test_trade_off_is_left_to_the_committee_when_recall_parity_was_never_checked():
    card = make_card(failing_gate=False, all_judged=True)
    fairness = card.fairness.model_copy(
        update={"gates": [gate for gate in card.fairness.gates if gate.metric != "recall_ratio"]}
    )
    verdict = default_verdict(fairness, card.data_validation)
    unchecked = card.model_copy(update={"fairness": fairness, "verdict": verdict})
    text = algoritmeregister_entry(unchecked)["proportionality"]
    assert "wegen de voordelen op tegen" not in text and "kon voor  niet" not in text
    assert "is niet getoetst, want er is geen drempel voor ingesteld" in text
    assert "beoordeelt de ethische commissie zelf" in text


def test_trade_off_says_no_attribute_was_audited_when_the_config_names_none():
    """Without audit attributes there is no gate at all: the register blamed a threshold that may well be set."""
    card = make_card(failing_gate=False, all_judged=True)
    fairness = card.fairness.model_copy(update={"attributes": [], "gates": []})
    verdict = default_verdict(fairness, card.data_validation)
    unaudited = card.model_copy(update={"fairness": fairness, "verdict": verdict})
    text = algoritmeregister_entry(unaudited)["proportionality"]
    assert "noemt geen gevoelige kenmerken" in text and "geen drempel" not in text
