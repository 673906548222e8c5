"""FSRCNN, ESPCN and LapSRN: small super-resolution CNNs as frozen TensorFlow graphs, run by
plain ``opencv-python-headless`` on the luma (Y) channel, as they were trained.

The graphs end in TensorFlow's ``DepthToSpace`` (the sub-pixel shuffle), which OpenCV's importer
only knows through opencv-contrib's ``dnn_superres``; opencv-contrib cannot live beside the
headless package, so `_DepthToSpace` registers it with ``cv2.dnn_registerLayer``. Chroma (Cr, Cb)
is upscaled bicubically and merged back, as OpenCV's ``dnn_superres`` does.
"""

from __future__ import annotations

import threading
from typing import Any

import cv2
import numpy as np

from facebench.restore.base import Restorer, register_restorer
from facebench.zoo.cards import ColorOrder, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import github_raw

__all__ = ["OpenCVSuperResolution"]

_Y_CHANNEL_NOTE = (
    "Frozen TensorFlow graph for cv2.dnn on the Y channel only (RGB→YCrCb, Y/255, NCHW [1,1,h,w]); Cr and "
    "Cb are upscaled bicubically. Plain OpenCV needs a DepthToSpace layer registered with cv2.dnn. Trained "
    "on natural images (General-100/T91), not faces."
)


