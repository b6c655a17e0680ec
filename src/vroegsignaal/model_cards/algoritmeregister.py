"""The card's facts as an entry for the Dutch national *Algoritmeregister*.

Field names and limits follow the *Algoritmeregister Publicatiestandaard* 1.0.0 (Ministerie van BZK; the register's
own schema ``backend/app/schemas/config/v1_0_0.json`` in MinBZK/Algoritmeregister): ``name`` (< 100 characters),
``description_short`` (< 350), ``organization``, ``category``, ``status``, ``begin_date``, ``contact_email``,
``website``, ``publication_category``, ``goal`` (doel en impact), ``proportionality`` (afwegingen),
``human_intervention``, ``risks`` (risicobeheer), ``lawful_basis`` and ``lawful_basis_grouping``, ``source_data``,
``methods_and_models`` (technische werking), ``provider``, ``publiccode``, ``lang``, ``standard_version``,
``source_id`` and ``tags``. The standard has no separate field for the decision process: it is described in
``human_intervention`` (how people use, check and correct the outcomes), and the link to the model card goes into
``website`` and ``methods_and_models``.

The register is published in Dutch (``lang = "nld"``) at B1 level. The organisation is a parameter (a placeholder
by default): one card can serve several municipalities, and each registers its own use.
"""

from __future__ import annotations

from typing import Any

from vroegsignaal.model_cards import texts
from vroegsignaal.schemas.card import ModelCard
from vroegsignaal.schemas.enums import ModelStatus

STANDARD_VERSION = "1.0.0"
ORGANISATION_PLACEHOLDER = "[naam van de gemeente]"
#: Maximum lengths of the publication standard 1.0.0 (characters).
FIELD_MAX_LENGTHS: dict[str, int] = {
    "name": 100,
    "description_short": 350,
    "organization": 100,
    "begin_date": 7,
    "contact_email": 500,
    "website": 500,
    "goal": 2500,
    "proportionality": 2500,
    "human_intervention": 2500,
    "risks": 2500,
    "lawful_basis": 2500,
    "source_data": 2500,
    "methods_and_models": 5000,
    "provider": 200,
    "publiccode": 500,
    "source_id": 100,
    "tags": 2500,
}
MSG_FIELD_TOO_LONG = "is longer than the Algoritmeregister standard allows"

_STATUS_BY_MODEL_STATUS = {
    ModelStatus.CHAMPION: "In gebruik",
    ModelStatus.RETIRED: "Buiten gebruik",
}


def algoritmeregister_entry(
    card: ModelCard,
    *,
    organisation: str = ORGANISATION_PLACEHOLDER,
    card_url: str | None = None,
    source_code_url: str | None = None,
    legal_basis_url: str | None = None,
) -> dict[str, Any]:
    """The Algoritmeregister entry (publication standard 1.0.0) for the model of ``card``.

    ``card_url``, ``source_code_url`` and ``legal_basis_url`` are published as given; fields whose value is unknown
    are left out rather than filled with a guess. Raises :class:`ValueError` if a text exceeds the standard's length.
    """
    details = card.model_details
    signal_data = details.feature_set == "catalogue"
    entry: dict[str, Any] = {
        "name": _name(card),
        "description_short": _description_short(signal_data),
        "organization": organisation,
        "status": _status(card),
        "contact_email": details.contact,
        "publication_category": "Hoog-risico AI-systeem" if signal_data else "Impactvolle algoritmes",
        "goal": _goal(card, signal_data),
        "proportionality": _proportionality(card, signal_data),
        "human_intervention": _human_intervention(signal_data),
        "risks": _risks(card, signal_data),
        "lawful_basis": _lawful_basis(signal_data),
        "source_data": _source_data(card, signal_data),
        "methods_and_models": _methods_and_models(card, card_url, signal_data),
        "provider": "Vroegsignaal (open-source software), ingezet door de organisatie zelf",
        "lang": "nld",
        "standard_version": STANDARD_VERSION,
        "source_id": f"{details.name}/{details.version}",
        "tags": "vroegsignalering, schuldhulpverlening, betalingsachterstanden, Wgs, risicomodel"
        if signal_data
        else "risicomodel",
    }
    if signal_data:
        entry["category"] = ["Sociale zekerheid"]
    begin = _begin_date(card)
    if begin:
        entry["begin_date"] = begin
    if card_url:
        entry["website"] = card_url
    if source_code_url:
        entry["publiccode"] = source_code_url
    if legal_basis_url and signal_data:
        entry["lawful_basis_grouping"] = [
            {"title": "Wet gemeentelijke schuldhulpverlening, artikel 3", "link": legal_basis_url}
        ]
    _check_lengths(entry)
    return entry


