"""Evaluate the model against what a municipality would otherwise use, at the team's capacity.

A team contacts *k* households a period, so precision, recall and lift among the top *k* matter more than accuracy at
a 0.5 threshold. The model is compared on the same test rows with the rule (the status quo: crisis first, then more
partners, then more arrears) and a logistic-regression scorecard; on synthetic data also with the Bayes limit, the AUC
of the true risk.

The capacity metrics count rows: a household signalled in several test periods can take a slot in each. In use the
service holds a household back for a while after contact (its cooldown), so the list it hands out differs.
:func:`select_in_use` replays the test periods that way, and :class:`InUseMetrics` counts what that list reaches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, precision_recall_curve, roc_auc_score, roc_curve
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from vroegsignaal.errors import ConfigError
from vroegsignaal.schemas.dataset_config import Capacity, RuleKey

CURVE_POINTS = 200
CALIBRATION_BINS = 10
HISTOGRAM_BINS = 20


@dataclass(frozen=True)
class RankingMetrics:
    """How well one way of ordering households does on the test rows."""

    auc: float | None
    pr_auc: float | None
    brier: float | None
    calibration_error: float | None
    precision_at_k: float | None
    recall_at_k: float | None
    lift_at_k: float | None
    found_at_k: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "auc": self.auc,
            "pr_auc": self.pr_auc,
            "brier": self.brier,
            "calibration_error": self.calibration_error,
            "precision_at_k": self.precision_at_k,
            "recall_at_k": self.recall_at_k,
            "lift_at_k": self.lift_at_k,
            "found_at_k": self.found_at_k,
        }


def _share(part: int, whole: int) -> float | None:
    """``part / whole``, or ``None`` when there is no whole to take a share of."""
    return part / whole if whole else None


def _lift(found: Mapping[str, int], baseline: str) -> float | None:
    """What the model found divided by what ``baseline`` found (``None`` without that baseline or when it found
    nothing)."""
    return _share(found["model"], found.get(baseline, 0))


@dataclass(frozen=True)
class InUseMetrics:
    """What one ordering's list reaches when contacted households are held back for the cooldown."""

    contacts: int
    households: int
    found: int
    households_helped: int
    households_in_need: int

    @property
    def precision(self) -> float | None:
        """Share of the contacts that reached a household needing help at that time."""
        return _share(self.found, self.contacts)

    @property
    def household_recall(self) -> float | None:
        """Share of the households that needed help (in some test period) reached while they needed it."""
        return _share(self.households_helped, self.households_in_need)

    def to_dict(self) -> dict[str, Any]:
        return {
            "contacts": self.contacts,
            "households": self.households,
            "found": self.found,
            "households_helped": self.households_helped,
            "households_in_need": self.households_in_need,
            "precision": self.precision,
            "household_recall": self.household_recall,
        }


@dataclass(frozen=True)
class GroupReach:
    """How many of a group's households in need the model's list in use reached."""

    attribute: str
    group: str
    households_in_need: int
    households_helped: int
    #: Enough households in need to read the share (the fairness config's ``min_group_positives``).
    judgeable: bool

    @property
    def share(self) -> float | None:
        return _share(self.households_helped, self.households_in_need)

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "group": self.group,
            "households_in_need": self.households_in_need,
            "households_helped": self.households_helped,
            "share": self.share,
            "judgeable": self.judgeable,
        }


@dataclass(frozen=True)
class InUse:
    """The test periods replayed as the service's list: each ordering's top k of the households not held back."""

    cooldown_days: int
    orderings: Mapping[str, InUseMetrics]
    #: Per audit attribute and group: the reach of the model's list in use (empty without audit attributes).
    groups: tuple[GroupReach, ...] = ()

    def lift_over(self, baseline: str) -> float | None:
        """Households in need the model's list reached divided by those ``baseline``'s list reached."""
        return _lift({name: m.households_helped for name, m in self.orderings.items()}, baseline)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cooldown_days": self.cooldown_days,
            "orderings": {name: metrics.to_dict() for name, metrics in self.orderings.items()},
            "lift_over_rule": self.lift_over("rule"),
            "groups": [group.to_dict() for group in self.groups],
        }


