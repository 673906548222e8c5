"""Recognition backbones by name, each with the input contract it is trained and run with.

`facebench.train` builds them to train, and `TrainedRecognizer` builds them again to run a trained
checkpoint: the name and the contract travel inside the checkpoint. EdgeFace and MobileFaceNet are
the architectures of the pretrained recognizers; IResNet (IR and IR-SE) is InsightFace's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from facebench.recognizers.nets.iresnet import IRESNET_DEPTHS, IResNet
from facebench.registry import Registry
from facebench.zoo import Preprocess, get_card

__all__ = ["BACKBONES", "BackboneSpec", "build_backbone", "list_backbones"]


@dataclass(frozen=True)
class BackboneSpec:
    """A trainable backbone: how to build it and the input contract it is trained and run with."""

    name: str
    build: Callable[..., nn.Module]
    preprocess: Preprocess

    @property
    def input_hw(self) -> tuple[int, int]:
        assert self.preprocess.input_size is not None
        width, height = self.preprocess.input_size
        return height, width


BACKBONES: Registry[Any] = Registry("backbone")


def _register(spec: BackboneSpec) -> None:
    BACKBONES.add(spec.name, spec)  # type: ignore[arg-type]


def _edgeface(variant: str) -> Callable[..., nn.Module]:
    def build(**options: Any) -> nn.Module:
        if options:
            raise ValueError(f"EdgeFace backbones take no options (512-d output), got {sorted(options)}")
        from facebench.recognizers.nets.edgenext import EdgeFaceNet

        return EdgeFaceNet(variant)

    return build


def _mobilefacenet(embedding_dim: int = 128) -> nn.Module:
    from facebench.recognizers.nets.mobilefacenet import MobileFaceNet

    return MobileFaceNet(embedding_dim)


# each backbone is trained and run with the contract of its published model's weight card
for _depth in IRESNET_DEPTHS:
    for _se in (False, True):
        _register(
            BackboneSpec(
                f"ir{'_se' if _se else ''}_{_depth}",
                lambda depth=_depth, se=_se, **options: IResNet(depth, se=se, **options),
                get_card("insightface_w600k_r50").preprocess,
            )
        )
_register(BackboneSpec("edgeface_xs", _edgeface("edgenext_x_small"), get_card("edgeface_xs_q").preprocess))
_register(BackboneSpec("edgeface_xxs", _edgeface("edgenext_xx_small"), get_card("edgeface_xxs_q").preprocess))
_register(BackboneSpec("mobilefacenet", _mobilefacenet, get_card("mobilefacenet_casia").preprocess))

list_backbones = BACKBONES.names


def build_backbone(name: str, **options: Any) -> tuple[nn.Module, BackboneSpec]:
    """The backbone registered as ``name`` built with ``options``, and its spec.

    ``embedding_dim`` in ``options`` overrides the spec's output dimension (IResNet, MobileFaceNet).
    """
    spec: BackboneSpec = BACKBONES.get(name)  # type: ignore[assignment]
    module = spec.build(**options)
    if "embedding_dim" in options and options["embedding_dim"] != spec.preprocess.embedding_dim:
        from dataclasses import replace

        spec = replace(spec, preprocess=replace(spec.preprocess, embedding_dim=int(options["embedding_dim"])))
    return module, spec
