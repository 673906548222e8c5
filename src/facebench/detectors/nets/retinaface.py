"""RetinaFace (MobileNet-0.25 or ResNet-50 backbone, FPN, SSH context modules) as plain PyTorch modules.

Attribute names match the published state dicts of biubug6/Pytorch_Retinaface: the MobileNet-0.25
weights load with ``strict=True`` (tested). The ResNet-50 variant follows the same naming with a
torchvision-named body and has the published 27.29 M parameters, but its weights are not available
offline, so loading them is untested.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from facebench.types import NUM_LANDMARKS

__all__ = ["BACKBONE_CHANNELS", "ResNet50Body", "RetinaFace"]


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


class Bottleneck(nn.Module):
    """torchvision's ResNet bottleneck (1×1, 3×3 strided, 1×1 ×4), names included."""

    def __init__(self, inplanes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet50Body(nn.Module):
    """ResNet-50 up to ``layer4``, returning the stride-8/16/32 maps (``layer2``–``layer4``)."""

    # built by name (setattr) so the state-dict keys match torchvision's
    layer1: nn.Sequential
    layer2: nn.Sequential
    layer3: nn.Sequential
    layer4: nn.Sequential

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for index, (planes, blocks, stride) in enumerate(((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))):
            layer = [Bottleneck(inplanes, planes, stride)]
            layer += [Bottleneck(planes * 4, planes, 1) for _ in range(blocks - 1)]
            setattr(self, f"layer{index + 1}", nn.Sequential(*layer))
            inplanes = planes * 4

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        c2 = self.layer2(self.layer1(x))
        c3 = self.layer3(c2)
        return [c2, c3, self.layer4(c3)]


#: channels of the three maps each backbone hands to the FPN
BACKBONE_CHANNELS = {"mobilenet0.25": (64, 128, 256), "resnet50": (512, 1024, 2048)}


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
        self,
        out_channels: int = 64,
        anchors_per_cell: int = 2,
        negative_slope: float = 0.0,
        backbone: str = "mobilenet0.25",
    ) -> None:
        """``negative_slope`` is every activation's: 0 (ReLU) for the author's first release,
        0.1 (LeakyReLU) for the later ``mobilenet0.25_Final.pth``. ``backbone``: ``mobilenet0.25``
        or ``resnet50`` (out_channels 256 in the reference configuration)."""
        super().__init__()
        if backbone not in BACKBONE_CHANNELS:
            raise ValueError(
                f"Expected RetinaFace `backbone` to be one of {', '.join(BACKBONE_CHANNELS)}, but got {backbone!r}"
            )
        out, anchors, slope = out_channels, anchors_per_cell, negative_slope
        self.body = MobileNetV1Body(slope) if backbone == "mobilenet0.25" else ResNet50Body()
        self.fpn = FPN(BACKBONE_CHANNELS[backbone], out, slope)
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