def _check_lengths(entry: dict[str, Any]) -> None:
    for field, limit in FIELD_MAX_LENGTHS.items():
        value = entry.get(field)
        if isinstance(value, str) and len(value) > limit:
            raise ValueError(f"algoritmeregister field '{field}' {MSG_FIELD_TOO_LONG} ({len(value)} > {limit})")


def _name(card: ModelCard) -> str:
    if card.model_details.feature_set == "catalogue":
        return "Volgorde bepalen bij vroegsignalering van schulden (Vroegsignaal)"
    return f"Risicovolgorde bepalen voor dataset {card.model_details.dataset_config}"


def _description_short(signal_data: bool) -> str:
    if signal_data:
        return (
            "Dit algoritme helpt de gemeente kiezen welke huishoudens met een betalingsachterstand zij het eerst "
            "benadert met een aanbod van hulp. Het geeft een advies. Een schuldhulpverlener beslist, en elk "
            "huishouden met een signaal krijgt een aanbod."
        )
    return (
        "Dit algoritme zet gevallen op volgorde van geschat risico, zodat mensen kunnen kiezen waar ze eerst "
        "kijken. Het geeft een advies; een mens beslist."
    )


def _status(card: ModelCard) -> str:
    latest = card.approval_history[-1].to_status if card.approval_history else ModelStatus.CANDIDATE
    return _STATUS_BY_MODEL_STATUS.get(latest, "In ontwikkeling")


def _begin_date(card: ModelCard) -> str | None:
    served = [event.at for event in card.approval_history if event.to_status == ModelStatus.CHAMPION]
    return served[0].strftime("%Y-%m") if served else None


def _as_many(lift: float, than: str, who: str = "huishoudens die hulp nodig hadden") -> str:
    """How many households that needed help the model found beside ``than``, in words that do not round a loss
    into a tie: "1,06 keer zoveel ... als", or "minder ... dan" below one."""
    times = texts.format_number(lift, "nl", digits=2)
    if lift >= 1.0:
        return f"{times} keer zoveel {who} als {than}"
    return f"minder {who} dan {than} ({times} keer zoveel)"


def _capacity_sentence(card: ModelCard) -> str:
    lift = card.performance.lift_over_rule
    k = card.capacity.k
    if lift is None:
        return f"Het team kan per periode ongeveer {k} huishoudens benaderen."
    rule = card.performance.rule_description
    periods = texts.test_periods(card)
    where = f"binnen wat het team aankan, over {periods} toetsperiodes," if periods > 1 else "binnen wat het team aankan"
    rule_text = f"de regel {rule.nl}" if rule is not None else "een regel zonder model"
    sentence = (
        f"Het team kan per periode ongeveer {k} huishoudens benaderen. In de toets vond het model {where} "
        f"{_as_many(lift, rule_text)}."
    )
    in_use = card.performance.in_use
    if in_use is not None and in_use.lift_over_rule is not None:
        # Per period a household can count in several months; the list in use holds it back after contact.
        sentence += (
            f" Nagebootst zoals de lijst werkt, met {in_use.cooldown_days} dagen wachttijd na contact, vond het "
            f"model {_as_many(in_use.lift_over_rule, 'die regel', 'huishoudens met een hulpvraag')}."
        )
    return sentence


def _goal(card: ModelCard, signal_data: bool) -> str:
    if not signal_data:
        return (
            "Het doel is om gevallen met het hoogste geschatte risico eerder te zien. " + _capacity_sentence(card)
        )
    return (
        "Het doel is om huishoudens te helpen voordat hun schulden te groot worden. Verhuurders, "
        "energieleveranciers, drinkwaterbedrijven en zorgverzekeraars melden een betalingsachterstand bij de "
        "gemeente. Het algoritme zet deze huishoudens op volgorde van risico op problematische schulden, en stelt "
        "voor hoe het eerste contact gaat: een huisbezoek of telefoontje bij een hoog risico, een brief bij een "
        "laag risico. " + _capacity_sentence(card) + " De impact voor inwoners: wie het meeste risico loopt, krijgt "
        "eerder en persoonlijker een aanbod van hulp. Niemand krijgt door het algoritme minder hulp: elk geldig "
        "signaal krijgt een aanbod, zoals de wet vraagt."
    )


