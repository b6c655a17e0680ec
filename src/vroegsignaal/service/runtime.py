"""The model the service serves: what it needs from a scorer, and an atomic holder that reload swaps.

The service depends on :class:`ScorerProtocol` and :class:`FeatureBuilder`, not on the scoring package's classes, so
tests build the app with a fake. A request takes :attr:`ModelHolder.current` once and uses that one object to the
end: a reload that swaps the holder meanwhile does not change the version an in-flight request scores with.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from vroegsignaal.errors import ModelBundleError
from vroegsignaal.schemas.catalogue import FEATURE_CATALOGUE
from vroegsignaal.schemas.enums import ModelStatus

MANIFEST = "manifest.json"
CARD_JSON = Path("card") / "card.json"
CARD_HTML = Path("card") / "card.html"
CARD_HTML_EN = Path("card") / "card.en.html"
APPROVED_STATUSES = frozenset({ModelStatus.APPROVED, ModelStatus.CHAMPION})
MSG_NOT_A_SIGNAL_MODEL = (
    "model bundle '{path}' uses features the service cannot build from signals ({features}): it was trained on a "
    "data set of its own; the service serves models trained on signal data with the feature catalogue"
)

logger = logging.getLogger("vroegsignaal.service")


@runtime_checkable
class ScorerProtocol(Protocol):
    """What the service needs from a scorer (``vroegsignaal.scoring.scorer.Scorer`` satisfies it)."""

    @property
    def model_version(self) -> str: ...

    @property
    def feature_names(self) -> tuple[str, ...]: ...

    def score_records(self, records: Sequence[Mapping[str, Any]], *, explain: bool = ...) -> Sequence[Any]:
        """One result per household (``.to_dict()``: score, band, intensity, uncertain, out_of_distribution,
        flags, reasons) — the scorer's pandas-free path for the few households of a request."""
        ...


class FeatureBuilder(Protocol):
    """``vroegsignaal.scoring.household.household_features``: one household's signals and facts to its features.

    It computes exactly what the table builder ``build_features`` computes for training (a property test holds
    them together; signals without a ``known_date``, as every signal the service holds is known when it scores),
    without pandas, so one request costs microseconds instead of milliseconds.
    """

    def __call__(
        self, signals: Sequence[Mapping[str, Any]], household: Mapping[str, Any], reference_date: dt.date
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ModelCard:
    """A version's model card as the service stores it: JSON, and the HTML page in Dutch and in English."""

    json: dict[str, Any] | None
    html: str | None
    html_en: str | None = None


@dataclass(frozen=True)
class LoadedModel:
    """A scorer with the status it had when loaded."""

    scorer: ScorerProtocol
    version: str
    status: ModelStatus

    @property
    def approved(self) -> bool:
        return self.status in APPROVED_STATUSES


class ModelHolder:
    """Holds the served model; :meth:`swap` replaces it atomically (reads need no lock)."""

    def __init__(self, model: LoadedModel | None = None) -> None:
        self._model = model
        self._lock = threading.Lock()

    @property
    def current(self) -> LoadedModel | None:
        return self._model

    def swap(self, model: LoadedModel | None) -> LoadedModel | None:
        """Serve ``model`` from now on; returns the one served before."""
        with self._lock:
            previous, self._model = self._model, model
        return previous


@dataclass(frozen=True)
class BundleInfo:
    """What the service reads from a bundle directory without loading the model."""

    path: Path
    version: str
    model_name: str
    created_at: str
    card: ModelCard


def read_bundle_info(path: Path) -> BundleInfo:
    """The manifest facts and card of a bundle directory; :class:`ModelBundleError` when there is no manifest."""
    manifest_path = path / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        version, name = str(manifest["model_version"]), str(manifest["model_name"])
    except (OSError, ValueError, KeyError) as exc:
        raise ModelBundleError(f"{manifest_path}: not a readable bundle manifest ({type(exc).__name__})") from None
    try:
        card_json = json.loads((path / CARD_JSON).read_text(encoding="utf-8")) if (path / CARD_JSON).is_file() else None
    except (OSError, ValueError) as exc:
        raise ModelBundleError(f"{path / CARD_JSON}: not a readable model card ({type(exc).__name__})") from None
    card_html, card_html_en = (_read_text_or_none(path / name) for name in (CARD_HTML, CARD_HTML_EN))
    card = ModelCard(card_json, card_html, card_html_en)
    return BundleInfo(path, version, name, str(manifest.get("created_at", "")), card)


def _read_text_or_none(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def discover_bundles(models_dir: Path | None) -> list[BundleInfo]:
    """Every bundle directory directly under ``models_dir`` (a directory holding a manifest), oldest first."""
    if models_dir is None or not models_dir.is_dir():
        return []
    infos = []
    for child in sorted(models_dir.iterdir()):
        if not (child / MANIFEST).is_file():
            continue
        try:
            infos.append(read_bundle_info(child))
        except ModelBundleError as error:  # one broken folder must not keep the others (and the champion) out
            logger.warning("skipping model bundle folder %s: %s", child.name, error)
    return sorted(infos, key=lambda info: (info.created_at, info.version))


def load_scorer_from_bundle(path: Path) -> ScorerProtocol:
    """Load and verify a bundle (checksums, catalogue, feature list) and build its scorer."""
    from vroegsignaal.scoring.bundle import load_bundle
    from vroegsignaal.scoring.scorer import Scorer

    scorer = Scorer(load_bundle(path))
    # The service builds its features from signals with the catalogue's feature builder: a model of another data
    # set (a dataset config with features of its own) would fail on every request.
    foreign = [name for name in scorer.feature_names if name not in FEATURE_CATALOGUE]
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise ModelBundleError(MSG_NOT_A_SIGNAL_MODEL.format(path=path, features=shown))
    return scorer


def default_feature_builder() -> FeatureBuilder:
    """The project's household feature builder (imported late: the scoring package loads LightGBM)."""
    from vroegsignaal.scoring.household import household_features

    return household_features


ScorerLoader = Callable[[Path], ScorerProtocol]
