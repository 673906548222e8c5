"""IResNet (Deng et al., ArcFace) as InsightFace's ``arcface_torch`` builds it, optionally with SE blocks.

Module names follow ``arcface_torch/backbones/iresnet.py`` so that its published state dicts can
load strictly (untested: no IResNet checkpoint is available offline); ``se=True`` adds a squeeze-and-excitation gate to every residual branch (IR-SE).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["IRESNET_DEPTHS", "IResNet"]

IRESNET_DEPTHS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 14, 3), 100: (3, 13, 30, 3)}


class SEModule(nn.Module):
    """Squeeze-and-excitation: channel weights from globally pooled features."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.fc2(self.relu(self.fc1(self.pool(x)))))


class IBasicBlock(nn.Module):
    """Pre-activation residual block of IResNet: BN, 3×3, BN, PReLU, 3×3 (strided), BN."""

    def __init__(self, inplanes: int, planes: int, stride: int, se: bool) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes, eps=1e-5)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, eps=1e-5)
        self.prelu = nn.PReLU(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes, eps=1e-5)
        self.se = SEModule(planes) if se else None
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes, eps=1e-5)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        if self.se is not None:
            out = self.se(out)
        return out + (x if self.downsample is None else self.downsample(x))


class IResNet(nn.Module):
    """IResNet-18/34/50/100 for 112×112 crops (ArcFace template), optionally with SE blocks."""

    # built by name (setattr) so the state-dict keys match InsightFace's
    layer1: nn.Sequential
    layer2: nn.Sequential
    layer3: nn.Sequential
    layer4: nn.Sequential

    def __init__(
        self, depth: int = 50, *, embedding_dim: int = 512, se: bool = False, dropout: float = 0.0
    ) -> None:
        super().__init__()
        if depth not in IRESNET_DEPTHS:
            raise ValueError(
                f"Expected IResNet `depth` to be one of {sorted(IRESNET_DEPTHS)}, but got {depth}"
            )
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64, eps=1e-5)
        self.prelu = nn.PReLU(64)
        inplanes = 64
        for index, (planes, blocks) in enumerate(
            zip((64, 128, 256, 512), IRESNET_DEPTHS[depth], strict=True)
        ):
            layer = [IBasicBlock(inplanes, planes, 2, se)]
            layer += [IBasicBlock(planes, planes, 1, se) for _ in range(blocks - 1)]
            setattr(self, f"layer{index + 1}", nn.Sequential(*layer))
            inplanes = planes
        self.bn2 = nn.BatchNorm2d(512, eps=1e-5)
        self.dropout = nn.Dropout(p=dropout, inplace=True)
        self.fc = nn.Linear(512 * 7 * 7, embedding_dim)
        self.features = nn.BatchNorm1d(embedding_dim, eps=1e-5)
        nn.init.constant_(self.features.weight, 1.0)
        # ArcFace's embedding BN has a frozen unit scale: only its shift and statistics train
        self.features.weight.requires_grad = False
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0, 0.1)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(torch.flatten(self.bn2(x), 1))
        return self.features(self.fc(x))