def _proportionality(card: ModelCard, signal_data: bool) -> str:
    scorecard = card.performance.lift_over_scorecard
    compared = (
        f" Ook is het vergeleken met een eenvoudige scorekaart; het model vond {_as_many(scorecard, 'die scorekaart')}."
        if scorecard is not None
        else " Ook is het vergeleken met een eenvoudige scorekaart."
    )
    if not signal_data:
        return (
            "Het model is vergeleken met een regel en een scorekaart op dezelfde testgegevens." + compared + " "
            "Gebruik in de praktijk vraagt een eigen afweging van doel, grondslag en risico's."
        )
    lift = card.performance.lift_over_rule
    advantage = (
        "Voordeel: met dezelfde mensen bereikt het team eerder de huishoudens met het hoogste risico. "
        if lift is not None and lift >= 1.0
        else "Het voordeel dat een model moet brengen (met dezelfde mensen eerder de huishoudens met het hoogste "
        "risico bereiken) is voor deze versie niet aangetoond. "
    )
    proxies = [check for check in card.fairness.proxy if check.verdict == "fail"]
    sensitive = (
        "Het model gebruikt geen gevoelige gegevens zoals leeftijd, geslacht, herkomst of wijk als invoer. "
        + (
            "Maar de proxycontrole vond dat de invoer "
            + ", ".join(f"{_attribute_nl(check.attribute)} (AUC {texts.format_number(check.auc, 'nl', digits=2)})"
                        for check in proxies)
            + " toch te goed voorspelt. "
            if proxies
            else ""
        )
    )
    unestablished = [_attribute_nl(gate.attribute) for gate in card.fairness.primary_not_established()]
    audited = any(attribute.kind == "single" for attribute in card.fairness.attributes)
    not_found = (
        "kon voor " + ", ".join(unestablished) + " niet worden vastgesteld"
        if card.fairness.primary_gated()
        else "is niet getoetst, want er is geen drempel voor ingesteld"
        if audited
        else "is niet getoetst, want de datasetconfiguratie noemt geen gevoelige kenmerken"
    )
    conclusion = {
        "promotable": "Omdat elk signaal een aanbod houdt en een mens beslist, wegen de voordelen op tegen de "
        "nadelen. ",
        # The leading fairness criterion was not established: the committee's judgement, not the numbers, decides.
        "reviewer_decides": "Of het model de huishoudens met een hulpvraag in elke groep even goed vindt, "
        + not_found
        + "; of de voordelen dan opwegen tegen de nadelen, beoordeelt de ethische commissie "
        "zelf (zie het oordeel en de goedkeuring op de modelkaart). ",
        "not_promotable": "Deze versie voldoet niet aan de voorwaarden die vooraf zijn vastgelegd (zie het oordeel op "
        "de modelkaart); de voordelen wegen voor deze versie niet op tegen de nadelen en zij mag niet gebruikt "
        "worden. ",
    }[card.verdict.outcome]
    return (
        advantage
        + "Nadeel: een model kan fouten maken en groepen ongelijk behandelen, en het gebruikt gegevens over schulden "
        "van inwoners. Het alternatief is werken zonder model, met een vaste regel (zoals oudste signaal en crisis "
        "eerst, de regel waar de dienst op terugvalt). "
        + _capacity_sentence(card)
        + compared
        + " Het model verwerkt geen gegevens die de gemeente niet al heeft voor vroegsignalering. "
        + sensitive
        + conclusion
        + "De ethische commissie beoordeelt elke nieuwe versie voordat die gebruikt wordt."
    )


#: Dutch names of the catalogue's audit attributes (others are named by their column).
_ATTRIBUTES_NL = {"age_band": "leeftijd", "gender": "geslacht", "origin": "herkomst", "neighbourhood": "wijk"}


def _attribute_nl(name: str) -> str:
    return _ATTRIBUTES_NL.get(name, name.replace("_", " "))


def _human_intervention(signal_data: bool) -> str:
    if not signal_data:
        return (
            "Een mens beslist over elk geval. De score is alleen een advies; de medewerker kan ervan afwijken en "
            "legt vast waarom."
        )
    return (
        "Het algoritme beslist niets over een persoon. Zo gaat het: 1) de gemeente ontvangt signalen; 2) het "
        "algoritme zet de huishoudens op volgorde en geeft per huishouden de redenen in gewone woorden; 3) een "
        "schuldhulpverlener bekijkt de lijst, besluit wie zij benadert en hoe, en legt vast waarom als zij afwijkt "
        "van het advies; 4) elk huishouden met een geldig signaal krijgt een aanbod van hulp. Huishoudens die "
        "bezwaar maakten, staan nooit op de lijst. Per team wordt bijgehouden hoe vaak medewerkers afwijken; bijna "
        "nooit afwijken is een waarschuwing. De gemeente kan met één schakelaar terug naar de vaste regel (oudste "
        "signaal en crisis eerst). Een nieuwe versie van het model wordt pas gebruikt als de ethische commissie "
        "haar heeft goedgekeurd; elke stap wordt vastgelegd."
    )


