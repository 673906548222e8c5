"""Tiny ONNX models built by the tests: they exercise the plugin contract and the base classes
without real weights, and run on the core install (ONNX Runtime only)."""

from __future__ import annotations

from pathlib import Path

from facebench.zoo.cards import Preprocess


def tiny_onnx_detector(path: Path) -> bytes:
    """A graph from a [1, 3, 32, 32] image to its mean brightness, a 'score' in (0, 1)."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["image"], ["mean"], keepdims=0),
            helper.make_node("Sigmoid", ["mean"], ["score"]),
        ],
        "centre_box",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def tiny_onnx_recognizer(path: Path, dim: int = 64) -> Path:
    """A synthetic recognizer graph (8×8 average pooling, a fixed random projection) and its
    contract sidecar, as `facebench export` writes them: ``onnx:<path>`` runs it torch-free."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from facebench.recognizers.onnx_file import write_onnx_sidecar
    from facebench.zoo.cards import ColorOrder

    projection = np.random.default_rng(0).standard_normal((3 * 14 * 14, dim)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("AveragePool", ["input"], ["pooled"], kernel_shape=[8, 8], strides=[8, 8]),
            helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "projection"], ["embedding"]),
        ],
        "tiny_recognizer",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 112, 112])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", dim])],
        initializer=[numpy_helper.from_array(projection, "projection")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())
    contract = Preprocess(
        input_size=(112, 112),
        size_policy="crop",
        color=ColorOrder.RGB,
        mean=(127.5,) * 3,
        std=(127.5,) * 3,
        template="arcface_112",
        embedding_dim=dim,
    )
    write_onnx_sidecar(
        path, source="synthetic (tests/test_plugins.py)", source_sha256=[], preprocess=contract
    )
    return path
