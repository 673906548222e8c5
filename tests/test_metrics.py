import numpy as np
import pytest

from facebench.metrics.verification import best_threshold, kfold_accuracy


def _brute_force(scores, same):
    candidates = np.concatenate([np.unique(scores), [np.inf]])
    accuracies = [((scores >= t) == same).mean() for t in candidates]
    return max(accuracies)


@pytest.mark.parametrize("seed", range(5))
def test_best_threshold_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    same = rng.random(300) < 0.5
    scores = np.round(rng.normal(same * 0.8, 0.5), 2)  # rounded: many ties
    threshold, accuracy = best_threshold(scores, same)
    assert accuracy == pytest.approx(_brute_force(scores, same))
    assert ((scores >= threshold) == same).mean() == pytest.approx(accuracy)


def test_kfold_hand_computed_case():
    # two folds; fold 0 is separable at 0.5, fold 1 has one positive scored low
    scores = np.array([0.9, 0.8, 0.1, 0.2, 0.9, 0.3, 0.1, 0.2])
    same = np.array([1, 1, 0, 0, 1, 1, 0, 0], bool)
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    result = kfold_accuracy(scores, same, folds)
    # fold 0 is scored with fold 1's threshold: midway between 0.2 and 0.3 = 0.25 → all 4 right.
    # fold 1 is scored with fold 0's: midway between 0.2 and 0.8 = 0.5 → its 0.3 positive is missed.
    assert result.fold_threshold.tolist() == pytest.approx([0.25, 0.5])
    assert result.fold_accuracy.tolist() == [1.0, 0.75]
    assert result.mean == 0.875 and result.std == 0.125


def test_missing_faces_count_as_different():
    scores = np.array([0.9, np.nan, 0.1, 0.2])
    same = np.array([1, 1, 0, 0], bool)
    result = kfold_accuracy(scores, same, np.zeros(4, int))
    assert result.mean == 0.75
