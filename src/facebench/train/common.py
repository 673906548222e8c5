"""What recognition and detection training share: optimiser and schedule, precision, logging,
checkpoints with exact resumption."""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from facebench.atomic import atomic_write_text
from facebench.errors import FacebenchError
from facebench.train.config import NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, Probability
from facebench.train.distributed import DistributedContext
from facebench.zoo.checkpoints import load_checkpoint, save_checkpoint

__all__ = [
    "CheckpointDir",
    "GracefulStop",
    "OptimConfig",
    "Optimisation",
    "RunLog",
    "autocast",
    "build_optimizer",
    "build_scheduler",
    "distributed",
    "get_rng_state",
    "grad_scaler",
    "gradient_sync",
    "read_log",
    "set_rng_state",
    "start_run",
    "training_batches",
]


@dataclass
class OptimConfig:
    """Optimiser and learning-rate schedule.

    ``steps`` counts optimiser steps; each is ``accumulate`` micro-batches of ``batch_size`` per
    process. The rate rises linearly over ``warmup_steps``, then decays to ``min_lr`` by cosine or
    by ``(1 − t)^power`` (``poly``), or stays (``constant``).
    """

    optimizer: Literal["sgd", "adamw"] = "sgd"
    lr: PositiveFloat = 0.1
    momentum: Probability = 0.9
    weight_decay: NonNegativeFloat = 5e-4
    batch_size: PositiveInt = 128
    accumulate: PositiveInt = 1
    clip_grad_norm: PositiveFloat | None = 5.0
    steps: PositiveInt = 10_000
    warmup_steps: NonNegativeInt = 0
    schedule: Literal["cosine", "poly", "constant"] = "cosine"
    power: PositiveFloat = 2.0
    min_lr: NonNegativeFloat = 0.0


def build_optimizer(params: Iterable[dict[str, Any]], config: OptimConfig) -> torch.optim.Optimizer:
    groups = list(params)
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            groups, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
    raise FacebenchError(f"Expected optim.optimizer to be one of sgd, adamw, but got {config.optimizer!r}")


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: OptimConfig
) -> torch.optim.lr_scheduler.LambdaLR:
    if config.schedule not in ("cosine", "poly", "constant"):
        raise FacebenchError(
            f"Expected optim.schedule to be one of cosine, poly, constant, but got {config.schedule!r}"
        )
    floor = config.min_lr / config.lr if config.lr else 0.0

    def factor(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        if config.schedule == "constant":
            return 1.0
        progress = min(1.0, (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps))
        decay = (
            0.5 * (1 + math.cos(math.pi * progress))
            if config.schedule == "cosine"
            else (1 - progress) ** config.power
        )
        return floor + (1 - floor) * decay

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[Any]:
    """Mixed precision for ``precision`` in fp32, bf16, fp16 (fp16 only on CUDA)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    if precision == "fp16" and device.type != "cuda":
        raise FacebenchError("precision fp16 needs a CUDA device; use bf16 on CPU")
    if precision not in ("bf16", "fp16"):
        raise FacebenchError(f"Expected precision to be one of fp32, bf16, fp16, but got {precision!r}")
    return torch.autocast(device.type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


def grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler:
    """Loss scaling for fp16 (a disabled scaler otherwise, so the loop has one code path)."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")


def get_rng_state() -> dict[str, Any]:
    """Torch's generators (dropout draws from them); nothing in training draws from numpy's or
    Python's global generators: data order, augmentation and sampling come from (seed, step)."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class RunLog:
    """Scalars to ``metrics.jsonl`` (always) and TensorBoard (when installed and asked for), main rank only."""

    def __init__(self, folder: Path, context: DistributedContext, tensorboard: bool) -> None:
        self.enabled = context.is_main
        self.path = folder / "metrics.jsonl"
        self.writer = None
        if self.enabled and tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as error:
                raise ImportError(
                    "TensorBoard logging needs `pip install 'facebench[train]'` (tensorboard); "
                    "or set tensorboard: false"
                ) from error
            self.writer = SummaryWriter(str(folder / "tensorboard"))

    def write(self, step: int, kind: str, values: dict[str, Any]) -> None:
        if not self.enabled:
            return
        record = {"step": step, "kind": kind, "time": round(time.time(), 3), **values}
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        if self.writer is not None:
            for key, value in values.items():
                if isinstance(value, int | float):
                    self.writer.add_scalar(f"{kind}/{key}", value, step)
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def read_log(folder: Path, kind: str | None = None) -> list[dict[str, Any]]:
    """The records of a run's ``metrics.jsonl`` (of one ``kind``: train, validation, summary)."""
    path = folder / "metrics.jsonl"
    if not path.is_file():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if kind is None or r["kind"] == kind]


