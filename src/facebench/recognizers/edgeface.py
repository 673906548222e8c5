"""EdgeFace (George et al. 2024): EdgeNeXt backbones, 512-d, ArcFace 112×112 alignment.

The published ``_q`` files are state dicts of models whose Linear layers were quantized with
``torch.ao.quantization.quantize_dynamic`` (int8 weights, activations quantized per call). facebench
rebuilds the network here, applies the same quantization and loads the file strictly.

Dynamic quantization computes one activation scale over everything in the call, so a face's
embedding would depend on the other faces in its batch (cosine ≈ 0.95 between batch 1 and 64).
The ``_q`` recognizers therefore always run one face per call. The ``_dequant`` variants are float
models built from the dequantized int8 weights: batch-independent, exportable to ONNX, and compared
with the quantized ones in docs/RESULTS.md.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np

from facebench.ops.torch_engine import runner_for
from facebench.recognizers.base import Recognizer
from facebench.recognizers.registry import register_recognizer
from facebench.zoo import load_torch_weights
from facebench.zoo.cards import ColorOrder, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import ATEC, github_raw

__all__ = ["EdgeFaceDequant", "EdgeFaceQuantized", "dequantized_edgeface", "quantized_edgeface"]

_VARIANTS = {"edgeface_xs_q": "edgenext_x_small", "edgeface_xxs_q": "edgenext_xx_small"}


def quantized_edgeface(card_name: str, state: dict[str, Any]) -> Any:
    """The dynamic-int8 EdgeFace as its authors built it, with ``state`` loaded strictly."""
    import torch

    from facebench.recognizers.nets.edgenext import EdgeFaceNet

    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated upstream, but it is what the published files were made with
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        model = torch.ao.quantization.quantize_dynamic(
            EdgeFaceNet(_VARIANTS[card_name]), {torch.nn.Linear}, dtype=torch.qint8
        )
    model.load_state_dict(state, strict=True)
    return model.eval()


def dequantized_edgeface(card_name: str, state: dict[str, Any]) -> Any:
    """A float EdgeFace whose Linear weights are the int8 weights of ``state``, dequantized."""
    import torch

    from facebench.recognizers.nets.edgenext import EdgeFaceNet

    quantized = quantized_edgeface(card_name, state)
    model = EdgeFaceNet(_VARIANTS[card_name])
    float_state = {}
    quantized_modules = dict(quantized.named_modules())
    # once: each call unpacks every int8 Linear layer again
    quantized_state = quantized.state_dict()
    for key in model.state_dict():
        module_name, _, attribute = key.rpartition(".")
        source = quantized_modules.get(module_name)
        if isinstance(source, torch.ao.nn.quantized.dynamic.Linear):
            float_state[key] = source.weight().dequantize() if attribute == "weight" else source.bias()
        else:
            float_state[key] = quantized_state[key]
    model.load_state_dict(float_state, strict=True)
    return model.eval()


def _edgeface_card(name: str, sha256: str, size: int, published_lfw: str) -> WeightCard:
    """The two published int8 EdgeFace files: one contract (ArcFace 112×112, RGB, ±1, 512-d)."""
    return WeightCard(
        name=name,
        task=Task.RECOGNIZER,
        directory="edgeface_q",
        files=(WeightFile(f"{name}.pt", sha256, github_raw(*ATEC, f"checkpoints/{name}.pt"), size=size),),
        license="BSD-3-Clause (otroshi/edgeface, Idiap)",
        source=f"otroshi/edgeface {name}.pt (copy at iwantgobackhome/Atec_EdgeFace@a9ae3bc)",
        paper="George et al., EdgeFace: Efficient Face Recognition Model for Edge Devices, IEEE T-BIOM 2024",
        preprocess=Preprocess(
            input_size=(112, 112),
            size_policy="crop",
            color=ColorOrder.RGB,
            mean=(127.5,) * 3,
            std=(127.5,) * 3,
            template="arcface_112",
            embedding_dim=512,
        ),
        notes="Dynamic-int8 state dict (quantize_dynamic on Linear). "
        f"Published LFW of the float model: {published_lfw}%.",
    )


EDGEFACE_XS_Q_CARD = _edgeface_card(
    "edgeface_xs_q", "a31314377876ab9fa2a75e5638bc528efe79fd17d5c9c0a228fb7f846d7581a6", 2993451, "99.73"
)
EDGEFACE_XXS_Q_CARD = _edgeface_card(
    "edgeface_xxs_q", "46be7cc7e8d6e23501c0627fe5fbef101922ee9b85ccbef476987ab1a320b053", 1734661, "99.57"
)


class _EdgeFace(Recognizer):
    requires: ClassVar[tuple[str, ...]] = ("torch",)

    def _state(self) -> dict[str, Any]:
        return load_torch_weights(self.card_name, path=self.weights, store=self.store)


class EdgeFaceQuantized(_EdgeFace):
    """EdgeFace ``_q``: dynamic int8, run one face per call so results never depend on the batch."""

    engines: ClassVar[tuple[str, ...]] = ("torch",)
    max_batch_size: ClassVar[int | None] = 1

    def _load(self) -> None:
        self.model = quantized_edgeface(self.card_name, self._state())

    def _forward(self, blob: np.ndarray) -> np.ndarray:
        from facebench.ops.runtime import run_torch

        return run_torch(self.model, blob, self.threads)[0]

    def cost_module(self) -> Any:
        # the FLOP counter does not see int8 matmuls; the float twin has the same arithmetic
        return dequantized_edgeface(self.card_name, self._state())


@register_recognizer(card=EDGEFACE_XS_Q_CARD)
class EdgeFaceXsQ(EdgeFaceQuantized):
    name: ClassVar[str] = "edgeface_xs_q"


@register_recognizer(card=EDGEFACE_XXS_Q_CARD)
class EdgeFaceXxsQ(EdgeFaceQuantized):
    name: ClassVar[str] = "edgeface_xxs_q"


class EdgeFaceDequant(_EdgeFace):
    """Float EdgeFace from the dequantized int8 weights; runs with torch or ONNX Runtime."""

    engines: ClassVar[tuple[str, ...]] = ("torch", "onnx")

    def _load(self) -> None:
        self.runner = runner_for(self, dequantized_edgeface(self.card_name, self._state()))

    def _forward(self, blob: np.ndarray) -> np.ndarray:
        return self.runner(blob)


@register_recognizer(card=EDGEFACE_XS_Q_CARD)
class EdgeFaceXsDequant(EdgeFaceDequant):
    name: ClassVar[str] = "edgeface_xs_dequant"


@register_recognizer(card=EDGEFACE_XXS_Q_CARD)
class EdgeFaceXxsDequant(EdgeFaceDequant):
    name: ClassVar[str] = "edgeface_xxs_dequant"
