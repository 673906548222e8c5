"""Default decision thresholds (cosine similarity) per recognizer, with their provenance.

The values live in ``thresholds.json`` beside this module, a data file written by
``facebench eval-lfw --write-threshold``: each is the threshold that maximises accuracy over all
6,000 LFW View-2 pairs for the pipeline its entry names (``threshold_all_pairs`` of that run),
and, for each false-accept rate the 3,000 impostor pairs can express (1e-1, 1e-2, 1e-3), the
lowest threshold whose FAR over all pairs is at most that rate (`Threshold.at_far`, used by
``verify --far``). A threshold belongs to a pipeline: another detector, alignment or dataset may
call for another one, which `facebench eval-lfw` measures.

``$FACEBENCH_THRESHOLDS`` names another file to read and write instead (an installed package's
folder may be read-only); while that file does not exist, the package's values are read.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from facebench.atomic import atomic_open
from facebench.errors import FacebenchError

__all__ = [
    "CALIBRATED_FARS",
    "DEFAULT_THRESHOLDS",
    "PACKAGE_THRESHOLDS",
    "Threshold",
    "far_key",
    "thresholds_file",
    "write_threshold",
]

#: the false-accept rates ``eval-lfw --write-threshold`` calibrates (those 3,000 impostors can express)
CALIBRATED_FARS: tuple[float, ...] = (1e-1, 1e-2, 1e-3)


def far_key(far: float) -> str:
    """The data file's spelling of a false-accept rate: ``1e-3`` for 0.001."""
    mantissa, _, exponent = f"{far:.0e}".partition("e")
    return f"{mantissa}e{int(exponent)}"


PACKAGE_THRESHOLDS = Path(__file__).with_name("thresholds.json")


def thresholds_file() -> Path:
    """The file `write_threshold` writes: ``$FACEBENCH_THRESHOLDS`` or the package's own."""
    configured = os.environ.get("FACEBENCH_THRESHOLDS", "").strip()
    return Path(configured).expanduser() if configured else PACKAGE_THRESHOLDS


def _readable_file() -> Path:
    path = thresholds_file()
    return path if path.is_file() else PACKAGE_THRESHOLDS


@dataclass(frozen=True, slots=True)
class Threshold:
    """A calibrated threshold and the measurement it came from."""

    value: float
    dataset: str
    pairs: int
    detector: str
    align: str
    flip: bool
    measured: str
    facebench_version: str
    command: str
    #: threshold per target FAR (`far_key` spelling), the lowest with FAR <= target over all pairs
    far: dict[str, float] = field(default_factory=dict)

    def at_far(self, target: float) -> float:
        """The calibrated threshold for false-accept rate ``target``.

        Raises:
            FacebenchError: that rate was not calibrated (the choices are named).
        """
        for key, value in self.far.items():
            if math.isclose(float(key), target, rel_tol=1e-9):
                return value
        known = ", ".join(self.far) or "none (re-run its `eval-lfw --write-threshold`)"
        raise FacebenchError(f"no threshold calibrated for FAR {target:g}; calibrated FARs: {known}")

    @property
    def provenance(self) -> str:
        flip = "flip" if self.flip else "no flip"
        return (
            f"{self.dataset}, all {self.pairs:,} pairs, detector {self.detector}, alignment {self.align}, "
            f"{flip}; measured {self.measured} (facebench {self.facebench_version}) by `{self.command}`"
        )


class _Thresholds(Mapping[str, Threshold]):
    """The data file, read again whenever it (or the file configured) changed."""

    def __init__(self) -> None:
        self._loaded: tuple[Path, int] | None = None
        self._entries: dict[str, Threshold] = {}

    def _load(self) -> dict[str, Threshold]:
        path = _readable_file()
        stamp = (path, path.stat().st_mtime_ns)
        if stamp != self._loaded:
            payload = json.loads(path.read_text(encoding="utf-8"))
            self._entries = {name: Threshold(**entry) for name, entry in payload["thresholds"].items()}
            self._loaded = stamp
        return self._entries

    def __getitem__(self, name: str) -> Threshold:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


DEFAULT_THRESHOLDS: Mapping[str, Threshold] = _Thresholds()


def write_threshold(recognizer: str, threshold: Threshold) -> Path:
    """Record ``threshold`` as ``recognizer``'s default (atomically; other entries are kept)."""
    payload: dict[str, Any] = json.loads(_readable_file().read_text(encoding="utf-8"))
    payload["thresholds"][recognizer] = asdict(threshold)
    payload["thresholds"] = dict(sorted(payload["thresholds"].items()))
    path = thresholds_file()
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(payload, indent=2) + "\n")
    return path
