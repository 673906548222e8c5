"""RetinaFace with a MobileNet-0.25 backbone, in plain PyTorch, with priors and decoding written here.

Module names match the published `Final_Retinaface.pth` state dict (biubug6/Pytorch_Retinaface),
so the weights load with ``strict=True``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from facebench.detectors.base import Detector
from facebench.detectors.registry import DETECTORS, register_detector
from facebench.ops.blob import to_blob
from facebench.ops.nms import nms
from facebench.ops.resize import model_input_shape, resize_for_model
from facebench.ops.runtime import run_torch
from facebench.types import NUM_LANDMARKS, Faces
from facebench.zoo import get_card, load_torch_weights
from facebench.zoo.cards import ColorOrder, DetectorDefaults, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import github_raw

__all__ = [
    "DETECTOR_FORMAT",
    "MNET_CONFIG",
    "RESNET50_CONFIG",
    "RetinaFaceConfig",
    "RetinaFaceMnet025",
    "TrainedRetinaFace",
    "build_network",
    "decode",
    "prior_boxes",
]


@dataclass(frozen=True, slots=True)
class RetinaFaceConfig:
    """Anchor layout of a RetinaFace model (``cfg_mnet`` of the reference implementation)."""

    min_sizes: tuple[tuple[int, ...], ...] = ((16, 32), (64, 128), (256, 512))
    steps: tuple[int, ...] = (8, 16, 32)
    variance: tuple[float, float] = (0.1, 0.2)
    out_channels: int = 64
    #: activation slope: the first-commit ``Final_Retinaface.pth`` was trained with plain ReLU.
    negative_slope: float = 0.0
    backbone: str = "mobilenet0.25"

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_sizes": [list(sizes) for sizes in self.min_sizes],
            "steps": list(self.steps),
            "variance": list(self.variance),
            "out_channels": self.out_channels,
            "negative_slope": self.negative_slope,
            "backbone": self.backbone,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RetinaFaceConfig:
        return cls(
            min_sizes=tuple(tuple(sizes) for sizes in data["min_sizes"]),
            steps=tuple(data["steps"]),
            variance=tuple(data["variance"]),
            out_channels=data["out_channels"],
            negative_slope=data["negative_slope"],
            backbone=data["backbone"],
        )


MNET_CONFIG = RetinaFaceConfig()
#: biubug6's ``cfg_re50``: same anchors, 256-channel FPN/SSH, ReLU
RESNET50_CONFIG = RetinaFaceConfig(out_channels=256, backbone="resnet50")

#: the ``format`` field of a RetinaFace model file written by ``facebench train detector``
DETECTOR_FORMAT = "facebench.detector/1"


def build_network(config: RetinaFaceConfig) -> Any:
    """An untrained RetinaFace network for ``config``."""
    from facebench.detectors.nets.retinaface import RetinaFace

    return RetinaFace(config.out_channels, len(config.min_sizes[0]), config.negative_slope, config.backbone)


def prior_boxes(height: int, width: int, config: RetinaFaceConfig = MNET_CONFIG) -> np.ndarray:
    """``(N, 4)`` priors as normalised ``cx, cy, w, h``, in the network's output order."""
    priors = []
    for step, sizes in zip(config.steps, config.min_sizes, strict=True):
        rows, cols = math.ceil(height / step), math.ceil(width / step)
        grid_y, grid_x = np.mgrid[:rows, :cols]
        centre_x = ((grid_x + 0.5) * step / width).reshape(-1, 1)
        centre_y = ((grid_y + 0.5) * step / height).reshape(-1, 1)
        per_size = [
            np.concatenate(
                [
                    centre_x,
                    centre_y,
                    np.full_like(centre_x, size / width),
                    np.full_like(centre_y, size / height),
                ],
                axis=1,
            )
            for size in sizes
        ]
        priors.append(np.stack(per_size, axis=1).reshape(-1, 4))  # cell-major, then size
    return np.concatenate(priors).astype(np.float32)


