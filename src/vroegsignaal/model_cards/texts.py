"""Every sentence a model card says by default, in Dutch (B1 where possible) and English.

The training pipeline fills the card's intended use, ethical considerations, caveats and data descriptions from
here, so the wording lives in one place that a privacy officer can review. Signal data (``feature_set ==
"catalogue"``) gets texts that state the domain facts of proactive debt assistance: the score is advice, every
signal gets an offer, the label carries selection bias, a control sample measures the real gain, sensitive
attributes are for the audit only, and why (Dutch precedents). A data set with its own columns (``"custom"``) gets a
neutral variant that claims nothing about its domain.

The module also holds the labels of the rendered card (headings, column names, verdict words) and the sentences
built from numbers (gates, verdict reasons), so the templates contain no language of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from vroegsignaal.number_format import format_decimal, format_estimate
from vroegsignaal.schemas.card import (
    PROXY_GATE,
    DataValidation,
    FairnessSection,
    FeatureSet,
    GateResult,
    IntendedUse,
    Lang,
    LocalizedText,
    ModelCard,
    Verdict,
)
from vroegsignaal.schemas.enums import AgeBand, Gender, LabelledEnum, Origin


def _t(nl: str, en: str) -> LocalizedText:
    return LocalizedText(nl=nl, en=en)


# --- intended use --------------------------------------------------------------------------------------------------

_SIGNAL_USES = (
    _t(
        "De volgorde bepalen waarin het team huishoudens met een betalingsachterstand benadert: wie krijgt als "
        "eerste een aanbod van hulp.",
        "Ordering the outreach work: which households with payment arrears the team approaches first with an offer "
        "of help.",
    ),
    _t(
        "Voorstellen hoe het eerste contact gaat: een huisbezoek of telefoontje bij het hoogste risico, een brief "
        "bij het laagste risico.",
        "Suggesting how to make first contact: a home visit or a phone call for the highest risk, a letter for the "
        "lowest.",
    ),
    _t(
        "Huishoudens laten zien bij wie een paar kleine signalen samen wijzen op een groter probleem.",
        "Surfacing households whose weak signals together point to a bigger problem.",
    ),
)
_SIGNAL_USERS = (
    _t(
        "Schuldhulpverleners van de gemeente die de lijst voor vroegsignalering afwerken.",
        "Municipal debt-assistance caseworkers who work the proactive outreach list.",
    ),
    _t(
        "De ethische commissie en de privacyfunctionaris, die het model beoordelen en toezicht houden.",
        "The ethics committee and the privacy officer, who review the model and oversee its use.",
    ),
    _t(
        "Datawetenschappers van de gemeente, die het model onderhouden en opnieuw trainen.",
        "The municipality's data scientists, who maintain and retrain the model.",
    ),
)
_SIGNAL_OUT_OF_SCOPE = (
    _t(
        "Beslissen over een persoon. De score is een advies. Een medewerker beslist, en mag en moet afwijken als "
        "de situatie daarom vraagt (artikel 22 AVG).",
        "Deciding about a person. The score is advice. A caseworker decides, and may and must depart from it when "
        "the situation calls for it (GDPR art. 22).",
    ),
    _t(
        "Signalen laten vallen. De Wet gemeentelijke schuldhulpverlening vraagt een aanbod van hulp bij elk geldig "
        "signaal. Het model bepaalt alleen de volgorde en de manier van contact, niet óf er contact komt.",
        "Dropping signals. The Municipal Debt Assistance Act (Wgs) requires an offer of help for every valid "
        "signal. The model only sets the order and the way of contact, never whether there is contact.",
    ),
    _t(
        "Fraude opsporen, handhaven, sancties opleggen, of beslissen over een uitkering, toeslag of andere "
        "voorziening.",
        "Fraud detection, enforcement, sanctions, or decisions about benefits, allowances or other provisions.",
    ),
    _t(
        "Huishoudens op de lijst zetten die bezwaar hebben gemaakt (artikel 21 AVG) of die kort geleden al zijn "
        "benaderd (afkoelperiode).",
        "Listing households that objected (GDPR art. 21) or were contacted recently (cooldown period).",
    ),
    _t(
        "Gebruik in een andere gemeente, op andere gegevens of na een grote verandering (nieuwe signaalpartner, "
        "nieuwe wet) zonder opnieuw te trainen, te toetsen en goed te keuren.",
        "Use in another municipality, on other data or after a major change (new signal partner, new law) without "
        "retraining, re-evaluation and approval.",
    ),
    _t(
        "Leeftijd, geslacht, herkomst, wijk of andere gevoelige gegevens als invoer gebruiken. Die gegevens dienen "
        "alleen om te toetsen of het model eerlijk is.",
        "Using age, gender, origin, neighbourhood or other sensitive data as input. Those data serve only to audit "
        "whether the model is fair.",
    ),
)

_CUSTOM_USES = (
    _t(
        "De rijen van deze dataset ordenen naar geschat risico, zodat mensen kunnen kiezen waar ze eerst kijken.",
        "Ranking the rows of this data set by estimated risk, so people can choose where to look first.",
    ),
    _t(
        "Laten zien hoe het model, de regel en de scorekaart zich tot elkaar verhouden, en hoe eerlijk het model is "
        "per groep.",
        "Showing how the model compares with the rule and the scorecard, and how fair it is per group.",
    ),
)
_CUSTOM_USERS = (
    _t("Datawetenschappers die het model maken en toetsen.", "Data scientists who build and evaluate the model."),
    _t(
        "Beoordelaars die beslissen of het model gebruikt mag worden.",
        "Reviewers who decide whether the model may be used.",
    ),
)
_CUSTOM_OUT_OF_SCOPE = (
    _t(
        "Automatisch beslissen over personen. Een score is een advies; een mens beslist.",
        "Automated decisions about people. A score is advice; a person decides.",
    ),
    _t(
        "Gebruik in de praktijk zonder een eigen beoordeling van het doel, de wettelijke grondslag en de risico's "
        "(DPIA).",
        "Use in practice without a review of its own purpose, legal basis and risks (DPIA).",
    ),
    _t(
        "Gebruik op andere gegevens dan die waarop het model is getraind en getoetst.",
        "Use on data other than the data the model was trained and evaluated on.",
    ),
)


def default_intended_use(feature_set: FeatureSet) -> IntendedUse:
    """Intended and out-of-scope use: the signal-data texts for ``"catalogue"``, a neutral variant for ``"custom"``."""
    if feature_set == "catalogue":
        return IntendedUse(
            primary_uses=list(_SIGNAL_USES), primary_users=list(_SIGNAL_USERS), out_of_scope=list(_SIGNAL_OUT_OF_SCOPE)
        )
    return IntendedUse(
        primary_uses=list(_CUSTOM_USES), primary_users=list(_CUSTOM_USERS), out_of_scope=list(_CUSTOM_OUT_OF_SCOPE)
    )


# --- ethical considerations ----------------------------------------------------------------------------------------

_HUMAN_DECIDES = _t(
    "Een mens beslist. Het model geeft alleen een volgorde en een advies. De medewerker legt vast wat zij besluit "
    "en waarom zij afwijkt van het advies. Als bijna niemand ooit afwijkt, is dat een waarschuwing: dan volgen "
    "mensen het advies misschien blind.",
    "A person decides. The model only gives an order and advice. The caseworker records the decision and why it "
    "departs from the advice. If almost nobody ever departs from it, that is a warning sign of automation bias.",
)
_HARM_BOTH_WAYS = _t(
    "Fouten doen in twee richtingen pijn. Een huishouden dat hulp nodig had en gemist wordt (fout-negatief), is "
    "het ergste. Onnodig contact (fout-positief) voelt als inmenging en kan een stempel geven. Daarom kijken we "
    "vooral of het model in elke groep even goed de mensen vindt die hulp nodig hebben (gelijke recall), en ook "
    "naar onnodig contact per groep.",
    "Harm runs both ways. A household that needed help and is missed (false negative) is the worst outcome. "
    "Needless contact (false positive) is intrusive and can stigmatise. Fairness is therefore led by equal recall "
    "across groups (equal opportunity), with false-positive rates reported per group as well.",
)
_SENSITIVE_AUDIT_ONLY = _t(
    "Gevoelige gegevens zijn nooit invoer van het model. Leeftijd, geslacht, herkomst en wijk gebruiken we alleen "
    "om te toetsen of het model eerlijk is. Nationaliteit, etniciteit, taalvaardigheid, gezondheid, geloof en vrije "
    "tekst van medewerkers gebruiken we helemaal niet. Nederland heeft geleerd waarom: de toeslagenaffaire "
    "(nationaliteit als risico-indicator, beboet), SyRI (door de rechter verboden in 2020), het "
    "bijstandsfraudemodel van Rotterdam (geslacht, leeftijd, taal en wijk als invoer) en de 'Slimme Check' van "
    "Amsterdam (herweging verschoof de vooringenomenheid naar andere groepen; gestopt in 2023).",
    "Sensitive attributes are never model inputs. Age band, gender, origin and neighbourhood are used only to audit "
    "fairness. Nationality, ethnicity, language ability, health, religion and caseworkers' free text are not used "
    "at all. Dutch precedents show why: the childcare-benefits scandal (nationality as a risk indicator, fined), "
    "SyRI (struck down in court, 2020), Rotterdam's welfare-fraud model (gender, age, language and neighbourhood as "
    "inputs) and Amsterdam's 'Slimme Check' (reweighting moved the bias onto other groups; stopped in 2023).",
)
_PROXIES = _t(
    "Ook zonder gevoelige invoer kan een model een groep anders behandelen, via kenmerken die met die groep "
    "samenhangen (bijvoorbeeld soort uitkering of huishoudtype). De proxycontrole meet hoe goed de kenmerken een "
    "gevoelig kenmerk voorspellen, en een drempel houdt het model tegen als dat te goed lukt.",
    "Even without sensitive inputs a model can treat a group differently through features that correlate with it "
    "(for example benefit type or household type). The proxy check measures how well the features predict each "
    "audit attribute, and a gate blocks the model when they do so too well.",
)
_PRIVACY = _t(
    "Dit is een AI-systeem met een hoog risico (AI-verordening: profilering voor toegang tot essentiële "
    "overheidsdiensten). Een DPIA is verplicht. Het systeem krijgt alleen pseudoniemen, nooit een BSN. Wie bezwaar "
    "maakt, komt niet op de lijst. Signalen en scores worden na de bewaartermijn verwijderd; logboeken blijven "
    "minstens 6 maanden bewaard.",
    "This is a high-risk AI system (AI Act: profiling for access to essential public services). A DPIA is "
    "mandatory. The system receives pseudonyms only, never a BSN. Residents who object are never listed. Signals "
    "and scores are purged after the retention period; logs are kept for at least 6 months.",
)
_CUSTOM_SENSITIVE = _t(
    "Gevoelige kenmerken uit de datasetconfiguratie zijn nooit invoer van het model; ze dienen alleen om te "
    "toetsen of het model eerlijk is. Kenmerken die daar sterk mee samenhangen, kunnen toch een groep benadelen: "
    "zie de proxycontrole.",
    "Sensitive attributes named in the dataset config are never model inputs; they serve only to audit fairness. "
    "Features strongly related to them can still disadvantage a group: see the proxy check.",
)
_CUSTOM_HARM = _t(
    "Fouten doen in twee richtingen pijn: een gemist geval (fout-negatief) en een onterechte selectie "
    "(fout-positief). Welke fout het zwaarst weegt, hangt af van het gebruik. De kaart toont daarom beide per groep.",
    "Harm runs both ways: a missed case (false negative) and a wrongful selection (false positive). Which weighs "
    "more depends on the use, so the card reports both per group.",
)
_CUSTOM_PERSONAL_DATA = _t(
    "Gaat het om persoonsgegevens, dan zijn een doel, een wettelijke grondslag en een DPIA nodig voordat het model "
    "in de praktijk wordt gebruikt.",
    "If the data are personal data, a purpose, a legal basis and a DPIA are needed before the model is used in "
    "practice.",
)


def default_ethical_considerations(feature_set: FeatureSet) -> list[LocalizedText]:
    """Ethical considerations for signal data, or the neutral variant for a custom data set."""
    if feature_set == "catalogue":
        return [_HUMAN_DECIDES, _HARM_BOTH_WAYS, _SENSITIVE_AUDIT_ONLY, _PROXIES, _PRIVACY]
    return [_HUMAN_DECIDES, _CUSTOM_HARM, _CUSTOM_SENSITIVE, _CUSTOM_PERSONAL_DATA]


# --- caveats and recommendations -----------------------------------------------------------------------------------

_SELECTION_BIAS = _t(
    "Het label heeft een selectie-effect. We weten alleen van mensen die de gemeente bereikte of die zelf hulp "
    "vroegen of zij in de schuldhulp kwamen. Wie niet bereikt werd, telt misschien ten onrechte als 'geen "
    "schulden' (een label uit de registratie van de schuldhulp) of heeft geen label (de bevindingen van "
    "schuldhulpverleners, zoals de service ze exporteert). Zo kan het model groepen die moeilijk te bereiken zijn "
    "te laag inschatten. Meet de winst van het model daarom ook in de controlegroep: een kleine willekeurige groep "
    "huishoudens die de standaardaanpak krijgt, los van de score.",
    "The label carries selection bias. Whether someone entered debt assistance is only known for people the "
    "municipality reached or who asked for help themselves. Someone who was never reached may wrongly count as "
    "'no debt' (a label from the debt-assistance register) or have no label at all (caseworkers' findings, as the "
    "service exports them). The model can therefore underrate groups that are hard to reach. Measure the model's "
    "gain in the control sample too: a small random group of households that gets the standard approach "
    "regardless of score.",
)
_SMALL_GROUPS = _t(
    "Kleine groepen hebben brede onzekerheidsmarges. Een groep die te klein is om te beoordelen, is daarmee niet "
    "eerlijk behandeld: kijk naar de groepsgrootte en de marge, niet alleen naar het getal.",
    "Small groups have wide confidence intervals. A group too small to judge has not thereby been treated fairly: "
    "look at the group size and the interval, not only at the number.",
)
_CAPACITY = _t(
    "De getallen bij capaciteit gelden voor k huishoudens per periode. Kan het team meer of minder mensen "
    "benaderen, dan veranderen precisie en recall. Pas dan de capaciteit in de configuratie aan en toets opnieuw.",
    "The capacity metrics hold for k households per period. If the team can contact more or fewer people, "
    "precision and recall change. Update the capacity in the config and evaluate again.",
)
_DRIFT = _t(
    "De wereld verandert: een economische tegenslag, een nieuwe wet of een nieuwe signaalpartner verandert de "
    "signalen. Volg de prestaties en de eerlijkheid in de praktijk, vergelijk steeds met de regel, en train het "
    "model minstens één keer per jaar opnieuw.",
    "The world changes: an economic shock, a new law or a new signal partner changes the signals. Monitor "
    "performance and fairness in practice, keep comparing with the rule, and retrain at least once a year.",
)
_SCORE_MEANING = _t(
    "De score is een kans voor een groep vergelijkbare huishoudens in de testperiode, geen oordeel over één "
    "persoon. Gegevens buiten het bereik van de training worden gemarkeerd; bekijk die huishoudens met extra zorg.",
    "The score is a probability for a group of similar households in the test period, not a judgement about one "
    "person. Inputs outside the training range are flagged; look at those households with extra care.",
)
_SYNTHETIC = _t(
    "Dit model is getraind op een synthetische gemeente. De getallen laten zien hoe de methode werkt, maar zeggen "
    "niets over een echte gemeente. Gebruik het model niet voor echte huishoudens.",
    "This model was trained on a synthetic municipality. Its numbers show how the method works but say nothing "
    "about a real municipality. Do not use it for real households.",
)
_CUSTOM_LABEL = _t(
    "Het label komt uit een bestaand proces en kan de keuzes en vooroordelen van dat proces bevatten.",
    "The label comes from an existing process and can carry that process's choices and biases.",
)
_CUSTOM_CAPACITY = _t(
    "De getallen bij capaciteit gelden voor de k gevallen met de hoogste score. Verandert k, dan veranderen precisie "
    "en recall: toets dan opnieuw.",
    "The capacity metrics hold for the k cases with the highest score. If k changes, precision and recall change: "
    "evaluate again.",
)
_CUSTOM_SCOPE = _t(
    "De resultaten gelden voor deze dataset. Toets opnieuw zodra de gegevens of de manier van meten veranderen.",
    "The results hold for this data set. Evaluate again as soon as the data or the way they are measured change.",
)


def default_caveats(feature_set: FeatureSet, *, synthetic: bool) -> list[LocalizedText]:
    """Caveats and recommendations; ``synthetic`` adds the warning that the data were generated."""
    if feature_set == "catalogue":
        caveats = [_SELECTION_BIAS, _SMALL_GROUPS, _CAPACITY, _DRIFT, _SCORE_MEANING]
    else:
        caveats = [_CUSTOM_LABEL, _SMALL_GROUPS, _CUSTOM_CAPACITY, _CUSTOM_SCOPE]
    return [_SYNTHETIC, *caveats] if synthetic else caveats


# --- data descriptions ---------------------------------------------------------------------------------------------

_SIGNAL_LABEL = _t(
    "Het label is 'ja' als het huishouden binnen 12 maanden na de peildatum in problematische schulden kwam "
    "(instroom in de schuldhulpverlening). Dat is alleen bekend voor mensen die in beeld kwamen bij de gemeente: "
    "wie niet bereikt werd, kan ten onrechte 'nee' hebben.",
    "The label is 'yes' when the household entered problematic debt (debt assistance) within 12 months after the "
    "reference date. That is only known for people who came into the municipality's view: someone never reached "
    "may wrongly be 'no'.",
)
_SIGNAL_DATA = _t(
    "Signalen van betalingsachterstanden (huur, energie, drinkwater, zorgverzekering en andere partners volgens de "
    "Wgs) en gegevens die de gemeente over het huishouden heeft. Eén rij is één huishouden op één peildatum.",
    "Arrears signals (rent, energy, drinking water, health insurance and other partners under the Wgs) and "
    "household facts the municipality holds. One row is one household on one reference date.",
)


def default_label_description(feature_set: FeatureSet, *, config_text: str = "") -> LocalizedText:
    """How the label was made: the signal-data text, or the dataset config's own text for a custom data set.

    A custom config's ``label_description`` is written in one language; the card shows it as given and says so,
    rather than pretend to a translation. Without one, the card says the label's origin is undocumented.
    """
    if feature_set == "catalogue" and not config_text:
        return _SIGNAL_LABEL
    if config_text:
        return _t(f"Uit de datasetconfiguratie: {config_text}", f"From the dataset config: {config_text}")
    return _t(
        "De datasetconfiguratie beschrijft niet hoe het label tot stand kwam. Vraag dit na voordat u het model "
        "beoordeelt.",
        "The dataset config does not describe how the label was made. Find out before you judge the model.",
    )


def default_data_description(feature_set: FeatureSet, *, config_text: str = "") -> LocalizedText:
    """What one row of the data is and where the data come from."""
    if feature_set == "catalogue":
        return _SIGNAL_DATA
    if config_text:
        return _t(f"Uit de datasetconfiguratie: {config_text}", f"From the dataset config: {config_text}")
    return _t("Een tabel met één rij per geval.", "A table with one row per case.")


def evaluation_description(
    split: Literal["temporal", "stratified"], periods: Sequence[str] | None, *, label_horizon_days: int = 365
) -> LocalizedText:
    """How the test set was chosen, with its first and last period for a temporal split, and what the temporal test
    does not show: in use a model learns only from periods whose outcome is known, so it is older than this test's
    (unless an outcome is known when it is recorded, as in the decisions export: a horizon of 0 days)."""
    if split == "temporal" and periods:
        first, last = periods[0], periods[-1]
        tested = _t(
            f"De laatste perioden ({first} tot en met {last}). Het model is getraind op eerdere perioden en getoetst "
            "op latere, zoals het ook gebruikt wordt.",
            f"The latest periods ({first} to {last}). The model was trained on earlier periods and tested on later "
            "ones, as it will be used.",
        )
        if label_horizon_days <= 0:
            return tested
        days = label_horizon_days
        span_nl, span_en = ("een jaar", "a year") if days == 365 else (f"{days} dagen", f"{days} days")
        return _t(
            f"{tested.nl} Eén verschil: in gebruik leert een model alleen van perioden waarvan de uitkomst "
            f"({label_horizon_days} dagen) al bekend is. De laatste trainingsperioden hier waren dat nog niet toen de "
            f"toetsperioden begonnen. Deze toets laat dus niet zien wat {span_nl} verandering in de bevolking kost.",
            f"{tested.en} One difference: in use a model learns only from periods whose outcome "
            f"({label_horizon_days} days) is already known. The latest training periods here were not yet known when "
            f"the test periods began, so this test does not show what {span_en} of change in the population costs.",
        )
    return _t(
        "Een willekeurig deel van de rijen, met dezelfde verhouding ja/nee als de hele dataset. De dataset heeft "
        "geen tijdkolom.",
        "A random share of the rows with the same yes/no ratio as the whole data set. The data set has no time "
        "column.",
    )


def test_periods(card: ModelCard) -> int:
    """The periods the top k was taken in: the card's count (the time column's values), else its month list."""
    return card.capacity.periods if card.capacity.periods is not None else len(card.evaluation_data.periods or ())


def counting_unit(
    *, selected_rows: int, selected_households: int, positive_rows: int, positive_households: int
) -> LocalizedText | None:
    """What the capacity metrics count, when a household has rows in several test periods (else ``None``)."""
    if selected_rows == selected_households and positive_rows == positive_households:
        return None
    return _t(
        f"De maten bij de capaciteit tellen rijen: een huishouden met signalen in meer toetsperioden telt in elke "
        f"periode mee. De keuze van het model bij de capaciteit is {selected_rows} rijen van {selected_households} "
        f"huishoudens; de {positive_rows} rijen die hulp nodig hadden zijn {positive_households} huishoudens. In "
        "gebruik wacht een huishouden na contact ongeveer een half jaar (de standaard van de dienst), tenzij de "
        "achterstand stijgt; de tabel van de lijst in gebruik bootst de lijst met die wachttijd na.",
        f"The capacity metrics count rows: a household signalled in several test periods counts in each. The "
        f"model's selection at capacity is {selected_rows} rows of {selected_households} households; the "
        f"{positive_rows} rows that needed help are {positive_households} households. In use a household contacted "
        "is held back for about six months (the service's default) unless its arrears rise; the table of the "
        "list in use replays the list with that wait.",
    )


def in_use_summary(
    *, cooldown_days: int, model: Mapping[str, Any], rule: Mapping[str, Any] | None, lift_over_rule: float | None
) -> LocalizedText:
    """The list replayed with the cooldown: what the model's list reaches, beside the rule's (mappings of
    ``InUseList`` fields)."""

    def sentences(lang: Lang) -> str:
        def count(value: int) -> str:
            return format_count(value, lang)

        def share(value: float | None) -> str:
            return "–" if value is None else format_number(value, lang, digits=2)

        days, households, contacts = count(cooldown_days), count(model["households"]), count(model["contacts"])
        found, helped, in_need = count(model["found"]), count(model["households_helped"]), count(
            model["households_in_need"]
        )
        precision, reach = share(model["precision"]), share(model["household_recall"])
        if lang == "nl":
            text = (
                f"Zo werkt de lijst in gebruik: een huishouden dat contact kreeg, wacht {days} dagen en zijn plek gaat "
                f"naar het volgende. Dan benadert het model {households} huishoudens in {contacts} contacten; {found} "
                f"contacten troffen een huishouden dat op dat moment hulp nodig had (precisie {precision}). Zo bereikt "
                f"het {helped} van de {in_need} huishoudens met een hulpvraag (aandeel {reach})."
            )
        else:
            text = (
                f"This is how the list works in use: a household that was contacted waits {days} days and its slot "
                f"goes to the next one. The model's list then contacts {households} households in {contacts} "
                f"contacts; {found} contacts met a household that needed help at the time (precision {precision}). "
                f"So it reaches {helped} of the {in_need} households in need (share {reach})."
            )
        if rule is not None:
            lift = "–" if lift_over_rule is None else format_number(lift_over_rule, lang, digits=2)
            rule_precision, rule_reach = share(rule["precision"]), share(rule["household_recall"])
            text += (
                f" De regel, op dezelfde manier nagebootst: precisie {rule_precision}, aandeel {rule_reach}; zo "
                f"gebruikt bereikt het model {lift} keer zoveel huishoudens met een hulpvraag als de regel."
                if lang == "nl"
                else f" The rule, replayed the same way: precision {rule_precision}, share {rule_reach}; used this "
                f"way the model reaches {lift} times as many households in need as the rule."
            )
        text += (
            " De nabootsing begint zonder eerdere contacten (in de eerste toetsperiode wacht niemand) en laat een "
            "huishouden met een stijgende achterstand niet eerder terugkomen, zoals de dienst wel doet."
            if lang == "nl"
            else " The replay starts without earlier contacts (nobody waits in the first test period), and it does "
            "not let a household whose arrears rise come back early, as the service does."
        )
        return text

    return _t(sentences("nl"), sentences("en"))


def rule_description(keys: Sequence[tuple[str, str, bool]]) -> LocalizedText | None:
    """The rule the model is compared with, from its sort keys ``(label_nl, label_en, descending)`` in order."""
    if not keys:
        return None
    nl = [f"{label_nl} ({'hoogste' if descending else 'laagste'} eerst)" for label_nl, _, descending in keys]
    en = [f"{label_en} ({'highest' if descending else 'lowest'} first)" for _, label_en, descending in keys]
    return _t("op volgorde van " + ", dan ".join(nl), "ordered by " + ", then ".join(en))


def capacity_description(k: int, *, fraction: float | None = None) -> LocalizedText:
    """How the capacity k was set: a share of the scored households or a fixed count."""
    if fraction is not None:
        share_nl = f"{fraction * 100:.0f}".replace(".", ",")
        return _t(
            f"Het team kan per periode ongeveer {share_nl}% van de huishoudens benaderen: k = {k}.",
            f"The team can contact about {fraction * 100:.0f}% of the households per period: k = {k}.",
        )
    return _t(
        f"Het team kan per periode {k} huishoudens benaderen.", f"The team can contact {k} households per period."
    )


# --- verdict -------------------------------------------------------------------------------------------------------


def default_verdict(
    fairness: FairnessSection,
    data_validation: DataValidation,
    *,
    lift_over_rule: float | None = None,
    lift_over_rule_in_use: float | None = None,
) -> Verdict:
    """The card's verdict: promotable only when no gate failed, the data validated without failures, and the
    model found at capacity at least as many households that needed help as the rule it would replace.

    A gate with too little data, or one whose interval crosses its threshold, does not block promotion, but it is
    named as a reason, so the committee sees that fairness could not be judged there. When that gate is the
    leading criterion's (recall parity), or no gate checks that criterion at all (the config switched it off, or
    there are no audit attributes), the outcome is ``reviewer_decides``, not ``promotable``: a model whose
    leading criterion was never established must not read like one that met it. The service still lets a reviewer
    approve it, with a comment. A list in use (the replay with the cooldown) that reached fewer households in need
    than the rule's is named too: on a municipality's few test months that count differs by a household or two
    from one data set to the next, too little to block on, too much to leave unsaid.
    """
    unchecked = not fairness.primary_gated()
    unestablished = fairness.primary_not_established()
    reasons: list[LocalizedText] = []
    if unchecked:
        reasons.append(_primary_not_checked(audited=any(a.kind == "single" for a in fairness.attributes)))
    elif unestablished:
        reasons.append(_primary_not_established(unestablished))
    worse_than_rule = lift_over_rule is not None and lift_over_rule < 1.0
    if worse_than_rule:
        reasons.append(
            _t(
                f"Bij de capaciteit vond het model minder huishoudens die hulp nodig hadden dan de regel "
                f"({format_number(lift_over_rule, 'nl', digits=2)} keer zoveel): het werkt niet beter dan de "
                "werkwijze die het zou vervangen.",
                f"At capacity the model found fewer households that needed help than the rule "
                f"({format_number(lift_over_rule, 'en', digits=2)} times as many): it does no better than the way "
                "of working it would replace.",
            )
        )
    worse_in_use = lift_over_rule_in_use is not None and lift_over_rule_in_use < 1.0
    if worse_in_use:
        reasons.append(
            _t(
                "Zoals de lijst in gebruik werkt (met de wachttijd na contact) bereikte het model minder huishoudens "
                f"met een hulpvraag dan de regel ({format_number(lift_over_rule_in_use, 'nl', digits=2)} keer "
                "zoveel). Weeg dit mee.",
                "As the list works in use (with the wait after contact) the model reached fewer households in need "
                f"than the rule ({format_number(lift_over_rule_in_use, 'en', digits=2)} times as many). Weigh it.",
            )
        )
    for gate in fairness.gates:
        if gate.verdict != "pass":
            reasons.append(describe_gate(gate))
    # The audit lists a gated proxy check among the gates too; a card built without that gate still names it.
    proxy_gated = {gate.attribute for gate in fairness.gates if gate.metric == PROXY_GATE}
    for check in fairness.proxy:
        if check.verdict == "fail" and check.attribute not in proxy_gated:
            auc = format_number(check.auc, "nl", digits=2)
            reasons.append(
                _t(
                    f"Proxycontrole '{check.attribute}': de kenmerken voorspellen dit kenmerk te goed (AUC {auc}).",
                    f"Proxy check '{check.attribute}': the features predict this attribute too well "
                    f"(AUC {format_number(check.auc, 'en', digits=2)}).",
                )
            )
    if data_validation.failures:
        count = len(data_validation.failures)
        reasons.append(
            _t(
                f"De gegevenscontrole vond {count} {'probleem' if count == 1 else 'problemen'}.",
                f"Data validation found {count} {'problem' if count == 1 else 'problems'}.",
            )
        )
    failed_gate = any(gate.verdict == "fail" for gate in fairness.gates)
    failed_proxy = any(check.verdict == "fail" for check in fairness.proxy)
    promotable = (
        fairness.passed and not failed_gate and not failed_proxy and not data_validation.failures
        and not worse_than_rule
    )
    if promotable and not reasons:
        reasons.append(
            _t(
                "Alle eerlijkheidsdrempels zijn gehaald en de gegevens zijn zonder fouten gecontroleerd.",
                "Every fairness gate passed and the data validated without failures.",
            )
        )
    outcome = "not_promotable" if not promotable else "reviewer_decides" if unchecked or unestablished else "promotable"
    return Verdict(promotable=promotable, outcome=outcome, reasons=reasons)


def _primary_not_established(gates: Sequence[GateResult]) -> LocalizedText:
    """Which attributes' recall parity could not be established, and why: too few data or an uncertain interval."""
    too_few = [gate.attribute for gate in gates if gate.verdict == "insufficient_data"]
    uncertain = [gate.attribute for gate in gates if gate.verdict == "inconclusive"]
    because_nl, because_en = [], []
    if too_few:
        because_nl.append(
            f"{_listed(too_few, 'en')} (te weinig huishoudens met een hulpvraag in genoeg groepen om ze te "
            "vergelijken)"
        )
        because_en.append(
            f"{_listed(too_few, 'and')} (too few households in need in enough groups to compare them)"
        )
    if uncertain:
        because_nl.append(f"{_listed(uncertain, 'en')} (de marge loopt over de drempel)")
        because_en.append(f"{_listed(uncertain, 'and')} (the interval crosses the threshold)")
    return _t(
        f"Gelijke recall, het leidende eerlijkheidscriterium, kon niet worden vastgesteld voor "
        f"{' en voor '.join(because_nl)}. Het model is daar niet eerlijk en niet oneerlijk bevonden: "
        f"{_REVIEWER_JUDGES.nl}",
        "Recall parity, the leading fairness criterion, could not be established for "
        f"{' and for '.join(because_en)}. The model is shown neither fair nor unfair there: {_REVIEWER_JUDGES.en}",
    )