@dataclass(frozen=True)
class Evaluation:
    """Test-set performance of the model and its baselines."""

    rows: int
    positives: int
    capacity_k: int
    periods: int
    models: Mapping[str, RankingMetrics]
    bayes_auc: float | None
    curves: Mapping[str, Any] = field(repr=False)
    #: The list in use (None without a time column or household ids: nothing to replay).
    in_use: InUse | None = None

    @property
    def share_of_bayes_auc(self) -> float | None:
        auc = self.models["model"].auc
        return None if self.bayes_auc is None or auc is None else auc / self.bayes_auc

    def lift_over(self, baseline: str) -> float | None:
        """How many more at-risk households the model finds within capacity than ``baseline`` (a ratio)."""
        return _lift({name: m.found_at_k for name, m in self.models.items()}, baseline)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "positives": self.positives,
            "capacity_k": self.capacity_k,
            "periods": self.periods,
            "models": {name: metrics.to_dict() for name, metrics in self.models.items()},
            "bayes_auc": self.bayes_auc,
            "share_of_bayes_auc": self.share_of_bayes_auc,
            "lift_over_rule": self.lift_over("rule"),
            "lift_over_scorecard": self.lift_over("scorecard"),
            "in_use": None if self.in_use is None else self.in_use.to_dict(),
            "curves": self.curves,
        }

    def flat_metrics(self) -> dict[str, float]:
        """Metrics as ``name.metric`` numbers for MLflow."""
        flat = {
            f"{name}.{metric}": float(value)
            for name, metrics in self.models.items()
            for metric, value in metrics.to_dict().items()
            if value is not None
        }
        for key in ("bayes_auc", "share_of_bayes_auc"):
            value = getattr(self, key)
            if value is not None:
                flat[key] = float(value)
        for baseline in ("rule", "scorecard"):
            lift = self.lift_over(baseline)
            if lift is not None:
                flat[f"lift_over_{baseline}"] = float(lift)
        if self.in_use is not None:
            for name, metrics in self.in_use.orderings.items():
                for metric in ("precision", "household_recall"):
                    value = getattr(metrics, metric)
                    if value is not None:
                        flat[f"in_use.{name}.{metric}"] = float(value)
            lift = self.in_use.lift_over("rule")
            if lift is not None:
                flat["in_use.lift_over_rule"] = float(lift)
        return flat


def select_top_k(scores: np.ndarray, periods: np.ndarray | None, capacity: Capacity) -> np.ndarray:
    """Boolean mask of the households inside the capacity: the top *k* per period (ties by position)."""
    selected = np.zeros(len(scores), dtype=bool)
    groups = [np.arange(len(scores))] if periods is None else [np.flatnonzero(periods == p) for p in np.unique(periods)]
    for rows in groups:
        k = capacity.k(len(rows))
        order = rows[np.argsort(-scores[rows], kind="stable")]
        selected[order[:k]] = True
    return selected


def select_in_use(
    scores: np.ndarray, periods: np.ndarray, households: np.ndarray, capacity: Capacity, *, cooldown_days: int
) -> np.ndarray:
    """Boolean mask of the rows the service's list would hand out: per period, in time order, the top *k* of the
    households not contacted within ``cooldown_days`` before it (a held-back household's slot goes to the next one).

    A household is taken as contacted when selected. The replay starts with nobody held back (contacts before the
    test periods are not known), and it does not let a held-back household back early when its arrears rise, as
    the service does.
    """
    selected = np.zeros(len(scores), dtype=bool)
    dates = pd.to_datetime(pd.Series(periods)).to_numpy()
    cooldown = np.timedelta64(cooldown_days, "D")
    contacted_on: dict[Any, np.datetime64] = {}
    for period in np.unique(dates):
        rows = np.flatnonzero(dates == period)
        k = capacity.k(len(rows))
        taken = 0
        for row in rows[np.argsort(-scores[rows], kind="stable")]:
            if taken == k:
                break
            household = households[row]
            last = contacted_on.get(household)
            if last is not None and period - last < cooldown:
                continue
            selected[row] = True
            contacted_on[household] = period
            taken += 1
    return selected