def decode(
    loc: np.ndarray, landmarks: np.ndarray, priors: np.ndarray, variance: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Prior-relative regressions to normalised xyxy boxes and ``(N, 5, 2)`` points."""
    centres = priors[:, :2] + loc[:, :2] * variance[0] * priors[:, 2:]
    sizes = priors[:, 2:] * np.exp(loc[:, 2:] * variance[1])
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
    points = priors[:, None, :2] + landmarks.reshape(-1, NUM_LANDMARKS, 2) * variance[0] * priors[:, None, 2:]
    return boxes, points


RETINAFACE_MNET025_CARD = WeightCard(
    name="retinaface_mnet025",
    task=Task.DETECTOR,
    directory="retinaface_mnet025",
    files=(
        WeightFile(
            "Final_Retinaface.pth",
            "78b0533ceea681a290e98efca85e3a2815b22310f1fe7e287788e7f55f0743a9",
            github_raw(
                "biubug6/Pytorch_Retinaface",
                "3c31dcd0049aff7fce28394ca96257be0657d17c",
                "weights/Final_Retinaface.pth",
            ),
            size=1789735,
        ),
    ),
    license="MIT (biubug6/Pytorch_Retinaface); trained on WIDER FACE",
    source="biubug6/Pytorch_Retinaface@3c31dcd:weights/Final_Retinaface.pth",
    paper="Deng et al., RetinaFace: Single-stage Dense Face Localisation in the Wild, CVPR 2020",
    preprocess=Preprocess(color=ColorOrder.BGR, mean=(104.0, 117.0, 123.0)),
    notes="Priors min_sizes [[16,32],[64,128],[256,512]], steps [8,16,32], variance [0.1,0.2].",
    detector_defaults=DetectorDefaults(
        score_threshold=0.5,
        nms_iou=0.4,
        input_size="max_side=1280",
        why=(
            "The authors' WIDER evaluation keeps everything above 0.02 to trace the whole precision-recall "
            "curve (eval-detection does the same); 0.5 is the deployment threshold."
        ),
    ),
)


@register_detector(card=RETINAFACE_MNET025_CARD)
class RetinaFaceMnet025(Detector):
    """RetinaFace MobileNet-0.25 (biubug6): BGR minus (104, 117, 123), any input size."""

    name: ClassVar[str] = "retinaface_mnet025"
    requires: ClassVar[tuple[str, ...]] = ("torch",)
    config_: ClassVar[RetinaFaceConfig] = MNET_CONFIG

    #: ``onnx`` runs a verified, cached ONNX export of the PyTorch network (3-4× faster on a CPU;
    #: boxes agree with ``torch`` to float rounding); ``torch`` runs the network eagerly
    engines: ClassVar[tuple[str, ...]] = ("onnx", "torch")
    max_batch: ClassVar[int] = 8

    def __init__(self, *, engine: str | None = None, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.engine = engine or self.engines[0]
        if self.engine not in self.engines:
            raise ValueError(
                f"Expected argument `engine` to be one of {', '.join(self.engines)} for {self.name}, "
                f"but got {self.engine!r}"
            )

    def _load(self) -> None:
        self.network = build_network(self.config_)
        self.network.load_state_dict(self._state_dict(), strict=True)
        self.network.eval()
        self._priors: dict[tuple[int, int], np.ndarray] = {}
        self.session = None
        if self.engine == "onnx":
            from facebench.ops.torch_engine import cached_onnx_session

            self.session = cached_onnx_session(
                self.network,
                input_shape=(3, 128, 128),
                cache_dir=self.store.cache_dir,
                source_sha256=self.card.files[0].sha256,
                name=f"{self.name}:{json.dumps(self.config_.to_dict(), sort_keys=True)}",
                threads=self.threads,
                any_input_size=True,
            )

    @property
    def config(self) -> dict[str, Any]:
        return {**super().config, "engine": self.engine}

    def _network_outputs(self, blob: np.ndarray) -> tuple[np.ndarray, ...]:
        if self.session is not None:
            return tuple(self.session.run(None, {"input": blob}))
        return run_torch(self.network, blob, self.threads)

    def _state_dict(self) -> dict[str, Any]:
        state = load_torch_weights(self.card_name, path=self.weights, store=self.store)
        return {key.removeprefix("module."): value for key, value in state.items()}

    def _priors_for(self, height: int, width: int) -> np.ndarray:
        if (height, width) not in self._priors:
            self._priors[(height, width)] = prior_boxes(height, width, self.config_)
        return self._priors[(height, width)]

    def cost_graph(self, width: int, height: int) -> tuple[str, Any, tuple[int, ...]]:
        w, h = model_input_shape(width, height, self.input_size, stride=32)
        return "torch", self.load().network, (1, 3, h, w)

    def _detect_rgb(self, image: np.ndarray) -> Faces:
        return self._detect_rgb_batch([image])[0]

    def _detect_rgb_batch(self, images: list[np.ndarray]) -> list[Faces]:
        """Same-size images in one forward pass (the network and its export take any batch)."""
        resized = [resize_for_model(image, self.input_size, stride=32) for image in images]
        blob = np.concatenate([to_blob(r.image, self.card.preprocess) for r in resized])
        height, width = blob.shape[2:]
        outputs = self._network_outputs(blob)
        return [
            self._decode_one(r, outputs[0][i], outputs[1][i], outputs[2][i], height, width)
            for i, r in enumerate(resized)
        ]

    def _decode_one(
        self, resized: Any, loc: np.ndarray, conf: np.ndarray, marks: np.ndarray, height: int, width: int
    ) -> Faces:
        logits = conf - conf.max(axis=1, keepdims=True)
        scores = np.exp(logits[:, 1]) / np.exp(logits).sum(axis=1)
        keep = np.flatnonzero(scores >= self.score_threshold)
        if keep.size == 0:
            return Faces.empty(self.name)
        boxes, points = decode(
            loc[keep], marks[keep], self._priors_for(height, width)[keep], self.config_.variance
        )
        scale = np.array([width, height], np.float32)
        boxes = boxes * np.tile(scale, 2)
        points = points * scale
        kept = nms(boxes, scores[keep], self.nms_iou)
        return resized.faces_to_original(boxes[kept], scores[keep][kept], points[kept], self.name)


class TrainedRetinaFace(RetinaFaceMnet025):
    """A RetinaFace trained or fine-tuned by ``facebench train detector``: ``ckpt:<model file>``.

    The model file (sha256-checked against its sidecar) carries the anchor layout, the backbone
    and the weights; decoding and defaults are RetinaFace's.
    """

    def __init__(self, checkpoint: str, **options: Any) -> None:
        from facebench.errors import FacebenchError
        from facebench.zoo.checkpoints import load_checkpoint

        path = Path(checkpoint)
        self._payload = load_checkpoint(path)
        if self._payload.get("format") != DETECTOR_FORMAT:
            raise FacebenchError(
                f"{path} is not a facebench detector file (format {self._payload.get('format')!r}); use the "
                "last.pt a detector run writes"
            )
        self.config_ = RetinaFaceConfig.from_dict(self._payload["config"])  # type: ignore[misc]
        self.name = f"ckpt:{checkpoint}"  # type: ignore[misc]
        self._digest = path.with_name(path.name + ".sha256").read_text().split()[0]
        self._card = replace(
            get_card("retinaface_mnet025"),
            name=self.name,
            directory=str(path.parent),
            files=(
                WeightFile(path.name, self._digest, url=path.resolve().as_uri(), size=path.stat().st_size),
            ),
            source=f"facebench train detector, step {self._payload['step']}",
        )
        super().__init__(**options)

    @property
    def card(self) -> WeightCard:
        return self._card

    @property
    def config(self) -> dict[str, Any]:
        return {**super().config, "model": self.name, "weights_sha256": [self._digest]}

    def _state_dict(self) -> dict[str, Any]:
        return self._payload["state_dict"]


DETECTORS.add_resolver("ckpt", TrainedRetinaFace)
