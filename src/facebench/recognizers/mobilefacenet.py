"""MobileFaceNet trained on CASIA-WebFace: the Xiaoccer PyTorch model and an int8 TFLite model.

Both take 112 (high) × 96 (wide) crops aligned to the SphereFace template, RGB, (x − 127.5) / 128,
and give 128-d embeddings.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from facebench.ops.runtime import litert_interpreter
from facebench.ops.torch_engine import runner_for
from facebench.recognizers.base import Recognizer
from facebench.recognizers.registry import register_recognizer
from facebench.zoo import load_torch_weights

__all__ = ["MobileFaceNetCasia", "MobileFaceNetTflite"]


@register_recognizer
class MobileFaceNetCasia(Recognizer):
    name: ClassVar[str] = "mobilefacenet_casia"
    card_name: ClassVar[str] = "mobilefacenet_casia"
    engines: ClassVar[tuple[str, ...]] = ("torch", "onnx")

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        from facebench.recognizers.nets.mobilefacenet import MobileFaceNet

        checkpoint = load_torch_weights(self.card_name, path=self.weights, store=self.store)
        network = MobileFaceNet(self.embedding_dim)
        network.load_state_dict(checkpoint["net_state_dict"], strict=True)
        self.runner = runner_for(self, network)

    def _forward(self, blob: np.ndarray) -> np.ndarray:
        return self.runner(blob)


@register_recognizer
class MobileFaceNetTflite(Recognizer):
    """The TF2 MobileFaceNet with int8 weights (float input and output), through LiteRT."""

    name: ClassVar[str] = "mobilefacenet_tflite"
    card_name: ClassVar[str] = "mobilefacenet_tflite"
    engines: ClassVar[tuple[str, ...]] = ("litert",)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.interpreter = litert_interpreter(self.store.resolve(self.card, path=self.weights), self.threads)
        self.input = self.interpreter.get_input_details()[0]
        self.output_index = self.interpreter.get_output_details()[0]["index"]
        self._batch = 1

    def _forward(self, blob: np.ndarray) -> np.ndarray:
        if blob.shape[0] != self._batch:
            self.interpreter.resize_tensor_input(self.input["index"], list(blob.shape))
            self.interpreter.allocate_tensors()
            self._batch = blob.shape[0]
        self.interpreter.set_tensor(self.input["index"], blob)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output_index).reshape(blob.shape[0], -1).copy()
