"""Protocol-correct metrics, written as pure functions over numpy arrays."""

from facebench.metrics.roc import DEFAULT_FARS as DEFAULT_FARS
from facebench.metrics.roc import eer as eer
from facebench.metrics.roc import roc_auc as roc_auc
from facebench.metrics.roc import roc_curve as roc_curve
from facebench.metrics.roc import tar_at_far as tar_at_far
from facebench.metrics.verification import KFoldResult as KFoldResult
from facebench.metrics.verification import best_threshold as best_threshold
from facebench.metrics.verification import kfold_accuracy as kfold_accuracy

__all__ = [
    "DEFAULT_FARS",
    "KFoldResult",
    "best_threshold",
    "eer",
    "kfold_accuracy",
    "roc_auc",
    "roc_curve",
    "tar_at_far",
]
