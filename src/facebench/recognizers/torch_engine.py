"""Running a PyTorch recognizer directly, or through ONNX Runtime after a cached export."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from facebench.ops.runtime import onnx_session, run_torch

__all__ = ["TorchModelRunner", "export_onnx", "runner_for"]

ONNX_OPSET = 17


def export_onnx(module: Any, input_shape: tuple[int, int, int], path: Path) -> Path:
    """Export ``module`` (NCHW float input) to ONNX with a dynamic batch axis, atomically."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    dummy = torch.zeros((2, *input_shape), dtype=torch.float32)
    with torch.inference_mode(), warnings.catch_warnings():
        # the TorchScript exporter is deprecated, but the torch.export one needs onnxscript
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        torch.onnx.export(
            module,
            (dummy,),
            str(tmp),
            input_names=["input"],
            output_names=["embedding"],
            dynamic_axes={"input": {0: "batch"}, "embedding": {0: "batch"}},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    tmp.replace(path)
    return path


class TorchModelRunner:
    """Runs a float PyTorch module with torch, or with ONNX Runtime on an export cached by weights hash."""

    def __init__(
        self,
        module: Any,
        *,
        engine: str,
        input_shape: tuple[int, int, int],
        cache_dir: Path,
        cache_key: str,
        threads: int | None,
    ) -> None:
        self.module = module.eval()
        self.engine = engine
        self.threads = threads
        self.session = None
        if engine == "onnx":
            digest = hashlib.sha256(cache_key.encode()).hexdigest()[:16]
            path = cache_dir / "onnx" / f"{digest}.onnx"
            if not path.is_file():
                export_onnx(self.module, input_shape, path)
            self.session = onnx_session(path, threads)

    def __call__(self, blob: np.ndarray) -> np.ndarray:
        if self.session is not None:
            return self.session.run(None, {"input": blob})[0]
        return run_torch(self.module, blob, self.threads)[0]


def runner_for(recognizer: Any, module: Any) -> TorchModelRunner:
    """The runner for a float PyTorch recognizer, with its ONNX export keyed by its weights' hash."""
    template = recognizer.template
    return TorchModelRunner(
        module,
        engine=recognizer.engine,
        input_shape=(3, template.height, template.width),
        cache_dir=recognizer.store.cache_dir,
        cache_key=f"{recognizer.name}:{recognizer.card.files[0].sha256}",
        threads=recognizer.threads,
    )