class CheckpointDir:
    """``checkpoints/step-NNNNNNNN/rank{r}.pt`` (full training state per rank) and a ``latest`` pointer.

    Each rank keeps its own state because Partial FC shards the class centres (and their optimiser
    state) over ranks. Only the newest ``keep`` steps are kept.
    """

    def __init__(self, folder: Path, context: DistributedContext, keep: int = 2) -> None:
        self.folder = folder / "checkpoints"
        self.context = context
        self.keep = max(1, keep)

    def latest(self) -> Path | None:
        pointer = self.folder / "latest"
        if not pointer.is_file():
            return None
        return self.folder / pointer.read_text().strip()

    def save(self, step: int, state: dict[str, Any]) -> Path:
        step_dir = self.folder / f"step-{step:08d}"
        save_checkpoint(state, step_dir / f"rank{self.context.rank}.pt")
        self.context.barrier()
        if self.context.is_main:
            pointer = self.folder / "latest"
            partial = pointer.with_name("latest.part")
            partial.write_text(step_dir.name)
            partial.replace(pointer)
            for old in sorted(self.folder.glob("step-*"))[: -self.keep]:
                shutil.rmtree(old, ignore_errors=True)
        self.context.barrier()
        return step_dir

    def load(self, step_dir: Path) -> dict[str, Any]:
        path = step_dir / f"rank{self.context.rank}.pt"
        if not path.is_file():
            ranks = sorted(p.name for p in step_dir.glob("rank*.pt"))
            raise FacebenchError(
                f"{step_dir} has no state for rank {self.context.rank} (it has {', '.join(ranks) or 'none'}): "
                "resume with the same number of processes"
            )
        return load_checkpoint(path)


class GracefulStop:
    """Ctrl-C (SIGINT) or SIGTERM asks the run to finish its step, checkpoint and return.

    A second signal interrupts at once. Under ``torchrun`` the ranks agree every step (a one-number
    all-reduce), so they all stop after the same step even if only one saw the signal.
    """

    def __init__(self, context: DistributedContext) -> None:
        self.context = context
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> GracefulStop:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def should_stop(self) -> bool:
        if not self.context.enabled:
            return self.requested
        flag = torch.tensor([float(self.requested)], device=self.context.device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        return bool(flag.item())


def start_run(config: Any) -> tuple[DistributedContext, Path]:
    """Join the process group, seed, set threads, create the run folder and record the config."""
    import yaml

    from facebench.train.config import config_to_dict
    from facebench.train.distributed import setup

    context = setup(config.device)
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    if context.is_main:
        record = out / "config.yaml"
        text = yaml.safe_dump(config_to_dict(config), sort_keys=False)
        if record.is_file() and record.read_text() != text:
            # a run with other settings in this folder: its record is kept, never overwritten
            number = 1 + len(list(out.glob("config.*.yaml")))
            record.replace(out / f"config.{number}.yaml")
        atomic_write_text(record, text)
    return context, out


def distributed(
    module: torch.nn.Module, context: DistributedContext, *, sum_gradients: bool = False
) -> torch.nn.Module:
    """``module`` wrapped in DDP when several processes run (summing instead of averaging on request)."""
    if not context.enabled:
        return module
    from facebench.train.distributed import sum_gradients_hook

    device = context.device
    wrapped = torch.nn.parallel.DistributedDataParallel(
        module, device_ids=[device.index] if device.type == "cuda" else None
    )
    if sum_gradients:
        wrapped.register_comm_hook(None, sum_gradients_hook)
    return wrapped


def gradient_sync(model: torch.nn.Module, context: DistributedContext, *, last_micro_batch: bool) -> Any:
    """DDP's ``no_sync`` for every micro-batch but the last of a step (gradients all-reduced once)."""
    if last_micro_batch or not context.enabled:
        return contextlib.nullcontext()
    return model.no_sync()  # type: ignore[operator]


@dataclass
class Optimisation:
    """Optimiser, schedule and gradient scaler of a run, saved and restored together."""

    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    parameters: list[torch.nn.Parameter]
    clip_grad_norm: float | None

    @classmethod
    def build(
        cls, groups: list[list[torch.nn.Parameter]], config: OptimConfig, device: torch.device, precision: str
    ) -> Optimisation:
        optimizer = build_optimizer([{"params": group} for group in groups], config)
        return cls(
            optimizer,
            build_scheduler(optimizer, config),
            grad_scaler(device, precision),
            [p for group in groups for p in group],
            config.clip_grad_norm,
        )

    def backward(self, loss: torch.Tensor) -> None:
        self.scaler.scale(loss).backward()

    def step(self) -> float | None:
        """Unscale, clip, step, schedule; the gradient norm before clipping (when clipping)."""
        self.scaler.unscale_(self.optimizer)
        norm = None
        if self.clip_grad_norm:
            norm = float(torch.nn.utils.clip_grad_norm_(self.parameters, self.clip_grad_norm))
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        return norm

    @property
    def lr(self) -> float:
        return float(self.scheduler.get_last_lr()[0])

    def state_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": get_rng_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        set_rng_state(state["rng"])


def training_batches(
    dataset: Any,
    *,
    seed: int,
    context: DistributedContext,
    optim: OptimConfig,
    workers: int,
    collate: Any,
    step: int,
    what: str = "training samples",
) -> Iterator[Any]:
    """Micro-batches forever, starting where optimiser step ``step`` left off (exact resume)."""
    from torch.utils.data import DataLoader

    from facebench.train.data import ResumableSampler

    sampler = ResumableSampler(len(dataset), seed=seed, rank=context.rank, world_size=context.world_size)
    batches_per_epoch = sampler.per_rank // optim.batch_size
    if batches_per_epoch == 0:
        raise FacebenchError(f"{len(dataset)} {what} cannot fill one batch of {optim.batch_size} per process")
    micro = step * optim.accumulate
    epoch, first = divmod(micro, batches_per_epoch)
    while True:
        sampler.set_position(epoch, first * optim.batch_size)
        yield from DataLoader(
            dataset,
            batch_size=optim.batch_size,
            sampler=sampler,
            num_workers=workers,
            collate_fn=collate,
            drop_last=True,
        )
        epoch, first = epoch + 1, 0
