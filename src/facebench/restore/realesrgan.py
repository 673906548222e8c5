"""Real-ESRGAN general-x4v3: a small generative (GAN-trained) ×4 restorer, fp16 ONNX on ONNX Runtime."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from facebench.ops.runtime import onnx_session
from facebench.restore.base import Restorer, register_restorer
from facebench.zoo.cards import ColorOrder, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import github_raw

__all__ = ["REALESRGAN_X4_CARD", "RealESRGANx4"]

REALESRGAN_X4_CARD = WeightCard(
    name="realesrgan_x4",
    task=Task.RESTORER,
    directory="superres",
    files=(
        WeightFile(
            "realesr-general-x4v3-fp16.onnx",
            "19ab1790ac07bc744740496f349ccaf484c2a806bc87f57a284047bc923b3965",
            github_raw(
                "yhbyhb/onnx-example",
                "e9c40fdd5479474af3e06487c111ff1cf178364f",
                "realesr-general-x4v3-fp16.onnx",
            ),
            size=2439920,
        ),
    ),
    license="BSD-3-Clause (xinntao/Real-ESRGAN weights; the ONNX copy's repository has no LICENSE)",
    source="yhbyhb/onnx-example@e9c40fd:realesr-general-x4v3-fp16.onnx (xinntao/Real-ESRGAN realesr-general-x4v3)",
    paper="Wang et al., Real-ESRGAN: Training Real-World Blind Super-Resolution with Pure Synthetic Data, ICCVW 2021",
    preprocess=Preprocess(color=ColorOrder.RGB, std=(255.0,) * 3),
    notes="×4. ONNX input `data` [N,3,H,W] float16 RGB in [0,1]; output [N,3,4H,4W] RGB in [0,1]. A GAN "
    "restorer: sharper looking, lower PSNR than FSRCNN/ESPCN on bicubic degradations.",
)


@register_restorer(card=REALESRGAN_X4_CARD)
class RealESRGANx4(Restorer):
    """Real-ESRGAN ×4 (realesr-general-x4v3), one face per call, in the fp16 the file holds."""

    name: ClassVar[str] = "realesrgan_x4"
    scale: ClassVar[int | None] = 4

    def _load(self) -> None:
        self.session = onnx_session(self.store.resolve(self.card, path=self.weights), self.threads)
        self.input_name = self.session.get_inputs()[0].name

    def _upscale(self, image: np.ndarray) -> np.ndarray:
        blob = (image.astype(np.float32) / 255.0).transpose(2, 0, 1)[None].astype(np.float16)
        output = self.session.run(None, {self.input_name: blob})[0][0].astype(np.float32)
        return np.clip(np.rint(output.transpose(1, 2, 0) * 255.0), 0, 255).astype(np.uint8)
