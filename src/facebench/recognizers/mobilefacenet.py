"""MobileFaceNet trained on CASIA-WebFace: the Xiaoccer PyTorch model and an int8 TFLite model.

Both take 112 (high) × 96 (wide) crops aligned to the SphereFace template, RGB, (x − 127.5) / 128,
and give 128-d embeddings.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from facebench.ops.runtime import litert_interpreter
from facebench.ops.torch_engine import runner_for
from facebench.recognizers.base import Recognizer
from facebench.recognizers.registry import register_recognizer
from facebench.zoo import load_torch_weights
from facebench.zoo.cards import ColorOrder, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import github_raw

__all__ = ["MobileFaceNetCasia", "MobileFaceNetTflite"]


MOBILEFACENET_CASIA_CARD = WeightCard(
    name="mobilefacenet_casia",
    task=Task.RECOGNIZER,
    directory="mobilefacenet_xiaoccer",
    files=(
        WeightFile(
            "068.ckpt",
            "e839247cdbdfc023fb7cadeaf53a4549d50c8fc24ad154c02e35920ea8910d99",
            github_raw(
                "Xiaoccer/MobileFaceNet_Pytorch",
                "26bd8d262017e472a3c7f56d62929e2138a70aeb",
                "model/best/068.ckpt",
            ),
            size=4130855,
        ),
    ),
    license="no licence file (Xiaoccer/MobileFaceNet_Pytorch); trained on CASIA-WebFace (non-commercial)",
    source="Xiaoccer/MobileFaceNet_Pytorch@26bd8d2:model/best/068.ckpt",
    paper="Chen et al., MobileFaceNets, CCBR 2018",
    preprocess=Preprocess(
        input_size=(96, 112),
        size_policy="crop",
        color=ColorOrder.RGB,
        mean=(127.5,) * 3,
        std=(128.0,) * 3,
        template="sphereface_112x96",
        embedding_dim=128,
    ),
    notes="Published LFW 99.30% with original+flipped features concatenated.",
)


MOBILEFACENET_TFLITE_CARD = WeightCard(
    name="mobilefacenet_tflite",
    task=Task.RECOGNIZER,
    directory="mobilefacenet_tf2_quant",
    files=(
        WeightFile(
            "inference_model_993_quant.tflite",
            "fa77f06af74876b7a1b39403b093ee9c74c62f29a60005e13e445f74c06c445d",
            github_raw(
                "zye1996/Mobilefacenet-TF2-coral_tpu",
                "875decff2fd120b31a682bbdfd6bc763650210af",
                "pretrained_model/training_model/inference_model_993_quant.tflite",
            ),
            size=1408992,
        ),
    ),
    license="no licence file (zye1996/Mobilefacenet-TF2-coral_tpu); trained on CASIA-WebFace",
    source="zye1996/Mobilefacenet-TF2-coral_tpu@875decf:pretrained_model/training_model/inference_model_993_quant.tflite",
    paper="Chen et al., MobileFaceNets, CCBR 2018",
    preprocess=Preprocess(
        input_size=(96, 112),
        size_policy="crop",
        color=ColorOrder.RGB,
        mean=(127.5,) * 3,
        std=(128.0,) * 3,
        layout="nhwc",
        template="sphereface_112x96",
        embedding_dim=128,
    ),
    notes="int8 weights, float input/output. Published LFW of the float model 99.3%.",
)


@register_recognizer(card=MOBILEFACENET_CASIA_CARD)
class MobileFaceNetCasia(Recognizer):
    name: ClassVar[str] = "mobilefacenet_casia"
    requires: ClassVar[tuple[str, ...]] = ("torch",)
    engines: ClassVar[tuple[str, ...]] = ("torch", "onnx")

    def _load(self) -> None:
        from facebench.recognizers.nets.mobilefacenet import MobileFaceNet

        checkpoint = load_torch_weights(self.card_name, path=self.weights, store=self.store)
        network = MobileFaceNet(self.embedding_dim)
        network.load_state_dict(checkpoint["net_state_dict"], strict=True)
        self.runner = runner_for(self, network)

    def _forward(self, blob: np.ndarray) -> np.ndarray:
        return self.runner(blob)


@register_recognizer(card=MOBILEFACENET_TFLITE_CARD)
class MobileFaceNetTflite(Recognizer):
    """The TF2 MobileFaceNet with int8 weights (float input and output), through LiteRT."""

    name: ClassVar[str] = "mobilefacenet_tflite"
    requires: ClassVar[tuple[str, ...]] = ("ai_edge_litert",)
    engines: ClassVar[tuple[str, ...]] = ("litert",)

    def _load(self) -> None:
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
