"""Run under ``torchrun --nproc-per-node 2``: sharded Partial FC against a single-process full softmax.

Every rank computes the reference (the whole batch against all centres, no communication), then the
sharded loss on its half of the batch and its half of the centres; it writes loss and gradient
differences to ``$OUT/rank<r>.json``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
from torch.nn import functional

from facebench.train.distributed import setup
from facebench.train.heads import PartialFC, build_margin, shard_range

NUM_CLASSES, DIM, BATCH = 11, 16, 8


def main(out: Path) -> None:
    context = setup("cpu")
    generator = torch.Generator().manual_seed(0)
    embeddings = torch.randn(BATCH, DIM, generator=generator)
    labels = torch.randint(0, NUM_CLASSES, (BATCH,), generator=generator)
    centres = torch.randn(NUM_CLASSES, DIM, generator=generator)
    margin = build_margin("arcface")

    reference_embeddings = embeddings.clone().requires_grad_(True)
    reference_centres = centres.clone().requires_grad_(True)
    cosine = functional.linear(
        functional.normalize(reference_embeddings), functional.normalize(reference_centres)
    )
    reference = functional.cross_entropy(margin(cosine, labels), labels)
    reference.backward()

    per_rank = BATCH // context.world_size
    rows = slice(context.rank * per_rank, (context.rank + 1) * per_rank)
    start, end = shard_range(NUM_CLASSES, context.rank, context.world_size)
    head = PartialFC(margin, DIM, NUM_CLASSES, rank=context.rank, world_size=context.world_size)
    head.weight.data.copy_(centres[start:end])
    local = embeddings[rows].clone().requires_grad_(True)
    loss = head(local, labels[rows])
    loss.backward()

    result = {
        "loss": loss.item(),
        "reference": reference.item(),
        "centre_grad_error": (head.weight.grad - reference_centres.grad[start:end]).abs().max().item(),
        "embedding_grad_error": (local.grad - reference_embeddings.grad[rows]).abs().max().item(),
        "classes": [start, end],
    }
    (out / f"rank{context.rank}.json").write_text(json.dumps(result))
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else os.environ["OUT"]))
