"""Inference-session construction with deliberate thread settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["default_threads", "litert_interpreter", "onnx_session", "run_torch", "spinning_allowed"]


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


def onnx_session(path: Path | bytes, threads: int | None = None, *, any_input_size: bool = False) -> Any:
    """An onnxruntime CPU session with ``threads`` intra-op threads, no inter-op pool, and idle
    threads that sleep instead of spinning (`spinning_allowed`).

    Args:
        path: the model file, or its bytes (already verified by the caller).
        any_input_size: rewrite a graph exported with a fixed input so it accepts any H×W
            (valid for fully convolutional detectors such as YuNet).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning_allowed() else "0")
    model: bytes | str
    model = path if isinstance(path, bytes) else path.read_bytes() if any_input_size else str(path)
    if any_input_size:
        model = _relax_spatial_dims(model)  # type: ignore[arg-type]
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
