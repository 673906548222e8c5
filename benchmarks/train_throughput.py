"""Training throughput of a recognition backbone with its margin head: samples per second.

Times full optimisation steps (forward, margin softmax through Partial FC, backward, SGD step) on
synthetic 112×112 batches already in device memory, so the number is the model's, not the data
pipeline's. Prints one JSON line.

    python benchmarks/train_throughput.py --backbone ir_50 --precision bf16 --batch-size 128   # GPU
    python benchmarks/train_throughput.py --backbone edgeface_xxs --batch-size 64 --steps 10   # CPU
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from facebench.recognizers.backbones import build_backbone
from facebench.train.common import OptimConfig, autocast, build_optimizer, grad_scaler
from facebench.train.heads import PartialFC, build_margin


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backbone", default="ir_50")
    parser.add_argument("--precision", default="bf16", choices=("fp32", "bf16", "fp16"))
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--classes", type=int, default=10_572, help="CASIA-WebFace has 10,572 identities")
    parser.add_argument("--sample-rate", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = True
    backbone, spec = build_backbone(args.backbone)
    backbone.to(device).train()
    if args.channels_last:
        backbone.to(memory_format=torch.channels_last)
    head = PartialFC(
        build_margin("arcface"),
        spec.preprocess.embedding_dim or 512,
        args.classes,
        sample_rate=args.sample_rate,
    ).to(device)
    optimizer = build_optimizer(
        [
            {"params": [p for p in backbone.parameters() if p.requires_grad]},
            {"params": list(head.parameters())},
        ],
        OptimConfig(lr=0.1),
    )
    scaler = grad_scaler(device, args.precision)
    height, width = spec.input_hw
    images = torch.randn(args.batch_size, 3, height, width, device=device)
    if args.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, args.classes, (args.batch_size,), device=device)

    def step() -> None:
        with autocast(device, args.precision):
            embeddings = backbone(images)
        loss = head(embeddings.float(), labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(args.warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "backbone": args.backbone,
                "precision": args.precision,
                "batch_size": args.batch_size,
                "classes": args.classes,
                "sample_rate": args.sample_rate,
                "steps": args.steps,
                "samples_per_s": round(args.steps * args.batch_size / elapsed, 1),
                "ms_per_step": round(elapsed / args.steps * 1000, 1),
                "device": torch.cuda.get_device_name()
                if device.type == "cuda"
                else platform.processor() or "cpu",
                "threads": torch.get_num_threads(),
                "peak_gpu_memory_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2)
                if device.type == "cuda"
                else None,
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