def _primary_not_checked(*, audited: bool) -> LocalizedText:
    """Recall parity was never looked at: no gate for it in the config, or no audit attribute to check it for."""
    because_nl, because_en = (
        ("de configuratie stelt er geen drempel voor in", "the config sets no gate for it")
        if audited
        else ("de datasetconfiguratie noemt geen gevoelige kenmerken", "the dataset config names no audit attributes")
    )
    return _t(
        f"Gelijke recall, het leidende eerlijkheidscriterium, is niet getoetst: {because_nl}. Het model is op dit "
        f"punt niet eerlijk en niet oneerlijk bevonden: {_REVIEWER_JUDGES.nl}",
        f"Recall parity, the leading fairness criterion, was not checked: {because_en}. The model is shown neither "
        f"fair nor unfair on it: {_REVIEWER_JUDGES.en}",
    )


_REVIEWER_JUDGES = _t(
    "de ethische commissie moet dit zelf beoordelen, en wie het model goedkeurt, zegt in de toelichting waarom.",
    "the ethics reviewer must judge it, and a reviewer who approves the model says why in the approval comment.",
)


def _listed(attributes: Sequence[str], conjunction: str) -> str:
    """``"'a', 'b' and 'c'"``: quoted attribute names joined the way a sentence lists them."""
    quoted = [f"'{attribute}'" for attribute in attributes]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} {conjunction} {quoted[-1]}"