def in_use_metrics(y: np.ndarray, households: np.ndarray, selected: np.ndarray) -> InUseMetrics:
    """What a list reaches: contacts, distinct households, and the households in need it reached in time."""
    positive = y.astype(bool)
    return InUseMetrics(
        contacts=int(selected.sum()),
        households=len(np.unique(households[selected])),
        found=int((positive & selected).sum()),
        households_helped=len(np.unique(households[positive & selected])),
        households_in_need=len(np.unique(households[positive])),
    )


def reach_by_group(
    y: np.ndarray, households: np.ndarray, selected: np.ndarray, audit: pd.DataFrame, *, min_in_need: int
) -> tuple[GroupReach, ...]:
    """Per audit attribute and group: the households in need (a positive row in the group) and how many of them the
    list ``selected`` reached at such a row. Audit attributes are only counted here, never used to select."""
    positive = y.astype(bool)
    reach = []
    for attribute in audit.columns:
        values = audit[attribute].astype(str).to_numpy()
        for group in sorted(set(values)):
            need = positive & (values == group)
            in_need = len(np.unique(households[need]))
            helped = len(np.unique(households[need & selected]))
            reach.append(GroupReach(attribute, group, in_need, helped, judgeable=in_need >= min_in_need))
    return tuple(reach)


def rule_scores(frame: pd.DataFrame, rule: Sequence[RuleKey]) -> np.ndarray:
    """The status-quo rule as a score in [0, 1]: the lexicographic rank over the rule's keys."""
    missing = [key.column for key in rule if key.column not in frame.columns]
    if missing:
        raise ConfigError(f"baseline_rule: column(s) {', '.join(missing)} are not model features")
    keys = []
    for key in reversed(rule):  # np.lexsort sorts by the last key first
        values = pd.to_numeric(frame[key.column], errors="coerce").fillna(0).to_numpy(dtype=float)
        keys.append(values if key.descending else -values)
    if not keys:
        raise ConfigError("baseline_rule: needs at least one column")
    order = np.lexsort(keys)
    stacked = np.column_stack(keys)[order]
    # Households the rule cannot tell apart share their mean rank: the rule gets no credit for an order it lacks.
    new_group = np.concatenate([[True], (np.diff(stacked, axis=0) != 0).any(axis=1)])
    group = np.cumsum(new_group) - 1
    mean_rank = np.bincount(group, weights=np.arange(len(order))) / np.bincount(group)
    ranks = np.empty(len(frame))
    ranks[order] = mean_rank[group]
    return ranks / max(len(frame) - 1, 1)


def fit_scorecard(
    train: pd.DataFrame, y_train: np.ndarray, *, categorical: Sequence[str], seed: int
):  # noqa: ANN201 - a scikit-learn pipeline
    """A logistic-regression scorecard, the usual transparent alternative."""
    numeric = [c for c in train.columns if c not in categorical]
    transformer = ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), list(categorical)),
        ]
    )
    prepared = train.copy()
    for column in categorical:
        prepared[column] = prepared[column].astype(object).fillna("missing")
    model = make_pipeline(transformer, LogisticRegression(max_iter=2000, C=1.0, random_state=seed))
    return model.fit(prepared, y_train)


def scorecard_scores(model, frame: pd.DataFrame, *, categorical: Sequence[str]) -> np.ndarray:  # noqa: ANN001
    prepared = frame.copy()
    for column in categorical:
        prepared[column] = prepared[column].astype(object).fillna("missing")
    return model.predict_proba(prepared)[:, 1]


