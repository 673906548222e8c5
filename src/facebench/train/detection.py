"""``facebench train detector``: train or fine-tune RetinaFace on WIDER-format annotations.

The recipe follows RetinaFace's reference PyTorch training (biubug6): square random crops of
0.3–1× the short side, photometric distortion, mirroring with left/right landmarks swapped,
resize to ``image_size``; anchors matched at IoU 0.35 (each face also claims its best anchor);
multibox loss = 2 × smooth-L1 box + cross-entropy with 3:1 hard-negative mining + smooth-L1
landmarks (faces without landmarks are left out of that term).

The result (``last.pt``) is a detector everywhere as ``ckpt:<path>``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import cv2
import numpy as np
import torch
from pydantic import Field
from torch.nn import functional
from torch.utils.data import Dataset

from facebench.datasets.wider_labels import DetectionSample, read_wider_annotations
from facebench.detectors.retinaface import (
    DETECTOR_FORMAT,
    MNET_CONFIG,
    RESNET50_CONFIG,
    RetinaFaceConfig,
    build_network,
    prior_boxes,
)
from facebench.errors import FacebenchError, ImageError
from facebench.image import load_image
from facebench.ops.blob import to_blob
from facebench.train.common import (
    CheckpointDir,
    GracefulStop,
    OptimConfig,
    Optimisation,
    RunLog,
    autocast,
    distributed,
    gradient_sync,
    start_run,
    training_batches,
)
from facebench.train.config import NonNegativeInt, PositiveInt, Probability
from facebench.zoo import ColorOrder, get_card
from facebench.zoo.checkpoints import save_checkpoint

__all__ = [
    "DetectionConfig",
    "RetinaFaceTrainSet",
    "match_anchors",
    "multibox_loss",
    "train_detector",
]

logger = logging.getLogger("facebench.train")

#: mirroring swaps left and right eye, and left and right mouth corner
_MIRROR_ORDER = [1, 0, 2, 4, 3]


def _iou(boxes: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    top_left = np.maximum(boxes[:, None, :2], anchors[None, :, :2])
    bottom_right = np.minimum(boxes[:, None, 2:], anchors[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_boxes = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    area_anchors = np.prod(anchors[:, 2:] - anchors[:, :2], axis=1)
    return inter / (area_boxes[:, None] + area_anchors[None, :] - inter)


def match_anchors(
    boxes: np.ndarray,
    landmarks: np.ndarray,
    has_landmarks: np.ndarray,
    priors: np.ndarray,
    variance: tuple[float, float],
    threshold: float = 0.35,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Regression targets for every prior from normalised xyxy ``boxes`` and ``(N, 5, 2)`` points.

    Returns ``loc (P, 4)``, ``labels (P,)`` (1 face, 0 background), ``landmark targets (P, 10)``
    and ``landmark mask (P,)``.
    """
    count = len(priors)
    if len(boxes) == 0:
        return (
            np.zeros((count, 4), np.float32),
            np.zeros(count, np.int64),
            np.zeros((count, 10), np.float32),
            np.zeros(count, bool),
        )
    corners = np.concatenate([priors[:, :2] - priors[:, 2:] / 2, priors[:, :2] + priors[:, 2:] / 2], axis=1)
    overlaps = _iou(boxes, corners)
    best_prior = overlaps.argmax(axis=1)
    best_truth = overlaps.argmax(axis=0)
    best_overlap = overlaps.max(axis=0)
    best_overlap[best_prior] = 2.0  # every face keeps its best anchor, however low the IoU
    best_truth[best_prior] = np.arange(len(boxes))
    labels = (best_overlap >= threshold).astype(np.int64)
    matched = boxes[best_truth]
    centres = (matched[:, :2] + matched[:, 2:]) / 2
    sizes = matched[:, 2:] - matched[:, :2]
    loc = np.concatenate(
        [
            (centres - priors[:, :2]) / (variance[0] * priors[:, 2:]),
            np.log(np.maximum(sizes / priors[:, 2:], 1e-8)) / variance[1],
        ],
        axis=1,
    )
    points = (landmarks[best_truth] - priors[:, None, :2]) / (variance[0] * priors[:, None, 2:])
    mask = (labels > 0) & has_landmarks[best_truth]
    return loc.astype(np.float32), labels, points.reshape(count, -1).astype(np.float32), mask