# --- sentences built from numbers ----------------------------------------------------------------------------------

_COMPARISON_NL = {">=": "minstens", "<=": "hoogstens", ">": "meer dan", "<": "minder dan"}
_COMPARISON_EN = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}


def describe_gate(gate: GateResult) -> LocalizedText:
    """A plain sentence per language: what the gate requires, what was measured, and the verdict."""
    metric_nl, metric_en = gate_metric_label(gate.metric, "nl"), gate_metric_label(gate.metric, "en")
    value_nl, value_en = (
        format_estimate(gate.value, gate.ci_low, gate.ci_high, lang, missing=NOT_AVAILABLE[lang], interval_word=word)
        for lang, word in (("nl", "marge"), ("en", "interval"))
    )
    rule_nl = f"{_COMPARISON_NL[gate.comparison]} {format_number(gate.threshold, 'nl', digits=2)}"
    rule_en = f"{_COMPARISON_EN[gate.comparison]} {format_number(gate.threshold, 'en', digits=2)}"
    if gate.verdict == "insufficient_data":
        return _t(
            f"'{gate.attribute}': {metric_nl} moet {rule_nl} zijn, maar er zijn te weinig gegevens om dat te "
            "beoordelen.",
            f"'{gate.attribute}': {metric_en} must be {rule_en}, but there are too few data to judge it.",
        )
    if gate.verdict == "inconclusive":
        # A group gate weighs the model's fairness; the proxy gate only asks what the inputs reveal.
        undecided_nl, undecided_en = (
            (
                "niet aangetoond dat de invoer van het model dit kenmerk verraadt, maar ook niet dat hij dat niet "
                "doet",
                "it is neither shown nor ruled out that the model's inputs carry this attribute",
            )
            if gate.metric == PROXY_GATE
            else (
                "niet aangetoond dat het model hier oneerlijk is, maar ook niet dat het eerlijk is",
                "unfairness is neither shown nor ruled out here",
            )
        )
        return _t(
            f"'{gate.attribute}': {metric_nl} moet {rule_nl} zijn en is {value_nl}. De marge loopt over de drempel: "
            f"{undecided_nl}. Weeg dit mee.",
            f"'{gate.attribute}': {metric_en} must be {rule_en} and is {value_en}. The interval crosses the "
            f"threshold: {undecided_en}. Weigh it.",
        )
    verdict_nl = "gehaald" if gate.verdict == "pass" else "niet gehaald"
    verdict_en = "passed" if gate.verdict == "pass" else "failed"
    return _t(
        f"'{gate.attribute}': {metric_nl} moet {rule_nl} zijn en is {value_nl}: {verdict_nl}.",
        f"'{gate.attribute}': {metric_en} must be {rule_en} and is {value_en}: {verdict_en}.",
    )