def calibration_error(y: np.ndarray, scores: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Expected calibration error over equal-count score bins."""
    order = np.argsort(scores, kind="stable")
    chunks = np.array_split(order, min(bins, len(order)))
    total = sum(len(c) * abs(scores[c].mean() - y[c].mean()) for c in chunks if len(c))
    return float(total / len(scores))


def ranking_metrics(
    y: np.ndarray, scores: np.ndarray, selected: np.ndarray, *, probabilities: bool
) -> RankingMetrics:
    both = len(np.unique(y)) == 2
    base_rate = y.mean() if len(y) else 0.0
    found = int(y[selected].sum())
    precision = found / selected.sum() if selected.sum() else None
    recall = found / y.sum() if y.sum() else None
    return RankingMetrics(
        auc=float(roc_auc_score(y, scores)) if both else None,
        pr_auc=float(average_precision_score(y, scores)) if both else None,
        brier=float(brier_score_loss(y, scores)) if probabilities else None,
        calibration_error=calibration_error(y, scores) if probabilities else None,
        precision_at_k=precision,
        recall_at_k=recall,
        lift_at_k=(precision / base_rate) if precision is not None and base_rate else None,
        found_at_k=found,
    )


def _thin(x: np.ndarray, y: np.ndarray) -> dict[str, list[float]]:
    if len(x) > CURVE_POINTS:
        keep = np.unique(np.linspace(0, len(x) - 1, CURVE_POINTS).round().astype(int))
        x, y = x[keep], y[keep]
    return {"x": [round(float(v), 5) for v in x], "y": [round(float(v), 5) for v in y]}


def curves(y: np.ndarray, scores: Mapping[str, np.ndarray], probabilities: np.ndarray) -> dict[str, Any]:
    """Plot data for the card: ROC and PR per model, reliability bins and the score histogram of the model."""
    roc, pr = {}, {}
    if len(np.unique(y)) == 2:
        for name, values in scores.items():
            fpr, tpr, _ = roc_curve(y, values)
            roc[name] = _thin(fpr, tpr)
            precision, recall, _ = precision_recall_curve(y, values)
            pr[name] = _thin(recall[::-1], precision[::-1])
    order = np.argsort(probabilities, kind="stable")
    chunks = [c for c in np.array_split(order, min(CALIBRATION_BINS, len(order))) if len(c)]
    edges = np.linspace(0, 1, HISTOGRAM_BINS + 1)
    return {
        "roc": roc,
        "pr": pr,
        "calibration": {
            "mean_predicted": [round(float(probabilities[c].mean()), 5) for c in chunks],
            "observed": [round(float(y[c].mean()), 5) for c in chunks],
            "count": [len(c) for c in chunks],
        },
        "score_histogram": {
            "edges": [round(float(e), 4) for e in edges],
            "positives": np.histogram(probabilities[y == 1], bins=edges)[0].tolist(),
            "negatives": np.histogram(probabilities[y == 0], bins=edges)[0].tolist(),
        },
    }


def evaluate(
    *,
    y: np.ndarray,
    scores: np.ndarray,
    baselines: Mapping[str, np.ndarray],
    periods: np.ndarray | None,
    capacity: Capacity,
    true_risk: np.ndarray | None = None,
    households: np.ndarray | None = None,
    cooldown_days: int | None = None,
    audit: pd.DataFrame | None = None,
    min_in_need: int = 1,
) -> Evaluation:
    """Compare the model's calibrated ``scores`` with each baseline's scores on the same test rows.

    With ``periods``, the rows' ``households`` and a ``cooldown_days``, each ordering's list is also replayed as the
    service hands it out (:func:`select_in_use`); with the rows' ``audit`` attributes too, the model's list's reach
    per group (:func:`reach_by_group`, judgeable from ``min_in_need`` households in need).
    """
    for name, values in {"model": scores, **baselines}.items():
        if len(values) != len(y):
            raise ValueError(f"{name}: {len(values)} scores for {len(y)} test rows")
    models = {}
    selected = select_top_k(scores, periods, capacity)
    models["model"] = ranking_metrics(y, scores, selected, probabilities=True)
    for name, values in baselines.items():
        models[name] = ranking_metrics(
            y, values, select_top_k(values, periods, capacity), probabilities=name == "scorecard"
        )
    bayes = float(roc_auc_score(y, true_risk)) if true_risk is not None and len(np.unique(y)) == 2 else None
    in_use = None
    if periods is not None and households is not None and cooldown_days is not None:
        lists = {
            name: select_in_use(values, periods, households, capacity, cooldown_days=cooldown_days)
            for name, values in {"model": scores, **baselines}.items()
        }
        in_use = InUse(
            cooldown_days=cooldown_days,
            orderings={name: in_use_metrics(y, households, selected) for name, selected in lists.items()},
            groups=()
            if audit is None
            else reach_by_group(y, households, lists["model"], audit, min_in_need=min_in_need),
        )
    return Evaluation(
        rows=len(y),
        positives=int(y.sum()),
        capacity_k=int(selected.sum()),
        periods=1 if periods is None else len(np.unique(periods)),
        models=models,
        bayes_auc=bayes,
        curves=curves(y, {"model": scores, **baselines}, scores),
        in_use=in_use,
    )
