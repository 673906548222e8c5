"""A recognizer from an ONNX file and its contract sidecar: ``onnx:<path>``, torch-free.

``facebench export NAME --out model.onnx`` writes the graph and ``model.onnx.json``: the source
model's name and weight digests, the ONNX file's own sha256 and the input contract (template,
colour, normalisation, embedding size) copied from the source's weight card. With both files,
``onnx:model.onnx`` works wherever a recognizer name does, on the core install alone (ONNX
Runtime), for instance in the container image, which carries no torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from facebench.errors import ChecksumMismatchError, FacebenchError
from facebench.ops.runtime import onnx_session
from facebench.recognizers.base import Recognizer
from facebench.recognizers.registry import RECOGNIZERS
from facebench.recognizers.trained import preprocess_from_dict, preprocess_to_dict
from facebench.zoo.cards import Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.hashing import sha256_bytes

__all__ = ["ONNX_RECOGNIZER_FORMAT", "OnnxFileRecognizer", "write_onnx_sidecar"]

#: the ``format`` field of the sidecar
ONNX_RECOGNIZER_FORMAT = "facebench.onnx-recognizer/1"


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def write_onnx_sidecar(
    path: str | Path,
    *,
    source: str,
    source_sha256: list[str],
    preprocess: Preprocess,
    native_metric: str = "cosine",
) -> Path:
    """Write ``<path>.json``: what ``onnx:<path>`` needs to run the graph as its source model ran."""
    path = Path(path)
    payload = {
        "format": ONNX_RECOGNIZER_FORMAT,
        "source": source,
        "source_sha256": source_sha256,
        "sha256": sha256_bytes(path.read_bytes()),
        "native_metric": native_metric,
        "preprocess": preprocess_to_dict(preprocess),
    }
    target = sidecar_path(path)
    target.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return target


class OnnxFileRecognizer(Recognizer):
    """An exported recognizer graph, sha256-checked against its sidecar, through ONNX Runtime."""

    name: ClassVar[str] = "onnx"
    engines: ClassVar[tuple[str, ...]] = ("onnx",)

    def __init__(self, path: str, **options: Any) -> None:
        super().__init__(**options)
        graph = Path(path).expanduser()
        sidecar = sidecar_path(graph)
        if not sidecar.is_file():
            raise FacebenchError(
                f"{graph} has no contract file {sidecar.name} beside it; write both with "
                "`facebench export NAME --out FILE.onnx`"
            )
        try:
            contract = json.loads(sidecar.read_text(encoding="utf-8"))
            if contract.get("format") != ONNX_RECOGNIZER_FORMAT:
                raise ValueError(f"format {contract.get('format')!r}, expected {ONNX_RECOGNIZER_FORMAT!r}")
            preprocess = preprocess_from_dict(contract["preprocess"])
        except (ValueError, KeyError, TypeError) as error:
            raise FacebenchError(f"{sidecar} is not a facebench ONNX recognizer contract: {error}") from None
        model = graph.read_bytes()
        digest = sha256_bytes(model)
        if digest != contract["sha256"]:
            raise ChecksumMismatchError(str(graph), contract["sha256"], digest, f"onnx:{path}")
        self.name = f"onnx:{path}"  # type: ignore[misc]
        self.card_name = self.name  # type: ignore[misc]
        self.native_metric = contract.get("native_metric", "cosine")  # type: ignore[misc]
        self._card = WeightCard(
            name=self.name,
            task=Task.RECOGNIZER,
            directory=str(graph.parent),
            files=(WeightFile(graph.name, digest, url=graph.resolve().as_uri(), size=len(model)),),
            license="as the source model's",
            source=f"ONNX export of {contract['source']} (weights {', '.join(contract['source_sha256'])})",
            preprocess=preprocess,
        )
        self.source = contract["source"]
        self.session = onnx_session(model, self.threads)  # the verified bytes, never the path again
        self.input_name = self.session.get_inputs()[0].name

    @property
    def card(self) -> WeightCard:
        return self._card

    @property
    def config(self) -> dict[str, Any]:
        return {**super().config, "source": self.source}

    def _forward(self, blob: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: blob})[0]


RECOGNIZERS.add_resolver("onnx", OnnxFileRecognizer)
