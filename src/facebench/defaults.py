"""The models every command and call uses when none is named: one place, so the CLI, the Python
API and the gallery never disagree (and ``facebench --help`` shows them without importing a model).
"""

from __future__ import annotations

__all__ = ["DEFAULT_DETECTOR", "DEFAULT_RECOGNIZER", "GALLERY_RECOGNIZER"]

#: the detector the default thresholds were calibrated with (`facebench.recognizers.thresholds`),
#: so a default `verify` decides with the threshold of its own pipeline
DEFAULT_DETECTOR = "retinaface_mnet025"

#: the recognizer of commands and calls that embed a few images: int8 EdgeFace-XS, one face per
#: call, so an embedding never depends on its batch-mates
DEFAULT_RECOGNIZER = "edgeface_xs_q"

#: a gallery embeds thousands of faces: the float EdgeFace-XS through ONNX Runtime, batched, the
#: int8 model's accuracy at a third of its time (docs/BENCHMARKS.md)
GALLERY_RECOGNIZER = "edgeface_xs_dequant@onnx"