class _DepthToSpace:
    """TensorFlow's ``DepthToSpace`` for cv2.dnn, which hands it NCHW blobs.

    TensorFlow (NHWC) reads output pixel ``(h·b + i, w·b + j)``, channel ``c`` from input channel
    ``(i·b + j)·C + c``; the reshape below is that mapping on the NCHW blob.
    """

    def __init__(self, params: dict[str, Any], blobs: Any) -> None:
        if params.get("data_format", "NHWC") != "NHWC":
            raise ValueError(f"DepthToSpace with data_format {params['data_format']!r} is not supported")
        self.block = int(params["block_size"])

    def getMemoryShapes(self, inputs: list[list[int]]) -> list[list[int]]:
        batch, channels, height, width = inputs[0]
        block = self.block
        return [[batch, channels // (block * block), height * block, width * block]]

    def forward(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        blob = inputs[0]
        batch, channels, height, width = blob.shape
        block, out_channels = self.block, channels // (self.block * self.block)
        shuffled = blob.reshape(batch, block, block, out_channels, height, width).transpose(0, 3, 4, 1, 5, 2)
        return [np.ascontiguousarray(shuffled.reshape(batch, out_channels, height * block, width * block))]


_registered = threading.Lock()
_state = {"done": False}


def _register_depth_to_space() -> None:
    with _registered:
        if not _state["done"]:
            cv2.dnn_registerLayer("DepthToSpace", _DepthToSpace)  # type: ignore[arg-type]
            _state["done"] = True


class OpenCVSuperResolution(Restorer):
    """A Y-channel super-resolution graph (the card names the file and the scale)."""

    def _load(self) -> None:
        _register_depth_to_space()
        path = self.store.resolve(self.card, path=self.weights)
        self.net = cv2.dnn.readNetFromTensorflow(str(path))
        self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        self._lock = threading.Lock()  # a cv2.dnn.Net is not safe to call from two threads

    def _upscale(self, image: np.ndarray) -> np.ndarray:
        assert self.scale is not None
        height, width = image.shape[:2]
        ycrcb = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
        luma = ycrcb[:, :, 0].astype(np.float32)[None, None] / 255.0
        with self._lock:
            self.net.setInput(luma)
            upscaled = self.net.forward()[0, 0]
        size = (width * self.scale, height * self.scale)
        if upscaled.shape != (size[1], size[0]):
            raise RuntimeError(
                f"{self.name} returned {upscaled.shape} for a {height}×{width} input, expected ×{self.scale}"
            )
        chroma = cv2.resize(ycrcb[:, :, 1:], size, interpolation=cv2.INTER_CUBIC)
        merged = np.dstack([np.clip(np.rint(upscaled * 255.0), 0, 255).astype(np.uint8), chroma])
        return cv2.cvtColor(merged, cv2.COLOR_YCrCb2RGB)


def _card(family: str, scale: int, filename: str, digest: str, size: int, repo: tuple[str, str],
          folder: str, paper: str) -> WeightCard:  # fmt: skip
    return WeightCard(
        name=f"{family}_x{scale}",
        task=Task.RESTORER,
        directory="superres",
        files=(WeightFile(filename, digest, github_raw(*repo, f"{folder}/{filename}"), size=size),),
        license="Apache-2.0",
        source=f"{repo[0]}@{repo[1][:7]}:{folder}/{filename}",
        paper=paper,
        preprocess=Preprocess(color=ColorOrder.RGB, std=(255.0,) * 3),
        notes=f"×{scale}. {_Y_CHANNEL_NOTE}",
    )


_FAMILIES = (
    (
        "fsrcnn",
        ("Saafke/FSRCNN_Tensorflow", "6a4812c4ef1c4f5947d79beafa32a05a6eb4a94d"),
        "models",
        "Dong et al., Accelerating the Super-Resolution Convolutional Neural Network, ECCV 2016",
        (
            ("FSRCNN_x2.pb", 2, "366b33f0084c7b3f2bf6724f0a2c77bca94fcec9d7b6d72389d330073b380d5c", 38973),
            ("FSRCNN_x3.pb", 3, "efd38655a815908c6c8954db6052f128e76a735f1de657894c477d0dc0b64481", 40093),
            ("FSRCNN_x4.pb", 4, "5c68d18db561aed8ead4ffedf1b897ea615baaf60ebf6c35f8e641f8fa4a21bf", 41661),
        ),
    ),
    (
        "espcn",
        ("fannymonori/TF-ESPCN", "5c628eca82028161a53e1265cc3a5b571ab8625f"),
        "export",
        "Shi et al., Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel CNN, CVPR 2016",
        (
            ("ESPCN_x2.pb", 2, "59f77351e1d7c0057bf6fe088b4a8a07e42c468c8c8aebb674a6b4ea1823221d", 86446),
            ("ESPCN_x3.pb", 3, "0e667db7a431d14c32568ed79bf21701a64df8b1d162e48ca1f8800affe2c2b3", 92226),
            ("ESPCN_x4.pb", 4, "e403f06309229cf36009cd8fb0da032ba7643fae9f15cf94fe562e8edf8fef47", 100323),
        ),
    ),
    (
        "lapsrn",
        ("fannymonori/TF-LapSRN", "fc51c90af1b5801a357abc919160d7ff4f24b997"),
        "export",
        "Lai et al., Deep Laplacian Pyramid Networks for Fast and Accurate Super-Resolution, CVPR 2017",
        (
            ("LapSRN_x2.pb", 2, "f59c86e6835bbca646dbd81588f07820dfe3bd09e3702976ae2d90b5fc0f0b21", 1356253),
            ("LapSRN_x4.pb", 4, "d3e95c93cafae5ce5a8ed57ce9abf07f2de58da8c5d6d656b766774969835ee2", 2712798),
            ("LapSRN_x8.pb", 8, "a00211938b2b4c7d23691525a9267d9d0bbb345cdb9f38a7fc917414a5a1884f", 4069183),
        ),
    ),
)

for _family, _repo, _folder, _paper, _files in _FAMILIES:
    for _filename, _scale, _digest, _size in _files:
        _model_card = _card(_family, _scale, _filename, _digest, _size, _repo, _folder, _paper)
        register_restorer(
            type(
                f"{_family.upper()}x{_scale}",
                (OpenCVSuperResolution,),
                {
                    "name": _model_card.name,
                    "scale": _scale,
                    "__module__": __name__,
                    "__doc__": f"{_family.upper()} ×{_scale} ({_paper}).",
                },
            ),
            card=_model_card,
        )