def gates_summary(gates: Sequence[GateResult]) -> LocalizedText:
    """How the gates came out, counted per verdict: "all passed" only when every gate passed.

    A gate that was inconclusive or could not be judged does not block the model, so "no gate failed" is not "all
    passed": the committee must see how many gates said nothing either way.
    """
    total = len(gates)
    failed = sum(gate.verdict == "fail" for gate in gates)
    undecided = sum(gate.verdict == "inconclusive" for gate in gates)
    unknown = sum(gate.verdict == "insufficient_data" for gate in gates)
    passed = total - failed - undecided - unknown
    if passed == total:
        return _t(
            f"Alle {total} drempels gehaald." if total != 1 else "De drempel is gehaald.",
            f"All {total} gates passed." if total != 1 else "The gate passed.",
        )
    return _t(
        f"Van de {total} drempels: {passed} gehaald, {failed} niet gehaald, {undecided} onbeslist (de marge loopt "
        f"over de drempel) en {unknown} niet te beoordelen door te weinig gegevens.",
        f"Of the {total} gates: {passed} passed, {failed} failed, {undecided} inconclusive (the interval crosses the "
        f"threshold) and {unknown} could not be judged for too few data.",
    )


def format_number(value: float | None, lang: Lang, *, digits: int = 3) -> str:
    """A number for the card: decimal comma in Dutch, 'n.b.'/'n/a' when it could not be computed.

    >>> format_number(0.8125, "nl", digits=2)
    '0,81'
    >>> format_number(None, "en")
    'n/a'
    """
    return NOT_AVAILABLE[lang] if value is None else format_decimal(value, lang, digits=digits)


