"""Operating points for a target FAR: thresholds chosen on the other folds, counted on the held-out one."""

import numpy as np

from facebench.metrics.verification import far_threshold, operating_points


def test_far_threshold_allows_exactly_the_permitted_false_accepts():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    same = np.array([1, 1, 1, 0, 1, 0, 0, 0, 0, 0], bool)  # impostors score 0.6, 0.4, 0.3, 0.2, 0.1, 0.0
    # 6 impostors at FAR 0.2: one may pass (0.6), so the threshold sits just above the next (0.4)
    threshold = far_threshold(scores, same, 0.2)
    assert 0.4 < threshold < 0.4 + 1e-9
    assert ((scores >= threshold) & ~same).sum() == 1
    assert far_threshold(scores, same, 0.1) is None  # 6 impostors cannot express 1 in 10
    assert far_threshold(scores, same, 1.0) == -np.inf
    # ties with the first rejected impostor are rejected with it
    tied = np.array([0.5, 0.5, 0.5, 0.9])
    assert far_threshold(tied, np.array([0, 0, 0, 1], bool), 0.34) > 0.5


def test_operating_points_choose_on_other_folds_and_pool_the_held_out_decisions():
    # fold 1's impostors score high, fold 2's low: a threshold chosen on fold 2 lets fold 1's through
    scores = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.2, 0.1, 0.05, 0.0] * 1)
    same = np.array([1, 1, 0, 0, 0, 1, 1, 0, 0, 0], bool)
    folds = np.array([1, 1, 1, 1, 1, 2, 2, 2, 2, 2])
    (point,) = operating_points(scores, same, folds, (0.34,))
    # fold 1 gets fold 2's threshold: 3 impostors (0.1, 0.05, 0.0), one may pass -> just above 0.05
    # fold 2 gets fold 1's: impostors 0.8, 0.7, 0.6 -> just above 0.7
    first, second = point.fold_thresholds
    assert 0.05 < first < 0.05 + 1e-9 and 0.7 < second < 0.7 + 1e-9
    # held out: fold 1 accepts everything (2 genuine, 3 impostors); fold 2 accepts nothing
    assert (point.true_accepts, point.false_accepts) == (2, 3)
    assert point.tar == 2 / 4 and point.far == 3 / 6 and not point.single_fold
    assert point.threshold == np.mean([first, second])


def test_missing_scores_are_never_accepted_and_unmeasurable_targets_say_so():
    scores = np.array([np.nan, 0.9, 0.2, 0.1])
    same = np.array([1, 1, 0, 0], bool)
    low, unmeasurable = operating_points(scores, same, np.ones(4, int), (0.5, 0.1))
    assert low.single_fold and low.tar == 0.5 and low.far == 0.5
    assert not unmeasurable.measurable and unmeasurable.tar is None and unmeasurable.threshold is None
