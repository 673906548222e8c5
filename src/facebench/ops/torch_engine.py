"""Running a PyTorch model directly, or through ONNX Runtime after a cached, verified export.

Used by recognizers (one embedding output) and by detectors whose authors published PyTorch weights
(several outputs, any input height and width).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from facebench._log import logger
from facebench.atomic import atomic_write_bytes
from facebench.errors import FacebenchError
from facebench.ops.derived import read_recorded, write_recorded
from facebench.ops.runtime import onnx_session, run_torch

__all__ = ["TorchModelRunner", "cached_onnx_session", "export_onnx", "runner_for"]

ONNX_OPSET = 17


def export_onnx(
    module: Any, input_shape: tuple[int, int, int], path: Path, *, any_input_size: bool = False
) -> Path:
    """Export ``module`` (NCHW float input) to ``path`` as ONNX with a dynamic batch axis, atomically.

    ``any_input_size`` also frees the height and width (fully convolutional detectors). The
    outputs are named ``embedding`` for a single output, else ``output0``, ``output1``, …
    """
    atomic_write_bytes(path, _exported(module, input_shape, any_input_size))
    return path


def _exported(module: Any, input_shape: tuple[int, int, int], any_input_size: bool) -> bytes:
    """The ONNX bytes of ``module`` (see `export_onnx`)."""
    import torch

    dummy = torch.zeros((2, *input_shape), dtype=torch.float32)
    with torch.inference_mode():
        produced = module(dummy)
    count = len(produced) if isinstance(produced, tuple | list) else 1
    output_names = ["embedding"] if count == 1 else [f"output{i}" for i in range(count)]
    input_axes = {0: "batch", 2: "height", 3: "width"} if any_input_size else {0: "batch"}
    with tempfile.TemporaryDirectory(prefix="facebench-export-") as folder:
        graph = Path(folder) / "model.onnx"  # the exporter's declared target is a path
        _trace_to(module, dummy, graph, output_names, input_axes)
        return graph.read_bytes()


def _trace_to(
    module: Any, dummy: Any, target: Path, output_names: list[str], input_axes: dict[int, str]
) -> None:
    import torch

    with torch.inference_mode(), warnings.catch_warnings():
        # the TorchScript exporter is deprecated, but the torch.export one needs onnxscript
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(
            module,
            (dummy,),
            str(target),
            input_names=["input"],
            output_names=output_names,
            dynamic_axes={"input": input_axes, **{name: {0: "batch"} for name in output_names}},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )


#: probe batch the cached export must reproduce before it is used (min cosine to torch's output)
_PROBE_MIN_COSINE = 0.9999


def _export_key(
    source_sha256: str, name: str, input_shape: tuple[int, int, int], any_input_size: bool = False
) -> str:
    """Everything that shapes an export: source weights, model, facebench, torch and the opset."""
    import torch

    from facebench import __version__

    fields = {
        "source_sha256": source_sha256,
        "model": name,
        "input_shape": list(input_shape),
        "any_input_size": any_input_size,
        "facebench": __version__,
        "torch": torch.__version__,
        "opset": ONNX_OPSET,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


def _probes(input_shape: tuple[int, int, int], any_input_size: bool) -> list[np.ndarray]:
    """Fixed random batches the export must reproduce: at the export size, and for a graph that
    takes any size, at another, non-square one (a size baked in by tracing would fail it)."""
    generator = np.random.default_rng(0)
    shapes = [input_shape]
    if any_input_size:
        channels, height, width = input_shape
        shapes.append((channels, height + 64, width + 32 * 5))
    return [generator.uniform(-1.0, 1.0, (2, *shape)).astype(np.float32) for shape in shapes]


def _agrees(session: Any, module: Any, probes: list[np.ndarray]) -> bool:
    """Does the ONNX session compute what the torch module computes on every probe batch?"""
    for probe in probes:
        expected = run_torch(module, probe)
        try:
            actual = session.run(None, {"input": probe})
        except Exception:  # a graph with other inputs or outputs is simply not this model's export
            return False
        if len(actual) != len(expected):
            return False
        for mine, theirs in zip(actual, expected, strict=True):
            mine = np.asarray(mine).reshape(len(probe), -1).astype(np.float64)
            theirs = np.asarray(theirs).reshape(len(probe), -1).astype(np.float64)
            if mine.shape != theirs.shape or not np.isfinite(mine).all():
                return False
            norms = np.linalg.norm(mine, axis=1) * np.linalg.norm(theirs, axis=1)
            if ((mine * theirs).sum(1) / np.maximum(norms, 1e-30) < _PROBE_MIN_COSINE).any():
                return False
    return True


def cached_onnx_session(
    module: Any,
    *,
    input_shape: tuple[int, int, int],
    cache_dir: Path,
    source_sha256: str,
    name: str,
    threads: int | None,
    any_input_size: bool = False,
) -> Any:
    """An ONNX Runtime session of ``module``'s export, cached under ``cache_dir/onnx`` and verified.

    The file name is a digest of the source weights' sha256, the model, facebench's and torch's
    versions and the opset. A cached export is used only when its bytes match the ``.sha256``
    written beside it *and* it reproduces the torch module on a fixed probe batch (cosine ≥
    0.9999); otherwise it is exported again, atomically. The session is built from the bytes that
    were checked.
    """
    key = _export_key(source_sha256, name, input_shape, any_input_size)
    path = cache_dir / "onnx" / f"{key}.onnx"
    probe = _probes(input_shape, any_input_size)
    data = read_recorded(path)
    if data is not None:
        session = onnx_session(data, threads)
        if _agrees(session, module, probe):
            return session
        logger.warning("cached ONNX export %s does not reproduce %s; exporting it again", path, name)
    data = _exported(module, input_shape, any_input_size)
    session = onnx_session(data, threads)
    if not _agrees(session, module, probe):
        raise FacebenchError(
            f"the ONNX export of {name} does not reproduce its PyTorch outputs; use engine torch"
        )
    write_recorded(path, data)
    return session


class TorchModelRunner:
    """Runs a float PyTorch module with torch, or with ONNX Runtime on a verified cached export."""

    def __init__(
        self,
        module: Any,
        *,
        engine: str,
        input_shape: tuple[int, int, int],
        cache_dir: Path,
        source_sha256: str,
        name: str,
        threads: int | None,
    ) -> None:
        self.module = module.eval()
        self.engine = engine
        self.threads = threads
        self.session = None
        if engine == "onnx":
            self.session = cached_onnx_session(
                self.module,
                input_shape=input_shape,
                cache_dir=cache_dir,
                source_sha256=source_sha256,
                name=name,
                threads=threads,
            )

    def __call__(self, blob: np.ndarray) -> np.ndarray:
        if self.session is not None:
            return self.session.run(None, {"input": blob})[0]
        return run_torch(self.module, blob, self.threads)[0]


def runner_for(recognizer: Any, module: Any) -> TorchModelRunner:
    """The runner for a float PyTorch recognizer, its ONNX export keyed by its weights' sha256."""
    template = recognizer.template
    return TorchModelRunner(
        module,
        engine=recognizer.engine,
        input_shape=(3, template.height, template.width),
        cache_dir=recognizer.store.cache_dir,
        source_sha256=recognizer.card.files[0].sha256,
        name=recognizer.name,
        threads=recognizer.threads,
    )