def format_count(value: int, lang: Lang) -> str:
    """A count with thousands separators ('1.234' in Dutch, '1,234' in English)."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "nl" else text


NOT_AVAILABLE: dict[Lang, str] = {"nl": "n.b.", "en": "n/a"}

METRIC_LABELS: dict[str, tuple[str, str]] = {
    # metric: (Dutch, English)
    "auc": ("AUC (onderscheidend vermogen)", "AUC (discrimination)"),
    "pr_auc": ("PR-AUC", "PR AUC"),
    "brier": ("Brier-score", "Brier score"),
    "calibration_error": ("kalibratiefout", "calibration error"),
    "precision_at_k": ("precisie bij k", "precision at k"),
    "recall_at_k": ("recall bij k", "recall at k"),
    "lift_at_k": ("lift bij k", "lift at k"),
    "recall": ("recall (gevonden deel van wie hulp nodig had)", "recall (share found of those who needed help)"),
    "false_positive_rate": ("fout-positief-ratio (onnodig benaderd)", "false-positive rate (contacted needlessly)"),
    "selection_rate": ("selectiegraad (deel op de lijst)", "selection rate (share listed)"),
    "precision": ("precisie", "precision"),
    "mean_score": ("gemiddelde score", "mean score"),
    "observed_rate": ("werkelijk aandeel 'ja'", "observed rate"),
    PROXY_GATE: ("AUC waarmee de kenmerken dit kenmerk voorspellen", "AUC of the features predicting this attribute"),
}

SHORT_METRIC_LABELS: dict[str, tuple[str, str]] = {
    "recall": ("recall", "recall"),
    "false_positive_rate": ("fout-positief-ratio", "false-positive rate"),
    "selection_rate": ("selectiegraad", "selection rate"),
    "precision": ("precisie", "precision"),
    "auc": ("AUC", "AUC"),
    "calibration_error": ("kalibratiefout", "calibration error"),
    "mean_score": ("gem. score", "mean score"),
    "observed_rate": ("werkelijk 'ja'", "observed rate"),
}


def metric_label(metric: str, lang: Lang, *, short: bool = False) -> str:
    """Label of a metric key; unknown keys are shown as they are."""
    labels = (SHORT_METRIC_LABELS if short else METRIC_LABELS).get(metric) or METRIC_LABELS.get(metric)
    if labels is None:
        return metric
    return labels[0] if lang == "nl" else labels[1]


def gate_metric_label(metric: str, lang: Lang) -> str:
    """Label of a gate metric such as 'recall_ratio' or 'calibration_error_max'."""
    for suffix, (nl, en) in {
        "_ratio": ("verhouding kleinste/grootste groep voor de {m}", "ratio of smallest to largest group {m}"),
        "_difference": ("verschil tussen groepen in de {m}", "difference between groups in {m}"),
        "_max": ("hoogste {m} in een groep", "highest group {m}"),
        "_min": ("laagste {m} in een groep", "lowest group {m}"),
    }.items():
        if metric.endswith(suffix):
            base = metric_label(metric.removesuffix(suffix), lang, short=True)
            return (nl if lang == "nl" else en).format(m=base)
    return metric_label(metric, lang, short=True)


VERDICT_LABELS: dict[str, tuple[str, str]] = {
    # verdict: (Dutch, English); the symbol keeps the verdict readable without colour
    "pass": ("✔ gehaald", "✔ passed"),
    "fail": ("✘ niet gehaald", "✘ failed"),
    "insufficient_data": ("? te weinig gegevens", "? insufficient data"),
    "inconclusive": ("~ onbeslist", "~ inconclusive"),
    "not_gated": ("– geen drempel", "– not gated"),
}


def verdict_label(verdict: str, lang: Lang) -> str:
    nl, en = VERDICT_LABELS.get(verdict, (verdict, verdict))
    return nl if lang == "nl" else en


MONOTONE_LABELS: dict[int, tuple[str, str]] = {
    1: ("hoger → score nooit lager", "higher → score never lower"),
    -1: ("hoger → score nooit hoger", "higher → score never higher"),
    0: ("vrij", "unconstrained"),
}

MODEL_KIND_LABELS: dict[str, tuple[str, str]] = {
    "model": ("model", "model"),
    "rule": ("regel (huidige werkwijze)", "rule (status quo)"),
    "scorecard": ("scorekaart (logistische regressie)", "scorecard (logistic regression)"),
}


def model_kind_label(kind: str, lang: Lang) -> str:
    nl, en = MODEL_KIND_LABELS.get(kind, (kind, kind))
    return nl if lang == "nl" else en


_AUDIT_ENUMS: dict[str, type[LabelledEnum]] = {"age_band": AgeBand, "gender": Gender, "origin": Origin}


#: Separators an intersection group may use between its parts ('female|dutch').
_INTERSECTION_SEPARATORS = ("|", "×", "&")


def group_label(attribute: str, group: str, lang: Lang, *, columns: Sequence[str] = ()) -> str:
    """Readable label of a group ('dutch' → 'Nederlandse herkomst'); unknown values are shown as they are.

    For an intersection, ``columns`` names its attributes and each part of the group is labelled on its own
    ('female|dutch' → 'vrouw × Nederlandse herkomst').
    """
    if len(columns) > 1:
        for separator in _INTERSECTION_SEPARATORS:
            parts = [part.strip() for part in group.split(separator)]
            if len(parts) == len(columns):
                return " × ".join(group_label(column, part, lang) for column, part in zip(columns, parts))
        return group
    enum = _AUDIT_ENUMS.get(columns[0] if columns else attribute)
    if enum is not None and group in enum.values():
        return enum(group).label(lang)
    return group


UNIT_LABELS: dict[str, tuple[str, str]] = {
    "signals": ("signalen", "signals"),
    "partners": ("partners", "partners"),
    "months": ("maanden", "months"),
    "EUR": ("euro", "euro"),
    "EUR/month": ("euro per maand", "euro per month"),
    "0/1": ("ja/nee (1/0)", "yes/no (1/0)"),
}


def unit_label(unit: str, lang: Lang) -> str:
    """Unit of a feature in words; '—' for a category without unit."""
    if not unit:
        return "—"
    nl, en = UNIT_LABELS.get(unit, (unit, unit))
    return nl if lang == "nl" else en


#: Headings, column names and fixed phrases of the rendered card.
LABELS: dict[str, tuple[str, str]] = {
    "title": ("Modelkaart", "Model card"),
    "version": ("versie", "version"),
    "contents": ("Inhoud", "Contents"),
    "summary": ("Samenvatting", "Summary"),
    "verdict": ("Oordeel", "Verdict"),
    "promotable": (
        "✔ Dit model mag ter goedkeuring aan de ethische commissie worden voorgelegd.",
        "✔ This model may be submitted to the ethics committee for approval.",
    ),
    "not_promotable": (
        "✘ Dit model mag niet ter goedkeuring worden voorgelegd.",
        "✘ This model may not be submitted for approval.",
    ),
    "reviewer_decides": (
        "⚠ Dit model mag ter goedkeuring worden voorgelegd, maar de ethische commissie moet zelf oordelen: gelijke "
        "recall, het leidende eerlijkheidscriterium, is niet voor elk kenmerk vastgesteld (zie hieronder).",
        "⚠ This model may be submitted for approval, but the ethics committee must judge it itself: recall parity, "
        "the leading fairness criterion, was not established for every attribute (see below).",
    ),
    "status": ("Status", "Status"),
    "not_approved_warning": (
        "Dit model is nog niet goedgekeurd. Het mag alleen in een demonstratie worden gebruikt.",
        "This model has not been approved. It may only be used in a demonstration.",
    ),
    "generated": (
        "Deze kaart is automatisch gemaakt bij het trainen, niet met de hand geschreven.",
        "This card was generated by training, not written by hand.",
    ),
    "schema_version": ("Versie van het kaartschema", "Card schema version"),
    "model_details": ("Modelgegevens", "Model details"),
    "name": ("Naam", "Name"),
    "created_at": ("Gemaakt op", "Created at"),
    "model_type": ("Soort model", "Model type"),
    "dataset_config": ("Datasetconfiguratie", "Dataset config"),
    "feature_set": ("Kenmerkenset", "Feature set"),
    "feature_set_catalogue": ("kenmerkencatalogus (signaalgegevens)", "feature catalogue (signal data)"),
    "feature_set_custom": ("eigen kolommen van de dataset", "the data set's own columns"),
    "catalogue_version": ("Versie kenmerkencatalogus", "Feature catalogue version"),
    "seed": ("Startwaarde toeval (seed)", "Random seed"),
    "library_versions": ("Softwareversies", "Library versions"),
    "mlflow_run_id": ("MLflow-run", "MLflow run"),
    "registered_model": ("Geregistreerd model", "Registered model"),
    "licence": ("Licentie", "Licence"),
    "contact": ("Contact", "Contact"),
    "property": ("Gegeven", "Property"),
    "value": ("Waarde", "Value"),
    "intended_use": ("Beoogd gebruik", "Intended use"),
    "primary_uses": ("Waarvoor het model is bedoeld", "What the model is for"),
    "primary_users": ("Voor wie", "For whom"),
    "out_of_scope": ("Waarvoor het model niet gebruikt mag worden", "What the model must not be used for"),
    "factors": ("Factoren: groepen waarop we toetsen", "Factors: groups the model is audited for"),
    "audit_attribute": ("Kenmerk (alleen voor de toets)", "Attribute (audit only)"),
    "groups": ("Groepen", "Groups"),
    "description": ("Omschrijving", "Description"),
    "intersections": ("Combinaties die samen zijn getoetst", "Combinations audited together"),
    "none": ("geen", "none"),
    "training_data": ("Trainingsgegevens en herkomst van het label", "Training data and label provenance"),
    "label_provenance": ("Herkomst van het label", "Label provenance"),
    "evaluation_data": ("Evaluatiegegevens", "Evaluation data"),
    "rows": ("Rijen", "Rows"),
    "positives": ("Met label 'ja'", "Positive label"),
    "base_rate": ("Aandeel 'ja'", "Base rate"),
    "periods": ("Perioden", "Periods"),
    "split": ("Splitsing", "Split"),
    "split_temporal": ("naar tijd (trainen op eerder, toetsen op later)", "temporal (train earlier, test later)"),
    "split_stratified": ("willekeurig, gestratificeerd naar label", "random, stratified by label"),
    "no_periods": ("geen tijdkolom", "no time column"),
    "performance": ("Prestaties", "Performance"),
    "capacity": ("Capaciteit", "Capacity"),
    "metrics_table": ("Prestaties op de testset bij capaciteit k", "Performance on the test set at capacity k"),
    "metric": ("Maat", "Metric"),
    "in_use_table": (
        "De lijst in gebruik: een huishouden wacht na contact {days} dagen",
        "The list in use: a household waits {days} days after contact",
    ),
    "in_use_households": ("Benaderde huishoudens", "Households contacted"),
    "in_use_groups": (
        "Bereik van de lijst in gebruik (model), per groep",
        "Reach of the list in use (model), per group",
    ),
    "in_use_groups_note": (
        "Huishoudens, geen rijen; puntschattingen zonder marge. 'Te weinig': minder huishoudens met een hulpvraag "
        "dan de drempel voor een oordeel.",
        "Households, not rows; point estimates without an interval. 'Too few': fewer households in need than the "
        "threshold for a judgement.",
    ),
    "in_use_in_need": ("Met een hulpvraag", "In need"),
    "in_use_reached": ("Bereikt", "Reached"),
    "in_use_share": ("Aandeel bereikt", "Share reached"),
    "too_few": ("te weinig", "too few"),
    "not_in_test_data": (
        "Niet beoordeeld, want niet in de testgegevens (hoe het model voor deze groep werkt is onbekend)",
        "Not evaluated, absent from the test data (how the model works for this group is unknown)",
    ),
    "in_use_precision": (
        "Precisie (contacten met een huishouden dat hulp nodig had)",
        "Precision (contacts that met a household in need)",
    ),
    "in_use_household_recall": (
        "Bereikt deel van de huishoudens met een hulpvraag",
        "Share of the households in need reached",
    ),
    "lift_over_rule": ("Winst ten opzichte van de regel", "Lift over the rule"),
    "lift_over_scorecard": ("Winst ten opzichte van de scorekaart", "Lift over the scorecard"),
    "lift_explained": (
        "Binnen wat het team aankan (ongeveer {k} huishoudens per periode) vindt het model in de {periods} "
        "testperiodes samen {lift} keer zoveel huishoudens die hulp nodig hadden als {other}.",
        "Within what the team can handle (about {k} households per period) the model finds, over the {periods} test "
        "periods, {lift} times as many households that needed help as {other}.",
    ),
    "lift_explained_one_period": (
        "Het model vindt in zijn top {k} {lift} keer zoveel huishoudens die hulp nodig hadden als {other}.",
        "In its top {k} the model finds {lift} times as many households that needed help as {other}.",
    ),
    "rule_is": ("De regel (huidige werkwijze)", "The rule (status quo)"),
    "the_rule": ("de regel", "the rule"),
    "the_scorecard": ("de scorekaart", "the scorecard"),
    "bayes_auc": (
        "AUC van het ware risico (alleen synthetisch; op dezelfde testrijen, dus met hetzelfde toeval: een model "
        "kan er net boven uitkomen)",
        "AUC of the true risk (synthetic only; on the same test rows, so with the same chance: a model can come out "
        "just above it)",
    ),
    "share_of_bayes_auc": (
        "Deel daarvan dat het model haalt (rond 1 betekent: zo goed als de gegevens toelaten; duidelijk boven 1 wijst "
        "op een lek van het label in de kenmerken, of op een label dat anders is vastgelegd dan het ware risico)",
        "Share of it the model reaches (about 1 means: as good as the data allow; clearly above 1 points to the label "
        "leaking into the features, or to a label recorded otherwise than the true risk)",
    ),
    "plots": ("Grafieken", "Plots"),
    "not_available_note": (
        "'n.b.' betekent: niet te berekenen (bijvoorbeeld een groep zonder huishoudens met label 'ja').",
        "'n/a' means: cannot be computed (for example a group without positive households).",
    ),
    "fairness": ("Eerlijkheid per groep", "Quantitative analyses per group"),
    "fairness_intro": (
        "Per groep: hoeveel huishoudens, en hoe goed het model daar werkt. Tussen haakjes de marge "
        "({confidence}% betrouwbaarheid, {samples} bootstraptrekkingen). Op capaciteit geselecteerd: {k} rijen (een "
        "huishouden per testperiode), alle testperioden samen. De eerlijkheid wordt vooral beoordeeld op {primary}.",
        "Per group: how many households, and how well the model works there. In brackets the {confidence}% "
        "confidence interval ({samples} bootstrap samples). Selected at capacity: {k} rows (a household per test "
        "period), all test periods together. Fairness is led by {primary}.",
    ),
    "calibration_note": (
        "De kalibratiefout per groep is gecorrigeerd voor toeval: ook een goed gekalibreerd model laat in een kleine "
        "groep verschillen zien tussen voorspeld en werkelijk, en de bootstrap meet hoeveel; dat deel is eraf "
        "gehaald (ook van de marge). Groepen worden op het verschil van hun kalibratiefout vergeleken, niet op een "
        "verhouding. De kalibratiefout van het hele model (bij de prestaties) is niet gecorrigeerd.",
        "The calibration error per group is corrected for chance: even a well-calibrated model shows gaps between "
        "predicted and observed in a small group, and the bootstrap measures how much; that part has been taken "
        "off (from the interval too). Groups are compared by the difference of their calibration errors, not by a "
        "ratio. The model's overall calibration error (under performance) is not corrected.",
    ),
    "group_counts_note": (
        "Een groep telt huishoudens: een huishouden met signalen in meerdere testperioden telt één keer, ook "
        "al heeft het een rij per periode. Of een groep groot genoeg is om te beoordelen, hangt af van het "
        "aantal huishoudens, niet van het aantal rijen.",
        "A group counts households: a household signalled in several test periods counts once, though it has "
        "a row in each. Whether a group is large enough to judge depends on its households, not on its rows.",
    ),
    "group": ("Groep", "Group"),
    "households": ("Huishoudens", "Households"),
    "positive_households": ("Huishoudens met label 'ja'", "Households with positive label"),
    "positive_rows": ("Rijen met label 'ja'", "Rows with positive label"),
    "judgeable": ("Te beoordelen", "Judgeable"),
    "yes": ("ja", "yes"),
    "no_too_small": ("nee, te klein", "no, too small"),
    "differences_ratios": ("Verschil en verhouding tussen groepen", "Difference and ratio between groups"),
    "difference": ("Verschil (grootste − kleinste)", "Difference (largest − smallest)"),
    "ratio": ("Verhouding (kleinste / grootste)", "Ratio (smallest / largest)"),
    "gates": ("Eerlijkheidsdrempels en oordeel", "Fairness gates and verdicts"),
    "gates_intro": (
        "De drempels staan vast in de configuratie vóórdat de toets draait. Een drempel die niet wordt gehaald, "
        "houdt het model tegen.",
        "The gates are fixed in the config before the audit runs. A failed gate blocks the model.",
    ),
    "attribute": ("Kenmerk", "Attribute"),
    "gate_metric": ("Maat", "Metric"),
    "rule": ("Eis", "Requirement"),
    "measured": ("Gemeten (marge)", "Measured (interval)"),
    "audit_reason": ("Toelichting van de toets (in het Engels)", "The audit's explanation"),
    "group_outreach": ("wie wordt gevonden en wie komt op de lijst", "who is found and who is listed"),
    "group_score_quality": ("kwaliteit van de score per groep", "quality of the score per group"),
    "no_gates": ("Er zijn geen drempels ingesteld.", "No gates were configured."),
    "primary_not_gated": (
        "Geen drempel toetst gelijke recall, het leidende eerlijkheidscriterium.",
        "No gate checks recall parity, the leading fairness criterion.",
    ),
    "proxy": ("Proxycontrole", "Proxy check"),
    "proxy_intro": (
        "Hoe goed voorspellen de kenmerken van het model een gevoelig kenmerk? Een AUC van 0,5 betekent: niet "
        "beter dan gokken. Hoe hoger, hoe meer het gevoelige kenmerk in de invoer verstopt zit.",
        "How well do the model's features predict an audit attribute? An AUC of 0.5 means no better than chance. "
        "The higher, the more of the attribute hides in the inputs.",
    ),
    "threshold": ("Drempel", "Threshold"),
    "top_features": ("Kenmerken die het meest bijdragen", "Features that contribute most"),
    "strongest_group": ("Best herkenbare groep", "Most recognisable group"),
    "mitigation": ("Mitigatie: voor en na", "Mitigation: before and after"),
    "no_mitigation": ("Er is geen mitigatie gebruikt.", "No mitigation was used."),
    "mitigation_intro": (
        "Methode: {method}, voorwaarde: {constraint}, voor kenmerk '{attribute}'. Het effect staat hieronder voor "
        "élke groep, niet alleen voor de groep waarop gericht werd.",
        "Method: {method}, constraint: {constraint}, for attribute '{attribute}'. The effect is shown for every "
        "group, not only the targeted one.",
    ),
    "mitigation_cost": (
        "Het model voor en na de correctie, op dezelfde testrijen",
        "The model before and after mitigation, on the same test rows",
    ),
    "before": ("Voor", "Before"),
    "after": ("Na", "After"),
    "gates_before_after": ("Drempels voor en na mitigatie", "Gates before and after mitigation"),
    "data_validation": ("Gegevenscontrole", "Data validation"),
    "table": ("Tabel", "Table"),
    "columns": ("Kolommen", "Columns"),
    "failures": ("Problemen", "Failures"),
    "no_failures": ("✔ De gegevens voldeden aan alle regels.", "✔ The data met every rule."),
    "column": ("Kolom", "Column"),
    "check": ("Regel", "Rule"),
    "count": ("Aantal rijen", "Rows"),
    "warnings": ("Aandachtspunten", "Warnings"),
    "features": ("Kenmerken van het model", "Model features"),
    "features_intro": (
        "Richting: bij 'hoger → score nooit lager' kan meer achterstand de score nooit verlagen. 'Reden' betekent dat "
        "een medewerker het kenmerk als reden bij een score ziet.",
        "Direction: with 'higher → score never lower' more arrears can never lower the score. 'Reason' means a "
        "caseworker sees the feature as a reason behind a score.",
    ),
    "feature": ("Kenmerk", "Feature"),
    "unit": ("Eenheid", "Unit"),
    "monotone": ("Richting", "Direction"),
    "reason_allowed": ("Reden", "Reason"),
    "importance": ("Belang", "Importance"),
    "explanations": ("Uitleg van scores", "Explanations"),
    "explanation_method": ("Methode", "Method"),
    "ethical_considerations": ("Ethische overwegingen", "Ethical considerations"),
    "caveats": ("Kanttekeningen en aanbevelingen", "Caveats and recommendations"),
    "approval_history": ("Goedkeuringsgeschiedenis", "Approval history"),
    "no_approvals": (
        "Nog niemand heeft dit model beoordeeld: het is een kandidaat.",
        "Nobody has reviewed this model yet: it is a candidate.",
    ),
    "from_status": ("Van", "From"),
    "to_status": ("Naar", "To"),
    "by": ("Door", "By"),
    "role": ("Rol", "Role"),
    "at": ("Wanneer", "When"),
    "comment": ("Toelichting", "Comment"),
    "created": ("aangemaakt", "created"),
    "plot_missing": ("Grafiek niet beschikbaar: te weinig gegevens.", "Plot not available: too little data."),
}


def label(key: str, lang: Lang) -> str:
    """A fixed phrase of the rendered card in ``lang``."""
    nl, en = LABELS[key]
    return nl if lang == "nl" else en
