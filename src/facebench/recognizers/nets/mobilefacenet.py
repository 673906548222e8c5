"""MobileFaceNet (Chen et al. 2018) as in Xiaoccer/MobileFaceNet_Pytorch: 112×96 input, 128-d output.

Module names match that repository's `068.ckpt` (``net_state_dict``); the global depthwise
convolution has a 7×6 kernel because the input is 112 high and 96 wide.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MobileFaceNet"]

# expansion t, output channels c, repeats n, first stride s
_BOTTLENECKS = ((2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1))


class Bottleneck(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = inp * expansion
        self.connect = stride == 1 and inp == oup
        self.conv = nn.Sequential(
            nn.Conv2d(inp, hidden, 1, 1, 0, bias=False),
            nn.BatchNorm2d(hidden),
            nn.PReLU(hidden),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.PReLU(hidden),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.connect else self.conv(x)


class ConvBlock(nn.Module):
    def __init__(
        self,
        inp: int,
        oup: int,
        kernel: int | tuple[int, int],
        stride: int,
        padding: int,
        depthwise: bool = False,
        linear: bool = False,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(inp, oup, kernel, stride, padding, groups=inp if depthwise else 1, bias=False)
        self.bn = nn.BatchNorm2d(oup)
        self.prelu = None if linear else nn.PReLU(oup)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return x if self.prelu is None else self.prelu(x)


class MobileFaceNet(nn.Module):
    def __init__(self, embedding_dim: int = 128) -> None:
        super().__init__()
        self.conv1 = ConvBlock(3, 64, 3, 2, 1)
        self.dw_conv1 = ConvBlock(64, 64, 3, 1, 1, depthwise=True)
        layers, inplanes = [], 64
        for expansion, channels, repeats, stride in _BOTTLENECKS:
            for index in range(repeats):
                layers.append(Bottleneck(inplanes, channels, stride if index == 0 else 1, expansion))
                inplanes = channels
        self.blocks = nn.Sequential(*layers)
        self.conv2 = ConvBlock(128, 512, 1, 1, 0)
        self.linear7 = ConvBlock(512, 512, (7, 6), 1, 0, depthwise=True, linear=True)
        self.linear1 = ConvBlock(512, embedding_dim, 1, 1, 0, linear=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.dw_conv1(self.conv1(x)))
        return self.linear1(self.linear7(self.conv2(x))).flatten(1)
