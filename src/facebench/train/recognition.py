"""``facebench train recognition``: a backbone with a margin head and Partial FC, from CPU to multi-GPU.

One function, `train_recognition`, runs single-process or under ``torchrun`` (one process per
GPU, or several on CPU with gloo). Everything that decides a step's result — the sample order,
each sample's augmentation, Partial FC's negative sampling — is derived from ``(seed, step)``, and
the checkpoint holds every other piece of state, so a stopped run resumes to the same losses.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import torch
from pydantic import Field

from facebench.datasets import VerificationPairs, load_pair_dataset, write_pairs_csv
from facebench.defaults import DEFAULT_DETECTOR
from facebench.errors import FacebenchError
from facebench.recognizers.backbones import BackboneSpec, build_backbone
from facebench.recognizers.trained import RECOGNIZER_FORMAT, preprocess_to_dict
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
from facebench.train.config import (
    HeadType,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Probability,
)
from facebench.train.data import Augmentation, FaceTrainSet, RecordIO, collate, read_identity_folders
from facebench.train.distributed import DistributedContext
from facebench.train.heads import PartialFC, build_margin
from facebench.zoo.checkpoints import save_checkpoint

__all__ = [
    "DataConfig",
    "HeadConfig",
    "ModelConfig",
    "RecognitionConfig",
    "ValidationConfig",
    "Validator",
    "train_recognition",
]

logger = logging.getLogger("facebench.train")


@dataclass
class DataConfig:
    """Where the training faces come from.

    ``source``: ``aligned`` (``root/<identity>/*.jpg`` already aligned to the backbone's template, or
    112×112 ArcFace crops for a 112×96 backbone), ``raw`` (identity folders of ordinary photos:
    ``detector`` finds each image's central face once, cached, and every read aligns it), or
    ``recordio`` (``root`` is InsightFace's ``train.rec``, with ``train.idx`` beside it).
    """

    source: Literal["aligned", "raw", "recordio"] = "aligned"
    root: str = ""
    detector: str = DEFAULT_DETECTOR
    min_images: PositiveInt = 1
    max_identities: PositiveInt | None = None
    exclude_identities: list[str] = field(default_factory=list)
    flip: Probability = 0.5
    lowres_probability: Probability = 0.0
    lowres_factors: tuple[PositiveFloat, PositiveFloat] = (2.0, 8.0)
    workers: NonNegativeInt = 2


@dataclass
class ModelConfig:
    """``backbone``: a name from `facebench.recognizers.backbones` (ir_18 … ir_se_100, edgeface_xs,
    edgeface_xxs, mobilefacenet); ``options``: its keyword arguments (``embedding_dim``, ``dropout``)."""

    backbone: str = "ir_50"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class HeadConfig:
    """Margin head and loss; ``sample_rate`` < 1 turns on Partial FC's negative-centre sampling."""

    type: HeadType = "arcface"
    s: PositiveFloat = 64.0
    m1: float | None = None
    m2: float | None = None
    m3: float | None = None
    m: float = 0.4
    h: float = 0.333
    loss: Literal["ce", "focal"] = "ce"
    gamma: NonNegativeFloat = 2.0
    sample_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0


@dataclass
class ValidationConfig:
    """Verification accuracy on a facebench pair dataset every ``every`` steps (and at step 0).

    ``patience``: stop after that many validations without a better accuracy.
    ``exclude_training_identities``: drop pairs that involve a training identity (by folder name).
    """

    dataset: str | None = None
    every: PositiveInt = 1000
    detector: str = DEFAULT_DETECTOR
    exclude_training_identities: bool = False
    patience: PositiveInt | None = None
    batch_size: PositiveInt = 256


@dataclass
class RecognitionConfig:
    output: str = "runs/train/recognition"
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    threads: PositiveInt | None = None
    log_every: PositiveInt = 10
    checkpoint_every: PositiveInt = 1000
    keep_checkpoints: PositiveInt = 2
    tensorboard: bool = True
    resume: bool = True
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)


def _central_faces(paths: list[Path], detector_name: str, folder: Path, threads: int | None) -> list[Any]:
    """Each image's central face (``None`` when there is none), detected once and cached in ``folder``."""
    from facebench.bench.stages import central_faces

    return central_faces(detector_name, paths, folder, threads=threads)


def build_train_set(
    config: RecognitionConfig, spec: BackboneSpec, out: Path, context: DistributedContext
) -> tuple[FaceTrainSet, list[str], dict[str, int]]:
    """The training set, its identity names (empty for RecordIO) and counts worth reporting."""
    data = config.data
    augmentation = Augmentation(data.flip, data.lowres_probability, tuple(data.lowres_factors))  # type: ignore[arg-type]
    if data.source == "recordio":
        record = RecordIO(data.root)
        labels = record.labels()
        return (
            FaceTrainSet(spec.preprocess, labels, record=record, augmentation=augmentation),
            [],
            {"images": len(labels)},
        )
    if data.source not in ("aligned", "raw"):
        raise FacebenchError(
            f"Expected data.source to be one of aligned, raw, recordio, but got {data.source!r}"
        )
    folders = read_identity_folders(
        data.root,
        min_images=data.min_images,
        exclude=data.exclude_identities,
        max_identities=data.max_identities,
    )
    counts = {"images": len(folders.paths), "identities": len(folders.identities)}
    if data.source == "aligned":
        train_set = FaceTrainSet(
            spec.preprocess, folders.labels, paths=folders.paths, augmentation=augmentation
        )
        return train_set, folders.identities, counts
    # raw photos: the main rank detects (cached), the others read the cache
    cache = out / "alignment"
    if context.is_main:
        faces = _central_faces(folders.paths, data.detector, cache, config.threads)
    context.barrier()
    if not context.is_main:
        faces = _central_faces(folders.paths, data.detector, cache, config.threads)
    kept = [i for i, face in enumerate(faces) if face is not None and face.landmarks is not None]
    counts["images_without_face"] = len(folders.paths) - len(kept)
    if counts["images_without_face"]:
        logger.warning(
            "%d training images have no detected face and are left out", counts["images_without_face"]
        )
    train_set = FaceTrainSet(
        spec.preprocess,
        [folders.labels[i] for i in kept],
        paths=[folders.paths[i] for i in kept],
        faces=[(faces[i].box, faces[i].landmarks) for i in kept],
        augmentation=augmentation,
    )
    return train_set, folders.identities, counts


def _without_identities(pairs: VerificationPairs, identities: set[str]) -> VerificationPairs:
    keep = np.array(
        [
            a.parent.name not in identities and b.parent.name not in identities
            for a, b in zip(pairs.first, pairs.second, strict=True)
        ]
    )
    if not keep.any():
        raise FacebenchError("every validation pair involves a training identity; nothing is held out")
    return pairs.subset(keep)


class Validator:
    """Pair-verification accuracy of the current backbone (faces detected and aligned once)."""

    def __init__(
        self,
        config: ValidationConfig,
        spec: BackboneSpec,
        out: Path,
        training_identities: list[str],
        threads: int | None,
    ) -> None:
        from facebench.align import align_face
        from facebench.errors import ImageError
        from facebench.image import load_image

        assert config.dataset is not None
        pairs = load_pair_dataset(config.dataset)
        if config.exclude_training_identities:
            pairs = _without_identities(pairs, set(training_identities))
        self.pairs, self.config, self.spec = pairs, config, spec
        write_pairs_csv(pairs, out / "validation" / "pairs.csv")  # `benchmark` can score the same set
        images = pairs.images
        faces = _central_faces(images, config.detector, out / "validation", threads)
        template = spec.preprocess.template
        crops, self.row_of = [], {}
        for path, face in zip(images, faces, strict=True):
            if face is None or face.landmarks is None:
                continue
            with contextlib.suppress(ImageError):
                crops.append(align_face(load_image(path), face.box, face.landmarks, template, "similarity"))  # type: ignore[arg-type]
                self.row_of[path] = len(crops) - 1
        self.crops = np.stack(crops)
        self.description = {
            "dataset": config.dataset,
            "pairs": len(pairs),
            "images": len(images),
            "faces": len(crops),
        }

    @torch.no_grad()
    def __call__(self, backbone: torch.nn.Module, device: torch.device, precision: str) -> dict[str, float]:
        from facebench.metrics.roc import roc_auc
        from facebench.metrics.verification import best_threshold, kfold_accuracy
        from facebench.ops.blob import to_blob

        was_training = backbone.training
        backbone.eval()
        chunks = []
        for start in range(0, len(self.crops), self.config.batch_size):
            blob = torch.from_numpy(
                to_blob(list(self.crops[start : start + self.config.batch_size]), self.spec.preprocess)
            )
            with autocast(device, precision):
                chunks.append(torch.nn.functional.normalize(backbone(blob.to(device)).float()).cpu().numpy())
        backbone.train(was_training)
        embeddings = np.concatenate(chunks)

        def rows(paths: list[Path]) -> np.ndarray:
            return np.array([self.row_of.get(p, -1) for p in paths])

        first, second = rows(self.pairs.first), rows(self.pairs.second)
        scores = (embeddings[first] * embeddings[second]).sum(axis=1)
        scores[(first < 0) | (second < 0)] = np.nan
        accuracy = kfold_accuracy(scores, self.pairs.is_same, self.pairs.fold)
        threshold, _ = best_threshold(scores, self.pairs.is_same)
        return {
            "accuracy": round(accuracy.mean, 6),
            "accuracy_std": round(accuracy.std, 6),
            "auc": round(roc_auc(scores, self.pairs.is_same), 6),
            "threshold": round(float(threshold), 6),
        }


def model_payload(
    backbone: torch.nn.Module, config: ModelConfig, spec: BackboneSpec, step: int, validation: dict[str, Any]
) -> dict[str, Any]:
    """The recognizer model file (``ckpt:<path>``): architecture name, contract and weights."""
    return {
        "format": RECOGNIZER_FORMAT,
        "backbone": config.backbone,
        "backbone_options": dict(config.options),
        "preprocess": preprocess_to_dict(spec.preprocess),
        "state_dict": {key: value.detach().cpu() for key, value in backbone.state_dict().items()},
        "step": step,
        "validation": validation,
    }


def train_recognition(config: RecognitionConfig, *, stop_at: int | None = None) -> dict[str, Any]:
    """Train, validate and checkpoint as ``config`` says; returns the run's summary.

    Args:
        stop_at: stop (after checkpointing) once this many steps are done, as an interrupted run
            would; the next call with the same config resumes from there.
    """
    context, out = start_run(config)
    device = context.device
    backbone, spec = build_backbone(config.model.backbone, **config.model.options)
    backbone.to(device)
    train_set, identities, counts = build_train_set(config, spec, out, context)
    optim = config.optim
    margin = build_margin(
        config.head.type,
        s=config.head.s,
        m1=config.head.m1,
        m2=config.head.m2,
        m3=config.head.m3,
        m=config.head.m,
        h=config.head.h,
    )
    head = PartialFC(
        margin,
        spec.preprocess.embedding_dim or 512,
        train_set.num_classes,
        sample_rate=config.head.sample_rate,
        loss=config.head.loss,
        gamma=config.head.gamma,
        rank=context.rank,
        world_size=context.world_size,
    ).to(device)
    # every rank back-propagates the whole global-batch loss: backbone gradients are summed
    model = distributed(backbone, context, sum_gradients=True)
    trainable = [p for p in backbone.parameters() if p.requires_grad]
    optimisation = Optimisation.build([trainable, list(head.parameters())], optim, device, config.precision)
    checkpoints = CheckpointDir(out, context, config.keep_checkpoints)
    log = RunLog(out, context, config.tensorboard)

    step, best, stale = 0, None, 0
    latest = checkpoints.latest() if config.resume else None
    if latest is not None:
        state = checkpoints.load(latest)
        backbone.load_state_dict(state["backbone"])
        head.load_state_dict(state["head"])
        optimisation.load_state_dict(state["optimisation"])
        step, best, stale = state["step"], state["best"], state["stale"]
        logger.info("resumed from %s at step %d", latest, step)
    batches = training_batches(
        train_set,
        seed=config.seed,
        context=context,
        optim=optim,
        workers=config.data.workers,
        collate=collate,
        step=step,
    )
    validator = None
    if config.validation.dataset and context.is_main:
        validator = Validator(config.validation, spec, out, identities, config.threads)
        log.write(step, "validation_set", validator.description)
    if context.is_main:
        log.write(
            step, "data", {**counts, "classes": train_set.num_classes, "world_size": context.world_size}
        )

    def validate() -> bool:
        """Validate on the main rank; whether to stop early (agreed by every rank)."""
        nonlocal best, stale
        stop = False
        if validator is not None:
            result = validator(backbone, device, config.precision)
            log.write(step, "validation", result)
            if best is None or result["accuracy"] > best["accuracy"]:
                best, stale = {**result, "step": step}, 0
                save_checkpoint(model_payload(backbone, config.model, spec, step, best), out / "best.pt")
            else:
                stale += 1
            stop = config.validation.patience is not None and stale >= config.validation.patience
        if context.enabled:
            flag = [stop]
            torch.distributed.broadcast_object_list(flag, src=0)
            stop = bool(flag[0])
        return stop

    stopped_early = False
    if step == 0 and config.validation.dataset:
        stopped_early = validate()
    end = optim.steps if stop_at is None else min(optim.steps, stop_at)
    window: list[float] = []
    skipped, samples, started = 0, 0, time.perf_counter()
    interrupted = False
    with GracefulStop(context) as stop:
        while step < end and not stopped_early:
            backbone.train()
            head.train()
            step_losses = []
            for index in range(optim.accumulate):
                images, labels = next(batches)
                skipped += int((labels < 0).sum())
                images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
                with gradient_sync(model, context, last_micro_batch=index == optim.accumulate - 1):
                    with autocast(device, config.precision):
                        embeddings = model(images)
                    # negative sampling drawn from (seed, micro-batch): the same after a resume
                    generator = torch.Generator().manual_seed(
                        config.seed * 1_000_003 + step * optim.accumulate + index
                    )
                    loss = head(embeddings.float(), labels, generator=generator)
                    optimisation.backward(loss / optim.accumulate)
                step_losses.append(loss.item())
                samples += len(labels) * context.world_size
            grad_norm = optimisation.step()
            step += 1
            window.append(float(np.mean(step_losses)))
            if step % config.log_every == 0 or step == end:
                elapsed = time.perf_counter() - started
                log.write(
                    step,
                    "train",
                    {
                        "loss": round(float(np.mean(window)), 6),
                        "last_loss": round(window[-1], 6),
                        "lr": optimisation.lr,
                        "grad_norm": None if grad_norm is None else round(grad_norm, 4),
                        "samples_per_s": round(samples / elapsed, 2) if elapsed else None,
                        "skipped_samples": skipped,
                    },
                )
                window, samples, started = [], 0, time.perf_counter()
            if config.validation.dataset and (step % config.validation.every == 0 or step == optim.steps):
                stopped_early = validate()
                samples, started = 0, time.perf_counter()  # throughput counts training time only
            interrupted = stop.should_stop()
            if step % config.checkpoint_every == 0 or step == end or stopped_early or interrupted:
                checkpoints.save(
                    step,
                    {
                        "backbone": backbone.state_dict(),
                        "head": head.state_dict(),
                        "optimisation": optimisation.state_dict(),
                        "step": step,
                        "best": best,
                        "stale": stale,
                    },
                )
            if interrupted:
                logger.warning("stopped at step %d on request; run the same command to resume", step)
                break
    if context.is_main and (step == optim.steps or stopped_early):
        save_checkpoint(model_payload(backbone, config.model, spec, step, best or {}), out / "last.pt")
    summary = {
        "step": step,
        "finished": step == optim.steps or stopped_early,
        "stopped_early": stopped_early,
        "interrupted": interrupted,
        "best": best,
    }
    log.write(step, "summary", summary)
    log.close()
    context.close()
    return summary