def _risks(card: ModelCard, signal_data: bool) -> str:
    fairness = card.fairness
    verdict = texts.gates_summary(fairness.gates).nl if fairness.gates else "Er zijn geen drempels ingesteld."
    audited = ", ".join(_attribute_nl(a.name) for a in fairness.attributes if a.kind == "single") or "geen kenmerken"
    shared = (
        f" Risico op ongelijke behandeling: voor elke versie meten we per groep ({audited}) hoe goed het model werkt, met onzekerheidsmarges. Drempels die vooraf vastliggen houden een oneerlijk model "
        "tegen. " + verdict + " Een proxycontrole meet of de invoer toch gevoelige kenmerken verraadt."
    )
    if not signal_data:
        return "Risico's worden per versie gemeten en op de modelkaart gezet." + shared
    return (
        "Risico op vooringenomen labels: het label is alleen bekend voor mensen die in beeld kwamen. Een kleine "
        "willekeurige controlegroep krijgt de standaardaanpak, zodat de echte winst van het model meetbaar blijft."
        + shared
        + " Risico op veroudering: prestaties en eerlijkheid worden in de praktijk gevolgd, en het model wordt "
        "minstens één keer per jaar opnieuw getraind en beoordeeld. Privacy: het systeem krijgt alleen "
        "pseudoniemen, nooit een BSN; een DPIA is verplicht; gegevens worden na de bewaartermijn verwijderd."
    )


def _lawful_basis(signal_data: bool) -> str:
    if not signal_data:
        return "De organisatie vult hier de wettelijke grondslag in van het proces waarin het algoritme wordt gebruikt."
    return (
        "De gemeente doet aan vroegsignalering op grond van de Wet gemeentelijke schuldhulpverlening (Wgs), artikel "
        "3. Die wet regelt dat partners zoals verhuurders, energieleveranciers, drinkwaterbedrijven en "
        "zorgverzekeraars betalingsachterstanden aan de gemeente melden, zodat de gemeente inwoners vroeg hulp kan "
        "aanbieden. Het Besluit gemeentelijke schuldhulpverlening werkt uit welke gegevens zij doorgeven."
    )


def _source_data(card: ModelCard, signal_data: bool) -> str:
    labels = ", ".join(entry.label_nl for entry in card.features)
    if not signal_data:
        return f"Kolommen van de dataset die het model gebruikt: {labels}."
    return (
        "Signalen van betalingsachterstanden van verhuurders, energieleveranciers, drinkwaterbedrijven, "
        "zorgverzekeraars en andere partners (bedrag, begin van de achterstand, datum van het signaal, crisis, "
        "einde levering), en gegevens die de gemeente over het huishouden heeft (huishoudtype, uitkering, "
        "gemeentelijke belastingen, eerdere schuldhulp, verhuizing). Het model gebruikt deze kenmerken: "
        f"{labels}. Leeftijd, geslacht, herkomst en wijk worden alleen gebruikt om te toetsen of het model eerlijk "
        "is, nooit om te scoren."
    )


def _methods_and_models(card: ModelCard, card_url: str | None, signal_data: bool) -> str:
    details = card.model_details
    model = card.performance.models["model"]
    where = f" De modelkaart met alle cijfers en grafieken: {card_url}" if card_url else (
        " De modelkaart met alle cijfers en grafieken hoort bij het model (card.html)."
    )
    kind = (
        "een gewogen combinatie van beslisboommodellen (LightGBM, gradient boosting), gekozen om groepen gelijker te "
        "behandelen (fairlearn)"
        if card.fairness.mitigation is not None
        else "beslisbomen met gradient boosting (LightGBM), die stoppen met leren zodra het model niet meer beter wordt"
    )
    direction = (
        "Meer achterstand kan de score nooit verlagen (monotone beperkingen). "
        if signal_data
        else "Voor de kenmerken die de configuratie een vaste richting geeft, kan meer nooit de andere kant op "
        "werken (monotone beperkingen). "
    )
    return (
        f"Soort model: {kind}. Het model is getraind op gegevens uit het verleden en leert niet "
        "zelf bij tijdens het gebruik; een nieuwe versie wordt apart getraind, getoetst en goedgekeurd. "
        + direction
        + "De score is een gekalibreerde kans. De redenen bij een score komen uit de bijdrage van elk kenmerk aan "
        "die score (exacte TreeSHAP). Op de testset: "
        f"AUC {texts.format_number(model.auc, 'nl', digits=2)}, kalibratiefout "
        f"{texts.format_number(model.calibration_error, 'nl', digits=3)}. Versie: {details.name} {details.version}."
        + where
    )