def multibox_loss(
    loc: torch.Tensor,
    conf: torch.Tensor,
    marks: torch.Tensor,
    targets: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    negative_ratio: int = 3,
    loc_weight: float = 2.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """RetinaFace's loss over a batch of network outputs and `match_anchors` targets."""
    loc_target, labels, mark_target, mark_mask = targets
    positive = labels > 0
    num_positive = positive.sum().clamp(min=1).float()
    loss_loc = functional.smooth_l1_loss(loc[positive], loc_target[positive], reduction="sum") / num_positive
    loss_marks = (
        functional.smooth_l1_loss(marks[mark_mask], mark_target[mark_mask], reduction="sum")
        / mark_mask.sum().clamp(min=1).float()
    )
    per_anchor = functional.cross_entropy(conf.reshape(-1, 2), labels.reshape(-1), reduction="none").reshape(
        labels.shape
    )
    with torch.no_grad():
        mining = per_anchor.clone()
        mining[positive] = 0
        rank = mining.argsort(dim=1, descending=True).argsort(dim=1)
        negatives_kept = torch.clamp(
            negative_ratio * positive.sum(dim=1, keepdim=True), max=labels.shape[1] - 1
        )
        negative = rank < negatives_kept
    loss_conf = per_anchor[positive | negative].sum() / num_positive
    total = loc_weight * loss_loc + loss_conf + loss_marks
    return total, {"loc": loss_loc.item(), "conf": loss_conf.item(), "landmarks": loss_marks.item()}


@dataclass(frozen=True)
class DetectionAugmentation:
    crop_scales: tuple[float, ...] = (0.3, 0.45, 0.6, 0.8, 1.0)
    photometric: bool = True
    mirror: float = 0.5


class RetinaFaceTrainSet(Dataset):
    """Augmented, anchor-matched training items; requested as ``(index, seed)`` like the recognition set."""

    def __init__(
        self,
        samples: list[DetectionSample],
        image_size: int,
        config: RetinaFaceConfig,
        augmentation: DetectionAugmentation,
    ) -> None:
        self.samples, self.image_size, self.config, self.augmentation = (
            samples,
            image_size,
            config,
            augmentation,
        )
        self.priors = prior_boxes(image_size, image_size, config)
        # the input contract of RetinaFace's weight card, so training and detection agree
        self.preprocess = get_card("retinaface_mnet025").preprocess
        mean = np.asarray(self.preprocess.mean, np.float32)
        network_order_is_bgr = self.preprocess.color is ColorOrder.BGR
        self.padding_rgb = (mean[::-1] if network_order_is_bgr else mean).astype(
            np.uint8
        )  # pads to zero input

    def __len__(self) -> int:
        return len(self.samples)

    def _crop(
        self, image: np.ndarray, boxes: np.ndarray, points: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        height, width = image.shape[:2]
        keep_all = np.ones(len(boxes), bool)
        for _ in range(250):
            side = int(float(rng.choice(self.augmentation.crop_scales)) * min(height, width))
            left = int(rng.integers(0, width - side + 1))
            top = int(rng.integers(0, height - side + 1))
            centres = (boxes[:, :2] + boxes[:, 2:]) / 2
            inside = (
                (centres[:, 0] > left)
                & (centres[:, 0] < left + side)
                & (centres[:, 1] > top)
                & (centres[:, 1] < top + side)
            )
            if not inside.any():
                continue
            shifted = boxes[inside] - [left, top, left, top]
            shifted = np.clip(shifted, 0, side)
            sizes = (shifted[:, 2:] - shifted[:, :2]) / side * self.image_size
            big_enough = (sizes > 0).all(axis=1)
            if not big_enough.any():
                continue
            chosen = np.flatnonzero(inside)[big_enough]
            return (
                image[top : top + side, left : left + side],
                shifted[big_enough],
                points[chosen] - [left, top],
                chosen,
            )
        return image, boxes, points, np.flatnonzero(keep_all)

    @staticmethod
    def _distort(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        image = image.astype(np.float32)
        if rng.random() < 0.5:
            image += rng.uniform(-32, 32)
        if rng.random() < 0.5:
            image *= rng.uniform(0.5, 1.5)
        hsv = cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
        if rng.random() < 0.5:
            hsv[..., 1] *= rng.uniform(0.5, 1.5)
        if rng.random() < 0.5:
            hsv[..., 0] = (hsv[..., 0] + rng.integers(-18, 19)) % 180
        return cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB)

    def __getitem__(self, item: tuple[int, int]) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        index, seed = item
        rng = np.random.default_rng(seed)
        sample = self.samples[index]
        try:
            image = load_image(sample.path)
        except ImageError as error:
            logger.warning("skipping training image: %s", error)
            blank = np.zeros((3, self.image_size, self.image_size), np.float32)
            return blank, match_anchors(
                np.zeros((0, 4)), np.zeros((0, 5, 2)), np.zeros(0, bool), self.priors, self.config.variance
            )
        image, boxes, points, chosen = self._crop(
            image, sample.boxes_xyxy.copy(), sample.landmarks.copy(), rng
        )
        has_landmarks = sample.has_landmarks[chosen]
        if self.augmentation.photometric:
            image = self._distort(image, rng)
        side = image.shape[1]
        if rng.random() < self.augmentation.mirror:
            image = image[:, ::-1]
            boxes = np.stack([side - boxes[:, 2], boxes[:, 1], side - boxes[:, 0], boxes[:, 3]], axis=1)
            points = points[:, _MIRROR_ORDER].copy()
            points[..., 0] = side - points[..., 0]
        # pad to a square with the mean colour (a full-image fallback crop may be oblong)
        height, width = image.shape[:2]
        square = max(height, width)
        canvas = np.empty((square, square, 3), np.uint8)
        canvas[:] = self.padding_rgb
        canvas[:height, :width] = image
        resized = cv2.resize(
            canvas,
            (self.image_size, self.image_size),
            interpolation=int(
                rng.choice(
                    [cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_AREA, cv2.INTER_NEAREST, cv2.INTER_LANCZOS4]
                )
            ),
        )
        blob = to_blob(resized, self.preprocess)[0]
        targets = match_anchors(
            boxes / square, points / square, has_landmarks, self.priors, self.config.variance
        )
        return np.ascontiguousarray(blob), targets


def _collate(
    batch: list[tuple[np.ndarray, tuple[np.ndarray, ...]]],
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    images = torch.from_numpy(np.stack([item[0] for item in batch]))
    targets = tuple(torch.from_numpy(np.stack([item[1][k] for item in batch])) for k in range(4))
    return images, targets


@dataclass
class DetectionDataConfig:
    """``labels``: WIDER-format annotation file; ``images``: the folder its paths are relative to."""

    labels: str = ""
    images: str = ""
    skip_missing: bool = False
    workers: NonNegativeInt = 2
    crop_scales: tuple[Annotated[float, Field(gt=0.0, le=1.0)], ...] = (0.3, 0.45, 0.6, 0.8, 1.0)
    photometric: bool = True
    mirror: Probability = 0.5


@dataclass
class DetectionConfig:
    """``init``: ``retinaface_mnet025`` (the model store's pretrained weights, sha256-checked), a
    ``ckpt:<path>`` of an earlier run, or ``none`` (random initialisation)."""

    output: str = "runs/train/detector"
    backbone: Literal["mobilenet0.25", "resnet50"] = "mobilenet0.25"
    init: str = "none"
    image_size: Annotated[int, Field(ge=32)] = 640
    freeze_batchnorm: bool = False
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    threads: PositiveInt | None = None
    log_every: PositiveInt = 10
    checkpoint_every: PositiveInt = 1000
    keep_checkpoints: PositiveInt = 2
    tensorboard: bool = True
    resume: bool = True
    data: DetectionDataConfig = field(default_factory=DetectionDataConfig)
    optim: OptimConfig = field(
        default_factory=lambda: OptimConfig(
            lr=1e-3, batch_size=32, steps=50_000, warmup_steps=500, clip_grad_norm=None
        )
    )


def _initial_state(config: DetectionConfig) -> dict[str, torch.Tensor] | None:
    if config.init == "none":
        return None
    if config.init == "retinaface_mnet025":
        if config.backbone != "mobilenet0.25":
            raise FacebenchError("init retinaface_mnet025 needs backbone mobilenet0.25")
        from facebench.zoo import load_torch_weights

        state = load_torch_weights("retinaface_mnet025")
        return {key.removeprefix("module."): value for key, value in state.items()}
    if config.init.startswith("ckpt:"):
        from facebench.zoo.checkpoints import load_checkpoint

        return load_checkpoint(config.init[5:])["state_dict"]
    raise FacebenchError(
        f"Expected init to be none, retinaface_mnet025 or ckpt:<path>, but got {config.init!r}"
    )


def _freeze_batchnorm(network: torch.nn.Module) -> None:
    for module in network.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.eval()
            for parameter in module.parameters():
                parameter.requires_grad = False


def train_detector(config: DetectionConfig, *, stop_at: int | None = None) -> dict[str, Any]:
    """Train RetinaFace as ``config`` says (single process or under ``torchrun``); returns a summary."""
    if config.image_size % 32:
        raise FacebenchError(f"image_size must be a multiple of 32, got {config.image_size}")
    context, out = start_run(config)
    device = context.device
    anchors = MNET_CONFIG if config.backbone == "mobilenet0.25" else RESNET50_CONFIG
    network = build_network(anchors)
    initial = _initial_state(config)
    if initial is not None:
        network.load_state_dict(initial, strict=True)
    if config.freeze_batchnorm:
        _freeze_batchnorm(network)
    network.to(device)
    samples = read_wider_annotations(
        config.data.labels, config.data.images, skip_missing=config.data.skip_missing
    )
    augmentation = DetectionAugmentation(
        tuple(config.data.crop_scales), config.data.photometric, config.data.mirror
    )
    train_set = RetinaFaceTrainSet(samples, config.image_size, anchors, augmentation)
    model = distributed(network, context)
    optim = config.optim
    optimisation = Optimisation.build(
        [[p for p in network.parameters() if p.requires_grad]], optim, device, config.precision
    )
    checkpoints = CheckpointDir(out, context, config.keep_checkpoints)
    log = RunLog(out, context, config.tensorboard)
    step = 0
    latest = checkpoints.latest() if config.resume else None
    if latest is not None:
        state = checkpoints.load(latest)
        network.load_state_dict(state["network"])
        optimisation.load_state_dict(state["optimisation"])
        step = state["step"]
    batches = training_batches(
        train_set,
        seed=config.seed,
        context=context,
        optim=optim,
        workers=config.data.workers,
        collate=_collate,
        step=step,
        what="annotated images",
    )
    if context.is_main:
        faces = int(sum(len(s.boxes_xyxy) for s in samples))
        with_marks = int(sum(s.has_landmarks.sum() for s in samples))
        log.write(step, "data", {"images": len(samples), "faces": faces, "faces_with_landmarks": with_marks})

    def save_model() -> Path:
        payload = {
            "format": DETECTOR_FORMAT,
            "architecture": "retinaface",
            "config": anchors.to_dict(),
            "state_dict": {key: value.detach().cpu() for key, value in network.state_dict().items()},
            "step": step,
            "image_size": config.image_size,
        }
        return save_checkpoint(payload, out / "last.pt")

    end = optim.steps if stop_at is None else min(optim.steps, stop_at)
    window: list[float] = []
    parts: dict[str, list[float]] = {"loc": [], "conf": [], "landmarks": []}
    started, seen = time.perf_counter(), 0
    interrupted = False
    with GracefulStop(context) as stop:
        while step < end:
            network.train()
            if config.freeze_batchnorm:
                _freeze_batchnorm(network)
            losses = []
            for index in range(optim.accumulate):
                images, targets = next(batches)
                images = images.to(device)
                targets = tuple(t.to(device) for t in targets)
                with gradient_sync(model, context, last_micro_batch=index == optim.accumulate - 1):
                    with autocast(device, config.precision):
                        loc, conf, marks = model(images)
                    loss, detail = multibox_loss(loc.float(), conf.float(), marks.float(), targets)
                    optimisation.backward(loss / optim.accumulate)
                losses.append(loss.item())
                for key, value in detail.items():
                    parts[key].append(value)
                seen += len(images) * context.world_size
            optimisation.step()
            step += 1
            window.append(float(np.mean(losses)))
            if step % config.log_every == 0 or step == end:
                elapsed = time.perf_counter() - started
                log.write(
                    step,
                    "train",
                    {
                        "loss": round(float(np.mean(window)), 6),
                        "last_loss": round(window[-1], 6),
                        **{f"loss_{k}": round(float(np.mean(v)), 6) for k, v in parts.items()},
                        "lr": optimisation.lr,
                        "images_per_s": round(seen / elapsed, 2) if elapsed else None,
                    },
                )
                window, parts, started, seen = [], {k: [] for k in parts}, time.perf_counter(), 0
            interrupted = stop.should_stop()
            if step % config.checkpoint_every == 0 or step == end or interrupted:
                state = {
                    "network": network.state_dict(),
                    "optimisation": optimisation.state_dict(),
                    "step": step,
                }
                checkpoints.save(step, state)
                if context.is_main:
                    save_model()
            if interrupted:
                logger.warning("stopped at step %d on request; run the same command to resume", step)
                break
    summary = {
        "step": step,
        "finished": step == optim.steps,
        "interrupted": interrupted,
        "model": str(out / "last.pt"),
    }
    log.write(step, "summary", summary)
    log.close()
    context.close()
    return summary
