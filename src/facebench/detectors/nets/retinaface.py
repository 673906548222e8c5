"""RetinaFace (MobileNet-0.25 backbone, FPN, SSH context modules) as plain PyTorch modules.

Attribute names match the published state dict of biubug6/Pytorch_Retinaface, so its weights load
with ``strict=True``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from facebench.types import NUM_LANDMARKS

__all__ = ["RetinaFace"]


def conv_bn(inp: int, oup: int, stride: int = 1, leaky: float = 0.0) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup), nn.LeakyReLU(leaky, inplace=True)
    )


def conv_bn_no_relu(inp: int, oup: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inp, oup, 3, 1, 1, bias=False), nn.BatchNorm2d(oup))


def conv_bn_1x1(inp: int, oup: int, leaky: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup), nn.LeakyReLU(leaky, inplace=True)
    )


def conv_dw(inp: int, oup: int, stride: int, leaky: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False),
        nn.BatchNorm2d(inp),
        nn.LeakyReLU(leaky, inplace=True),
        nn.Conv2d(inp, oup, 1, 1, 0, bias=False),
        nn.BatchNorm2d(oup),
        nn.LeakyReLU(leaky, inplace=True),
    )


class MobileNetV1Body(nn.Module):
    def __init__(self, slope: float) -> None:
        super().__init__()
        self.stage1 = nn.Sequential(
            conv_bn(3, 8, 2, leaky=slope),
            conv_dw(8, 16, 1, slope),
            conv_dw(16, 32, 2, slope),
            conv_dw(32, 32, 1, slope),
            conv_dw(32, 64, 2, slope),
            conv_dw(64, 64, 1, slope),
        )
        self.stage2 = nn.Sequential(
            conv_dw(64, 128, 2, slope), *[conv_dw(128, 128, 1, slope) for _ in range(5)]
        )
        self.stage3 = nn.Sequential(conv_dw(128, 256, 2, slope), conv_dw(256, 256, 1, slope))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        c1 = self.stage1(x)
        c2 = self.stage2(c1)
        return [c1, c2, self.stage3(c2)]


class FPN(nn.Module):
    def __init__(self, in_channels: tuple[int, ...], out: int, leaky: float) -> None:
        super().__init__()
        self.output1 = conv_bn_1x1(in_channels[0], out, leaky)
        self.output2 = conv_bn_1x1(in_channels[1], out, leaky)
        self.output3 = conv_bn_1x1(in_channels[2], out, leaky)
        self.merge1 = conv_bn(out, out, leaky=leaky)
        self.merge2 = conv_bn(out, out, leaky=leaky)

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        out1, out2, out3 = self.output1(features[0]), self.output2(features[1]), self.output3(features[2])
        out2 = self.merge2(out2 + functional.interpolate(out3, size=out2.shape[2:], mode="nearest"))
        out1 = self.merge1(out1 + functional.interpolate(out2, size=out1.shape[2:], mode="nearest"))
        return [out1, out2, out3]


class SSH(nn.Module):
    """Context module: 3×3, 5×5 and 7×7 receptive fields from stacked 3×3 convolutions."""

    def __init__(self, inp: int, out: int, leaky: float) -> None:
        super().__init__()
        self.conv3X3 = conv_bn_no_relu(inp, out // 2)
        self.conv5X5_1 = conv_bn(inp, out // 4, leaky=leaky)
        self.conv5X5_2 = conv_bn_no_relu(out // 4, out // 4)
        self.conv7X7_2 = conv_bn(out // 4, out // 4, leaky=leaky)
        self.conv7x7_3 = conv_bn_no_relu(out // 4, out // 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch5_1 = self.conv5X5_1(x)
        branch7 = self.conv7x7_3(self.conv7X7_2(branch5_1))
        return functional.relu(torch.cat([self.conv3X3(x), self.conv5X5_2(branch5_1), branch7], dim=1))


class Head(nn.Module):
    def __init__(self, inp: int, anchors: int, values: int) -> None:
        super().__init__()
        self.values = values
        self.conv1x1 = nn.Conv2d(inp, anchors * values, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv1x1(x).permute(0, 2, 3, 1).reshape(x.shape[0], -1, self.values)


class RetinaFace(nn.Module):
    """The detector network; ``forward`` returns raw regressions and logits for every prior."""

    def __init__(
        self, out_channels: int = 64, anchors_per_cell: int = 2, negative_slope: float = 0.0
    ) -> None:
        """``negative_slope`` is every activation's: 0 (ReLU) for the author's first release,
        0.1 (LeakyReLU) for the later ``mobilenet0.25_Final.pth``."""
        super().__init__()
        out, anchors, slope = out_channels, anchors_per_cell, negative_slope
        self.body = MobileNetV1Body(slope)
        self.fpn = FPN((64, 128, 256), out, slope)
        self.ssh1, self.ssh2, self.ssh3 = SSH(out, out, slope), SSH(out, out, slope), SSH(out, out, slope)
        self.ClassHead = nn.ModuleList([Head(out, anchors, 2) for _ in range(3)])
        self.BboxHead = nn.ModuleList([Head(out, anchors, 4) for _ in range(3)])
        self.LandmarkHead = nn.ModuleList([Head(out, anchors, 2 * NUM_LANDMARKS) for _ in range(3)])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Raw ``loc (N,P,4)``, class logits ``(N,P,2)`` and landmark offsets ``(N,P,10)``."""
        fpn = self.fpn(self.body(x))
        features = [self.ssh1(fpn[0]), self.ssh2(fpn[1]), self.ssh3(fpn[2])]
        loc = torch.cat([head(f) for head, f in zip(self.BboxHead, features, strict=True)], dim=1)
        conf = torch.cat([head(f) for head, f in zip(self.ClassHead, features, strict=True)], dim=1)
        landmarks = torch.cat([head(f) for head, f in zip(self.LandmarkHead, features, strict=True)], dim=1)
        return loc, conf, landmarks
