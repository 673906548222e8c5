"""MTCNN's P-, R- and O-Net as PyTorch modules; names match the `mtcnn/{p,r,o}net.npy` weight dicts.

The weights were converted from the original Caffe models, whose fully connected layers read the
feature map in (C, W, H) order; `_caffe_flatten` reproduces that.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ONet", "PNet", "RNet"]


def _caffe_flatten(x: torch.Tensor) -> torch.Tensor:
    return x.transpose(3, 2).contiguous().view(x.shape[0], -1)


class PNet(nn.Module):
    """Proposal net: fully convolutional, 12×12 receptive field, stride 2."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("conv1", nn.Conv2d(3, 10, 3))
        self.features.add_module("prelu1", nn.PReLU(10))
        self.features.add_module("pool1", nn.MaxPool2d(2, 2, ceil_mode=True))
        self.features.add_module("conv2", nn.Conv2d(10, 16, 3))
        self.features.add_module("prelu2", nn.PReLU(16))
        self.features.add_module("conv3", nn.Conv2d(16, 32, 3))
        self.features.add_module("prelu3", nn.PReLU(32))
        self.conv4_1 = nn.Conv2d(32, 2, 1)
        self.conv4_2 = nn.Conv2d(32, 4, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Face probability map ``(N, H', W')`` and box offsets ``(N, 4, H', W')``."""
        features = self.features(x)
        return torch.softmax(self.conv4_1(features), dim=1)[:, 1], self.conv4_2(features)


class RNet(nn.Module):
    """Refinement net on 24×24 crops."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("conv1", nn.Conv2d(3, 28, 3))
        self.features.add_module("prelu1", nn.PReLU(28))
        self.features.add_module("pool1", nn.MaxPool2d(3, 2, ceil_mode=True))
        self.features.add_module("conv2", nn.Conv2d(28, 48, 3))
        self.features.add_module("prelu2", nn.PReLU(48))
        self.features.add_module("pool2", nn.MaxPool2d(3, 2, ceil_mode=True))
        self.features.add_module("conv3", nn.Conv2d(48, 64, 2))
        self.features.add_module("prelu3", nn.PReLU(64))
        self.features.add_module("flatten", _Flatten())
        self.features.add_module("conv4", nn.Linear(576, 128))
        self.features.add_module("prelu4", nn.PReLU(128))
        self.conv5_1 = nn.Linear(128, 2)
        self.conv5_2 = nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(x)
        return torch.softmax(self.conv5_1(features), dim=1)[:, 1], self.conv5_2(features)


class ONet(nn.Module):
    """Output net on 48×48 crops: score, box offsets and 5 landmarks."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("conv1", nn.Conv2d(3, 32, 3))
        self.features.add_module("prelu1", nn.PReLU(32))
        self.features.add_module("pool1", nn.MaxPool2d(3, 2, ceil_mode=True))
        self.features.add_module("conv2", nn.Conv2d(32, 64, 3))
        self.features.add_module("prelu2", nn.PReLU(64))
        self.features.add_module("pool2", nn.MaxPool2d(3, 2, ceil_mode=True))
        self.features.add_module("conv3", nn.Conv2d(64, 64, 3))
        self.features.add_module("prelu3", nn.PReLU(64))
        self.features.add_module("pool3", nn.MaxPool2d(2, 2, ceil_mode=True))
        self.features.add_module("conv4", nn.Conv2d(64, 128, 2))
        self.features.add_module("prelu4", nn.PReLU(128))
        self.features.add_module("flatten", _Flatten())
        self.features.add_module("conv5", nn.Linear(1152, 256))
        self.features.add_module("drop5", nn.Dropout(0.25))
        self.features.add_module("prelu5", nn.PReLU(256))
        self.conv6_1 = nn.Linear(256, 2)
        self.conv6_2 = nn.Linear(256, 4)
        self.conv6_3 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Probability ``(N,)``, box offsets ``(N, 4)``, landmarks ``(N, 10)`` as x1..x5, y1..y5."""
        features = self.features(x)
        return (
            torch.softmax(self.conv6_1(features), dim=1)[:, 1],
            self.conv6_2(features),
            self.conv6_3(features),
        )


class _Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _caffe_flatten(x)


def load_numpy_state(module: nn.Module, weights: dict[str, object]) -> None:
    """Load a dict of numpy arrays (the `.npy` weight files) strictly into ``module``."""
    module.load_state_dict({key: torch.as_tensor(value) for key, value in weights.items()}, strict=True)
