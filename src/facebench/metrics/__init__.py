"""Protocol-correct metrics, written as pure functions over numpy arrays."""

from facebench.metrics.verification import KFoldResult as KFoldResult
from facebench.metrics.verification import kfold_accuracy as kfold_accuracy

__all__ = ["KFoldResult", "kfold_accuracy"]
