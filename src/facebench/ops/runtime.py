"""Inference-session construction with deliberate thread settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from facebench._log import logger
from facebench.errors import FacebenchError

__all__ = [
    "any_size_onnx_session",
    "default_threads",
    "litert_interpreter",
    "onnx_session",
    "run_torch",
    "spinning_allowed",
]


def default_threads() -> int:
    """Threads per session: ``$FACEBENCH_THREADS`` or every core this process may use."""
    configured = os.environ.get("FACEBENCH_THREADS", "").strip()
    if configured:
        return max(1, int(configured))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def spinning_allowed() -> bool:
    """Whether ONNX Runtime's idle intra-op threads may spin-wait (``$FACEBENCH_ORT_SPIN=1``).

    Off by default: a spinning thread holds a core the image decoder needs. On 2 cores a cold LFW
    run took 89.2 and 77.9 s with spinning against 75.4 and 66.1 s without, while the models alone
    lost at most 5 % without it (``benchmarks/ort_spinning.py``, docs/BENCHMARKS.md).
    """
    return os.environ.get("FACEBENCH_ORT_SPIN", "0").strip() == "1"


def _relax_spatial_dims(model_bytes: bytes) -> bytes:
    """Free the batch, H and W of the first input and every output's shape so any size can be fed
    (a graph whose reshapes bake in a batch of 1 then returns a batch concatenated along axis 1)."""
    import onnx

    model = onnx.load_from_string(model_bytes)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    if len(dims) == 4:
        dims[0].dim_param, dims[2].dim_param, dims[3].dim_param = "batch", "height", "width"
    for output in model.graph.output:
        output.type.tensor_type.ClearField("shape")
    del model.graph.value_info[:]  # stale intermediate shapes would only produce warnings
    return model.SerializeToString()


#: bump when `_relax_spatial_dims` changes what it writes (part of the cached graph's name)
_RELAX_VERSION = 1


def _relaxed_path(source: bytes, cache_dir: Path) -> Path:
    from facebench.zoo.hashing import sha256_bytes

    digest = sha256_bytes(f"relax-v{_RELAX_VERSION}:".encode() + source)[:32]
    return cache_dir / "onnx" / f"{digest}.any-size.onnx"


def _runs_like(relaxed: Any, fixed: Any) -> bool:
    """Does the freed graph compute what the published one computes at its own input size, and
    take another, non-square size too (the size the freeing is for)?"""
    import numpy as np

    inputs = fixed.get_inputs()
    shape = inputs[0].shape
    if len(inputs) != 1 or len(shape) != 4 or not all(isinstance(d, int) and d > 0 for d in shape):
        return False
    probe = np.random.default_rng(0).uniform(0.0, 255.0, shape).astype(np.float32)
    try:
        expected = fixed.run(None, {inputs[0].name: probe})
        actual = relaxed.run(None, {relaxed.get_inputs()[0].name: probe})
        other = probe[:, :, : max(32, shape[2] // 2), : max(32, shape[3] // 2 + 32)]
        relaxed.run(None, {relaxed.get_inputs()[0].name: np.ascontiguousarray(other)})
    except Exception:  # a graph with other inputs, or one that refuses other sizes
        return False
    if [o.name for o in relaxed.get_outputs()] != [o.name for o in fixed.get_outputs()]:
        return False
    return all(
        np.asarray(a).shape == np.asarray(e).shape and np.allclose(a, e, rtol=1e-4, atol=1e-5)
        for a, e in zip(actual, expected, strict=True)
    )


def any_size_onnx_session(path: Path, threads: int | None = None, *, cache_dir: Path) -> Any:
    """A session of ``path``'s graph with the batch, height and width of its input freed (see
    `_relax_spatial_dims`; for fully convolutional detectors exported at a fixed size).

    Freeing needs the ``onnx`` package, whose import is slow (``ml_dtypes``), so the freed graph
    is cached under ``cache_dir/onnx``, named by a digest of the source bytes and this code's
    version, and recorded (`facebench.ops.derived`). A cached graph is used only while it
    matches its record *and* reproduces the published graph on a probe (else it is freed again),
    so a cold run imports ``onnx`` once per model, not once per process.
    """
    from facebench.ops.derived import read_recorded, write_recorded

    source = path.read_bytes()
    fixed = onnx_session(source, threads)
    cached = _relaxed_path(source, cache_dir)
    data = read_recorded(cached)
    if data is not None:
        session = onnx_session(data, threads)
        if _runs_like(session, fixed):
            return session
        logger.warning("cached graph %s does not reproduce %s; freeing its input size again", cached, path)
    data = _relax_spatial_dims(source)
    session = onnx_session(data, threads)
    if not _runs_like(session, fixed):
        raise FacebenchError(f"{path} does not run at other input sizes once its input is freed")
    write_recorded(cached, data)
    return session


def onnx_session(path: Path | bytes, threads: int | None = None) -> Any:
    """An onnxruntime CPU session with ``threads`` intra-op threads, no inter-op pool, and idle
    threads that sleep instead of spinning (`spinning_allowed`).

    Args:
        path: the model file, or its bytes (already verified by the caller).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning_allowed() else "0")
    model = path if isinstance(path, bytes) else str(path)
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def litert_interpreter(path: Path, threads: int | None = None) -> Any:
    """A LiteRT (TFLite) interpreter with tensors allocated and ``threads`` threads."""
    from facebench.extras import require

    Interpreter = require("ai_edge_litert.interpreter", "LiteRT models").Interpreter
    interpreter = Interpreter(model_path=str(path), num_threads=threads or default_threads())
    interpreter.allocate_tensors()
    return interpreter


def run_torch(module: Any, blob: Any, threads: int | None = None) -> tuple[Any, ...]:
    """Run a torch module on a numpy batch without autograd; outputs back as numpy arrays.

    ``threads`` sets torch's intra-op pool (a process-wide setting in torch) when given.
    """
    import torch

    if threads:
        torch.set_num_threads(threads)
    with torch.inference_mode():
        outputs = module(torch.from_numpy(blob))
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    return tuple(output.numpy() for output in outputs)
