"""The tree ensemble: one household's contributions through LightGBM's single-row fast path."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tests.factories import flat_frame, train_bare_bundle, write_flat_dataset
from vroegsignaal.scoring.bundle import load_bundle
from vroegsignaal.scoring import model
from vroegsignaal.scoring.model import TreeEnsemble


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    return load_bundle(train_bare_bundle(write_flat_dataset(folder / "data"), folder / "model"))


@pytest.fixture(scope="module")
def matrix(bundle):
    """Encoded rows with what a service sees: ordinary values, blanks, an unseen region, values out of range."""
    frame = flat_frame(60, seed=5)
    frame.loc[0:4, "arrears_eur"] = np.nan
    frame.loc[5:9, "region"] = "west"
    frame.loc[10:14, "income_eur"] = 1e9
    return bundle.preprocessor.matrix(frame)


def _library_contributions(ensemble: TreeEnsemble, matrix: np.ndarray) -> np.ndarray:
    """What ``Booster.predict`` gives, as the ensemble combined it before the fast path."""
    total = np.zeros((len(matrix), matrix.shape[1] + 1))
    for booster, weight in zip(ensemble.boosters, ensemble.weights, strict=True):
        total += weight * booster.predict(matrix, pred_contrib=True, num_threads=1)
    return total


def test_one_row_gets_exactly_the_contributions_of_booster_predict(bundle, matrix):
    assert np.isnan(matrix).any()
    for row in range(len(matrix)):
        one = matrix[row : row + 1]
        np.testing.assert_array_equal(
            bundle.ensemble.contributions(one), _library_contributions(bundle.ensemble, one)
        )
    assert bundle.ensemble.boosters[0] in model._SINGLE_ROW  # the fast path answered


def test_a_mixture_of_boosters_gets_exactly_its_weighted_contributions(bundle, matrix):
    booster = bundle.ensemble.boosters[0]
    mixture = TreeEnsemble((booster, pickle.loads(pickle.dumps(booster))), (0.3, 0.7))
    for row in range(len(matrix)):
        one = matrix[row : row + 1]
        np.testing.assert_array_equal(mixture.contributions(one), _library_contributions(mixture, one))


def test_threads_scoring_at_once_each_get_their_own_row(bundle, matrix):
    expected = [_library_contributions(bundle.ensemble, matrix[row : row + 1]) for row in range(len(matrix))]

    def contributions(row: int) -> np.ndarray:
        return bundle.ensemble.contributions(matrix[row : row + 1])

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):
            for row, got in enumerate(pool.map(contributions, range(len(matrix)))):
                np.testing.assert_array_equal(got, expected[row])


def test_an_ensemble_that_served_one_row_still_pickles_and_scores_alike(bundle, matrix):
    bundle.ensemble.contributions(matrix[:1])
    copy = pickle.loads(pickle.dumps(bundle.ensemble))
    np.testing.assert_array_equal(copy.contributions(matrix[:1]), bundle.ensemble.contributions(matrix[:1]))


def test_a_row_of_the_wrong_width_is_refused_as_before(bundle, matrix):
    with pytest.raises(Exception, match="number of features"):
        bundle.ensemble.contributions(matrix[:1, :-1])
