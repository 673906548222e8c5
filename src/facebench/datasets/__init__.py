"""Benchmark datasets: pair lists and image locations, read from `$FACEBENCH_HOME/data/<name>/`."""

from facebench.datasets.lfw import VerificationPairs as VerificationPairs
from facebench.datasets.lfw import load_lfw_pairs as load_lfw_pairs

__all__ = ["VerificationPairs", "load_lfw_pairs"]
