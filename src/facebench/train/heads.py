"""Margin-based classification heads, focal loss and Partial FC for face recognition training.

A margin head turns cosines between normalised embeddings and class centres into logits, with a
margin on each sample's own class:

* `CombinedMargin` — ``s · (cos(m1·θ + m2) − m3)`` on the target: ArcFace (m2), CosFace (m3),
  SphereFace-style multiplicative angular margin (m1) and any combination (InsightFace's form).
* `AdaFace` — a margin that adapts to image quality through the feature norm (Kim et al. 2022).

`PartialFC` owns the class centres. Under ``torchrun`` it shards them over ranks, gathers the
global batch's embeddings, samples a fraction of the negative centres per step (An et al. 2022) and
computes the softmax (or focal) loss across ranks without ever materialising all logits on one rank.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn
from torch.nn import functional

from facebench.train.distributed import (
    all_gather_grad,
    all_gather_nograd,
    all_reduce_max,
    all_reduce_sum_grad,
)

__all__ = ["MARGIN_PRESETS", "AdaFace", "CombinedMargin", "PartialFC", "build_margin"]

_EPS = 1e-7

#: (m1, m2, m3) of each named head, with the scale s = 64 their papers use
MARGIN_PRESETS: dict[str, tuple[float, float, float]] = {
    "arcface": (1.0, 0.5, 0.0),
    "cosface": (1.0, 0.0, 0.4),
    "sphereface": (1.7, 0.0, 0.0),
    "combined": (1.0, 0.3, 0.2),
    "softmax": (1.0, 0.0, 0.0),
}


def _target_rows(labels: torch.Tensor) -> torch.Tensor:
    return torch.nonzero(labels >= 0, as_tuple=True)[0]


class CombinedMargin(nn.Module):
    """Target logit ``s·(cos(m1·θ + m2) − m3)``, other logits ``s·cos θ``.

    Where ``m1·θ + m2`` passes π the cosine would start rising again; there the target logit
    continues monotonically instead (ArcFace's ``cos θ − m2·sin m2`` when ``m1 = 1``).
    """

    def __init__(self, s: float = 64.0, m1: float = 1.0, m2: float = 0.5, m3: float = 0.0) -> None:
        super().__init__()
        if s <= 0 or m1 < 1.0 or m2 < 0 or m3 < 0:
            raise ValueError(
                f"margin needs s > 0, m1 >= 1, m2 >= 0, m3 >= 0; got s={s}, m1={m1}, m2={m2}, m3={m3}"
            )
        self.s, self.m1, self.m2, self.m3 = s, m1, m2, m3

    def forward(
        self, cosine: torch.Tensor, labels: torch.Tensor, norms: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits for ``cosine (N, C)``; ``labels (N,)`` index the target column, ``-1`` when absent."""
        rows = _target_rows(labels)
        if rows.numel() and (self.m1 != 1.0 or self.m2 != 0.0 or self.m3 != 0.0):
            target = cosine[rows, labels[rows]]
            if self.m1 != 1.0 or self.m2 != 0.0:
                theta = torch.acos(target.clamp(-1 + _EPS, 1 - _EPS))
                angle = self.m1 * theta + self.m2
                # past π: ArcFace's continuation when m1 = 1, else a linear one from cos π = −1
                beyond = target - self.m2 * math.sin(self.m2) if self.m1 == 1.0 else -1.0 - (angle - math.pi)
                modified = torch.where(angle <= math.pi, torch.cos(angle), beyond)
            else:
                modified = target
            cosine = cosine.index_put((rows, labels[rows]), modified - self.m3)
        return cosine * self.s


class AdaFace(nn.Module):
    """Quality-adaptive margin: feature norms (batch-standardised) scale an angular and an additive margin.

    Args:
        s: logit scale. m: margin. h: how strongly the standardised norm moves the margin.
        t_alpha: momentum of the running mean/std of the norms.
    """

    batch_mean: torch.Tensor  # buffers: running statistics of the embedding norms
    batch_std: torch.Tensor

    def __init__(self, s: float = 64.0, m: float = 0.4, h: float = 0.333, t_alpha: float = 0.01) -> None:
        super().__init__()
        self.s, self.m, self.h, self.t_alpha = s, m, h, t_alpha
        self.register_buffer("batch_mean", torch.tensor(20.0))
        self.register_buffer("batch_std", torch.tensor(100.0))

    def forward(
        self, cosine: torch.Tensor, labels: torch.Tensor, norms: torch.Tensor | None = None
    ) -> torch.Tensor:
        if norms is None:
            raise ValueError("AdaFace needs the embeddings' norms")
        safe = norms.detach().clamp(0.001, 100)
        if self.training:
            with torch.no_grad():
                self.batch_mean.mul_(1 - self.t_alpha).add_(self.t_alpha * safe.mean())
                self.batch_std.mul_(1 - self.t_alpha).add_(self.t_alpha * safe.std(unbiased=True))
        scaler = ((safe - self.batch_mean) / (self.batch_std + 1e-3) * self.h).clamp(-1, 1)
        rows = _target_rows(labels)
        cosine = cosine.clamp(-1 + _EPS, 1 - _EPS)
        if rows.numel():
            target = cosine[rows, labels[rows]]
            theta = torch.acos(target) - self.m * scaler[rows]
            modified = torch.cos(theta.clamp(_EPS, math.pi - _EPS)) - (self.m + self.m * scaler[rows])
            cosine = cosine.index_put((rows, labels[rows]), modified)
        return cosine * self.s


def build_margin(
    name: str,
    *,
    s: float = 64.0,
    m1: float | None = None,
    m2: float | None = None,
    m3: float | None = None,
    m: float = 0.4,
    h: float = 0.333,
) -> nn.Module:
    """The margin head ``name`` (arcface, cosface, sphereface, combined, softmax, adaface).

    ``m1``/``m2``/``m3`` override a preset's margins.
    """
    if name == "adaface":
        return AdaFace(s=s, m=m, h=h)
    if name not in MARGIN_PRESETS:
        choices = ", ".join([*MARGIN_PRESETS, "adaface"])
        raise ValueError(f"Expected head `type` to be one of {choices}, but got {name!r}")
    p1, p2, p3 = MARGIN_PRESETS[name]
    return CombinedMargin(s, p1 if m1 is None else m1, p2 if m2 is None else m2, p3 if m3 is None else m3)


def shard_range(num_classes: int, rank: int, world_size: int) -> tuple[int, int]:
    """``[start, end)`` of the classes rank ``rank`` owns (the first ranks take the remainder)."""
    base, extra = divmod(num_classes, world_size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


class PartialFC(nn.Module):
    """Class centres (sharded over ranks) with negative-centre sampling and a distributed margin softmax.

    Args:
        margin: a margin head (`CombinedMargin`, `AdaFace`).
        embedding_dim: embedding size. num_classes: identities in the whole training set.
        sample_rate: fraction of this rank's centres used per step (every positive centre in the
            global batch is always kept); 1.0 disables sampling: plain (sharded) full softmax.
        loss: ``ce`` (cross-entropy) or ``focal`` (``(1 − p)^gamma`` weighting, Lin et al.).
        rank, world_size: this process's shard (``torchrun`` fills these in through the trainer).
    """

    def __init__(
        self,
        margin: nn.Module,
        embedding_dim: int,
        num_classes: int,
        *,
        sample_rate: float = 1.0,
        loss: Literal["ce", "focal"] = "ce",
        gamma: float = 2.0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        super().__init__()
        if not 0.0 < sample_rate <= 1.0:
            raise ValueError(f"`sample_rate` must lie in (0, 1], got {sample_rate}")
        if loss not in ("ce", "focal"):
            raise ValueError(f"Expected argument `loss` to be one of ce, focal, but got {loss!r}")
        self.margin = margin
        self.num_classes = num_classes
        self.class_start, class_end = shard_range(num_classes, rank, world_size)
        self.num_local = class_end - self.class_start
        self.sample_rate = sample_rate
        self.num_sample = max(1, math.ceil(sample_rate * self.num_local))
        self.loss_kind = loss
        self.gamma = gamma
        self.weight = nn.Parameter(torch.normal(0, 0.01, (self.num_local, embedding_dim)))

    def _sample(
        self, local_labels: torch.Tensor, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Indices of the centres to use (all positives, then random negatives) and remapped labels."""
        owned = local_labels >= 0
        positives = torch.unique(local_labels[owned], sorted=True)
        if positives.numel() >= self.num_sample:
            index = positives
        else:
            scores = torch.rand(self.num_local, generator=generator)
            scores[positives] = 2.0  # positives first, then the lowest random draws of the rest
            index = torch.topk(scores, self.num_sample).indices.sort().values
        remapped = torch.full_like(local_labels, -1)
        remapped[owned] = torch.searchsorted(index.to(local_labels.device), local_labels[owned])
        return index.to(self.weight.device), remapped

    def forward(
        self, embeddings: torch.Tensor, labels: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Mean margin-softmax (or focal) loss of the global batch; the same value on every rank.

        Args:
            embeddings: ``(B, D)`` this rank's raw (unnormalised) embeddings.
            labels: ``(B,)`` class indices into the whole training set; ``-1`` marks a sample to
                leave out of the loss (an image that could not be read).
            generator: drives negative sampling (seed it from the step for exact resumption).
        """
        all_embeddings = all_gather_grad(embeddings.float())
        all_labels = all_gather_nograd(labels)
        local_labels = all_labels - self.class_start
        local_labels = torch.where((local_labels >= 0) & (local_labels < self.num_local), local_labels, -1)
        weight: torch.Tensor = self.weight
        if self.training and self.sample_rate < 1.0:
            index, local_labels = self._sample(local_labels, generator)
            weight = weight[index]
        norms = all_embeddings.norm(dim=1)
        cosine = functional.linear(functional.normalize(all_embeddings), functional.normalize(weight))
        logits = self.margin(cosine, local_labels, norms)
        peak = all_reduce_max(logits.detach().max(dim=1).values)
        shifted = logits - peak[:, None]
        total = all_reduce_sum_grad(shifted.exp().sum(dim=1))
        rows = _target_rows(local_labels)
        target = torch.zeros_like(total).index_put((rows,), shifted[rows, local_labels[rows]])
        log_p = all_reduce_sum_grad(target) - total.log()
        losses = -((1 - log_p.exp()) ** self.gamma) * log_p if self.loss_kind == "focal" else -log_p
        valid = all_labels >= 0
        return (losses * valid).sum() / valid.sum().clamp(min=1)
