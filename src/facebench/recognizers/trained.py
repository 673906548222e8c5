"""A recognizer trained with ``facebench train recognition``, used by its checkpoint: ``ckpt:<path>``.

The model file carries the backbone's registry name, its options and the input contract it was
trained with, so ``ckpt:runs/train/x/best.pt`` works wherever a recognizer name does: ``benchmark``,
``verify``, ``embed``, ``export`` and the Python API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from facebench.errors import FacebenchError
from facebench.ops.torch_engine import runner_for
from facebench.recognizers.base import Recognizer
from facebench.recognizers.registry import RECOGNIZERS
from facebench.zoo.cards import ColorOrder, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.checkpoints import load_checkpoint

__all__ = ["RECOGNIZER_FORMAT", "TrainedRecognizer", "preprocess_from_dict", "preprocess_to_dict"]

#: the ``format`` field of a recognizer model file
RECOGNIZER_FORMAT = "facebench.recognizer/1"


def preprocess_to_dict(preprocess: Preprocess) -> dict[str, Any]:
    return {
        "input_size": list(preprocess.input_size) if preprocess.input_size else None,
        "size_policy": preprocess.size_policy,
        "color": str(preprocess.color),
        "mean": list(preprocess.mean),
        "std": list(preprocess.std),
        "layout": preprocess.layout,
        "template": preprocess.template,
        "embedding_dim": preprocess.embedding_dim,
    }


def preprocess_from_dict(data: dict[str, Any]) -> Preprocess:
    return Preprocess(
        input_size=tuple(data["input_size"]) if data["input_size"] else None,
        size_policy=data["size_policy"],
        color=ColorOrder(data["color"]),
        mean=tuple(data["mean"]),
        std=tuple(data["std"]),
        layout=data["layout"],
        template=data["template"],
        embedding_dim=data["embedding_dim"],
    )


class TrainedRecognizer(Recognizer):
    """A facebench-trained backbone from its model file (sha256-checked against its sidecar)."""

    name: ClassVar[str] = "ckpt"
    requires: ClassVar[tuple[str, ...]] = ("torch",)
    engines: ClassVar[tuple[str, ...]] = ("torch", "onnx")

    def __init__(self, checkpoint: str, **options: Any) -> None:
        super().__init__(**options)
        path = Path(checkpoint)
        payload = load_checkpoint(path)
        if payload.get("format") != RECOGNIZER_FORMAT:
            raise FacebenchError(
                f"{path} is not a facebench recognizer file (format {payload.get('format')!r}); use the "
                "best.pt or last.pt a recognition run writes"
            )
        self.name = f"ckpt:{checkpoint}"  # type: ignore[misc]
        self.card_name = self.name  # type: ignore[misc]
        self.payload_info = {k: payload[k] for k in ("backbone", "backbone_options", "step", "validation")}
        digest = path.with_name(path.name + ".sha256").read_text().split()[0]
        self._card = WeightCard(
            name=self.name,
            task=Task.RECOGNIZER,
            directory=str(path.parent),
            files=(WeightFile(path.name, digest, url=path.resolve().as_uri(), size=path.stat().st_size),),
            license="as the training data's",
            source=f"facebench train, step {payload['step']}",
            preprocess=preprocess_from_dict(payload["preprocess"]),
        )
        from facebench.recognizers.backbones import build_backbone  # torch: only when a checkpoint is run

        network, _ = build_backbone(payload["backbone"], **payload["backbone_options"])
        network.load_state_dict(payload["state_dict"], strict=True)
        self.runner = runner_for(self, network)  # ONNX exports cached by the file's sha256

    @property
    def card(self) -> WeightCard:
        return self._card

    @property
    def calibrated_threshold(self) -> float | None:
        """The cosine threshold that best split the validation pairs, when the run validated."""
        value = self.payload_info["validation"].get("threshold")
        return None if value is None else float(value)

    @property
    def config(self) -> dict[str, Any]:
        return {**super().config, "sha256": self._card.files[0].sha256}

    def _forward(self, blob: np.ndarray) -> np.ndarray:
        return self.runner(blob)


RECOGNIZERS.add_resolver("ckpt", TrainedRecognizer)
