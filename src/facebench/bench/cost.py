"""What a model costs besides time: file size, parameters, GFLOPs and peak memory.

* size: bytes of the weight files the store resolved.
* parameters: elements of the weights (PyTorch state dicts, ONNX initializers; int8 weights count
  one each). LiteRT and dlib models report ``None``: their files do not separate weights cleanly.
* GFLOPs: multiply-adds × 2 of convolutions and matrix products for one input at the size the
  model actually runs (PyTorch: ``torch.utils.flop_counter``; ONNX: Conv/Gemm/MatMul nodes after
  shape inference). Element-wise operations are not counted.
* peak RSS: a fresh Python process loads the model and runs it once on a real image; reported is
  its peak resident memory (VmHWM) and the increase over its resident memory just before the model
  was built.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facebench.zoo import ModelStore, WeightCard

__all__ = [
    "MemoryProbe",
    "file_bytes",
    "measure_memory",
    "measure_memory_many",
    "onnx_gflops_and_params",
    "torch_gflops_and_params",
]


def file_bytes(card: WeightCard, store: ModelStore) -> int | None:
    """Total size of the card's weight files as found by the store (``None`` for built-in models)."""
    sizes = [status.path.stat().st_size for status in store.status(card) if status.path is not None]
    if not sizes:  # a trained model's card points at its file directly and states its size
        sizes = [weight_file.size for weight_file in card.files if weight_file.size]
    return sum(sizes) if sizes else None


def torch_gflops_and_params(module: Any, input_shape: tuple[int, ...]) -> tuple[float, int]:
    """GFLOPs of one forward pass on a zero input, and the number of weight elements."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    params = 0
    for value in module.state_dict().values():
        if isinstance(value, torch.Tensor):
            params += value.numel()
        elif isinstance(value, tuple):  # packed int8 Linear: (weight, bias)
            params += sum(part.numel() for part in value if isinstance(part, torch.Tensor))
    counter = FlopCounterMode(display=False)
    with counter, torch.inference_mode():
        module(torch.zeros(input_shape))
    return counter.get_total_flops() / 1e9, params


def onnx_gflops_and_params(path: Path, input_shape: tuple[int, ...]) -> tuple[float, int]:
    """GFLOPs of Conv/Gemm/MatMul nodes for ``input_shape`` (after shape inference), and initializer elements."""
    import onnx
    from onnx import numpy_helper, shape_inference

    model = onnx.load(str(path))
    graph_input = model.graph.input[0]
    dims = graph_input.type.tensor_type.shape.dim
    for dim, size in zip(dims, input_shape, strict=False):
        dim.ClearField("dim_param")
        dim.dim_value = size
    for output in model.graph.output:
        output.type.tensor_type.ClearField("shape")
    del model.graph.value_info[:]
    inferred = shape_inference.infer_shapes(model)
    shapes = {}
    for info in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input):
        shapes[info.name] = [d.dim_value for d in info.type.tensor_type.shape.dim]
    initializers = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    params = int(sum(array.size for array in initializers.values()))
    flops = 0.0
    for node in inferred.graph.node:
        output = shapes.get(node.output[0])
        if not output or any(d == 0 for d in output):
            continue
        if node.op_type == "Conv" and node.input[1] in initializers:
            weight = initializers[node.input[1]]  # (out, in/groups, kh, kw)
            flops += 2.0 * np.prod(output) * np.prod(weight.shape[1:])
        elif node.op_type in ("Gemm", "MatMul"):
            left = shapes.get(node.input[0]) or list(getattr(initializers.get(node.input[0]), "shape", []))
            if left:
                flops += 2.0 * np.prod(output) * left[-1]
    return flops / 1e9, params


# ru_maxrss survives execve on Linux (a child starts with its parent's peak), so the probe reads
# its own address space's VmRSS / VmHWM from /proc instead.
_PROBE = """
import json, sys
def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
kind, name, image, options = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
import facebench
from facebench import detectors
from facebench.bench.plan import ModelSpec
from facebench.loading import loaded
rgb = facebench.load_image(image)
faces = detectors.create("yunet").detect(rgb)[:1] if kind == "recognizer" else None
before = kib("VmRSS")
# built as the benchmark builds it (a no-face policy's fallback detectors, a restorer, included)
model = loaded(ModelSpec.of(kind, name, **options).describe())
if kind == "detector":
    model.detect(rgb)
else:
    model.embed_faces(rgb, faces)
peak = kib("VmHWM")
print(json.dumps({"peak_rss_mb": peak / 1024, "model_rss_mb": (peak - before) / 1024}))
"""


@dataclass(frozen=True)
class MemoryProbe:
    """One model configuration whose memory a fresh process measures."""

    kind: str
    name: str
    image: Path
    options: dict[str, Any] = field(default_factory=dict)


def measure_memory_many(
    probes: list[MemoryProbe], env: dict[str, str] | None = None, parallel: int | None = None
) -> list[dict[str, float]]:
    """`measure_memory` for several models, ``parallel`` processes at a time (default: the cores).

    Each probe reads only its own process's resident memory, so running them side by side
    changes no number, only the wall time.
    """
    from facebench.ops.runtime import default_threads

    width = max(1, parallel or default_threads())
    results: list[dict[str, float] | None] = [None] * len(probes)
    for start in range(0, len(probes), width):
        batch = list(enumerate(probes))[start : start + width]
        running = [
            (index, probe, subprocess.Popen(
                [sys.executable, "-c", _PROBE, probe.kind, probe.name, str(probe.image), json.dumps(probe.options)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            ))
            for index, probe in batch
        ]  # fmt: skip
        for index, probe, process in running:
            stdout, stderr = process.communicate(timeout=600)
            if process.returncode != 0:
                raise RuntimeError(f"memory probe for {probe.name} failed: {stderr[-500:]}")
            values = json.loads(stdout.strip().splitlines()[-1])
            results[index] = {key: round(value, 1) for key, value in values.items()}
    return [r for r in results if r is not None]


def measure_memory(
    kind: str,
    name: str,
    image: Path,
    env: dict[str, str] | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Peak RSS (MiB) of a fresh process running model ``name`` once, and the model's increase.

    ``options`` are the ones the benchmark built the model with (engine, threads, flip …), so
    the memory measured is the memory of the configuration measured for accuracy.
    """
    return measure_memory_many([MemoryProbe(kind, name, image, options or {})], env)[0]
