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


# --- ROC analysis against scikit-learn ---------------------------------------------------------
from sklearn import metrics as skm  # noqa: E402

from facebench.metrics.roc import eer, roc_auc, roc_curve, tar_at_far  # noqa: E402


@pytest.mark.parametrize("seed", range(6))
def test_roc_and_auc_agree_with_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    same = rng.random(2000) < 0.5
    scores = rng.normal(same * 1.2, 1.0)
    if seed % 2:
        scores = np.round(scores, 1)  # ties
    fpr, tpr, thresholds = roc_curve(scores, same)
    ref_fpr, ref_tpr, ref_thresholds = skm.roc_curve(same, scores, drop_intermediate=False)
    assert np.allclose(fpr, ref_fpr, atol=1e-9, rtol=0) and np.allclose(tpr, ref_tpr, atol=1e-9, rtol=0)
    assert np.array_equal(thresholds[1:], ref_thresholds[1:])
    assert abs(roc_auc(scores, same) - skm.auc(ref_fpr, ref_tpr)) < 1e-9
    assert abs(roc_auc(scores, same) - skm.roc_auc_score(same, scores)) < 1e-9


def test_eer_hand_computed():
    # impostors 0.1 0.2 0.3 0.6 ; genuines 0.4 0.7 0.8 0.9 → at 0.4 < t ≤ 0.6: FAR 1/4, FRR 1/4
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.4, 0.7, 0.8, 0.9])
    same = np.array([0, 0, 0, 0, 1, 1, 1, 1], bool)
    rate, threshold = eer(scores, same)
    assert rate == pytest.approx(0.25)
    assert 0.4 <= threshold <= 0.6


def test_tar_at_far_and_the_measurability_guard():
    rng = np.random.default_rng(3)
    same = np.r_[np.ones(3000, bool), np.zeros(3000, bool)]
    scores = rng.normal(same * 3.0, 1.0)
    result = tar_at_far(scores, same, (1e-1, 1e-2, 1e-3, 1e-4))
    assert result[1e-4] is None  # 3,000 impostors cannot measure 1 in 10,000
    impostor_scores = np.sort(scores[~same])[::-1]
    for far in (1e-1, 1e-2, 1e-3):
        allowed = int(far * 3000)  # false accepts allowed
        threshold = impostor_scores[allowed]  # strictest threshold rejecting the (allowed+1)-th impostor
        expected = (scores[same] > threshold).mean()
        assert result[far] == pytest.approx(expected)
    assert result[1e-1] >= result[1e-2] >= result[1e-3]


def test_nan_scores_are_rejections():
    scores = np.array([0.9, np.nan, 0.1, np.nan])
    same = np.array([1, 1, 0, 0], bool)
    fpr, tpr, _ = roc_curve(scores, same)
    # points: (0,0) at +inf, (0,.5) at 0.9, (.5,.5) at 0.1, (1,1) at -inf where the two NaNs tie:
    # area = 0.5·0.5 + 0.5·(0.5+1)/2 = 0.625
    assert fpr.tolist() == [0.0, 0.0, 0.5, 1.0] and tpr.tolist() == [0.0, 0.5, 0.5, 1.0]
    assert roc_auc(scores, same) == pytest.approx(0.625)


# --- significance --------------------------------------------------------------------------------
from facebench.metrics.significance import mcnemar_exact, wilson_interval  # noqa: E402


def test_wilson_interval_hand_values():
    low, high = wilson_interval(5970, 6000)  # 99.5 %
    assert low < 0.995 < high and high - low < 0.004
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == pytest.approx(1.0)
    # textbook value: 8/10 at 95 % → [0.490, 0.943]
    assert wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-3)


def test_mcnemar_exact_hand_values():
    first = np.array([1, 1, 1, 1, 1, 0, 1, 1], bool)
    second = np.array([1, 0, 0, 0, 0, 0, 1, 1], bool)  # 4 discordant, all for the first
    only_first, only_second, p = mcnemar_exact(first, second)
    assert (only_first, only_second) == (4, 0)
    assert p == pytest.approx(2 * 0.5**4)  # two-sided exact binomial
    assert mcnemar_exact(first, first)[2] == 1.0


# --- identification ----------------------------------------------------------------------------
from facebench.metrics.identification import cmc_curve  # noqa: E402


def test_cmc_hand_computed():
    gallery = ["a", "b", "c"]
    probes = ["a", "b", "c", "a"]
    similarity = np.array(
        [
            [0.9, 0.1, 0.2],  # a: rank 1
            [0.8, 0.7, 0.1],  # b: rank 2 (a scores higher)
            [0.5, 0.6, 0.4],  # c: rank 3
            [np.nan, np.nan, np.nan],  # a without a face: never identified
        ]
    )
    curve = cmc_curve(similarity, probes, gallery, max_rank=3)
    assert curve.tolist() == [0.25, 0.5, 0.75]
    with pytest.raises(ValueError, match="closed-set"):
        cmc_curve(similarity[:1], ["z"], gallery)
