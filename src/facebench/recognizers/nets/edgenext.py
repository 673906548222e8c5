"""EdgeNeXt (Maaz et al. 2022) in plain PyTorch, as EdgeFace uses it.

Module and parameter names follow timm's `edgenext` so EdgeFace's published state dicts load
strictly; `EdgeFaceNet` adds EdgeFace's wrapper (``model.`` prefix, 512-d head). Written here from
the paper's and timm's description, without depending on timm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional

__all__ = ["EDGENEXT_VARIANTS", "EdgeFaceNet", "EdgeNeXt", "EdgeNeXtConfig"]


@dataclass(frozen=True, slots=True)
class EdgeNeXtConfig:
    depths: tuple[int, ...]
    dims: tuple[int, ...]
    heads: tuple[int, ...] = (4, 4, 4, 4)
    global_blocks: tuple[int, ...] = (0, 1, 1, 1)
    kernel_sizes: tuple[int, ...] = (3, 5, 7, 9)
    split_scales: tuple[int, ...] = (2, 2, 3, 4)
    positional: tuple[bool, ...] = (False, True, False, False)
    expand_ratio: int = 4


EDGENEXT_VARIANTS = {
    "edgenext_xx_small": EdgeNeXtConfig(depths=(2, 2, 6, 2), dims=(24, 48, 88, 168)),
    "edgenext_x_small": EdgeNeXtConfig(depths=(3, 3, 9, 3), dims=(32, 64, 100, 192)),
}


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class ConvBlock(nn.Module):
    """Depthwise k×k convolution, then LayerNorm and an inverted-bottleneck MLP, residual."""

    def __init__(self, dim: int, kernel_size: int, expand_ratio: int) -> None:
        super().__init__()
        self.conv_dw = nn.Conv2d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, expand_ratio * dim)
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv_dw(x).permute(0, 2, 3, 1)
        y = self.gamma * self.mlp(self.norm(y))
        return x + y.permute(0, 3, 1, 2)


class PositionalEncodingFourier(nn.Module):
    def __init__(self, hidden_dim: int = 32, dim: int = 768, temperature: float = 10000.0) -> None:
        super().__init__()
        self.token_projection = nn.Conv2d(hidden_dim * 2, dim, kernel_size=1)
        self.hidden_dim = hidden_dim
        self.temperature = temperature

    def forward(self, batch: int, height: int, width: int) -> torch.Tensor:
        weight = self.token_projection.weight
        ones = torch.ones(batch, height, width, device=weight.device, dtype=weight.dtype)
        eps, scale = 1e-6, 2 * math.pi
        y_embed = ones.cumsum(1)
        x_embed = ones.cumsum(2)
        y_embed = y_embed / (y_embed[:, -1:, :] + eps) * scale
        x_embed = x_embed / (x_embed[:, :, -1:] + eps) * scale
        dim_t = torch.arange(self.hidden_dim, device=weight.device, dtype=weight.dtype)
        dim_t = self.temperature ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / self.hidden_dim)
        pos_x = x_embed[..., None] / dim_t
        pos_y = y_embed[..., None] / dim_t
        pos_x = torch.stack((pos_x[..., 0::2].sin(), pos_x[..., 1::2].cos()), dim=4).flatten(3)
        pos_y = torch.stack((pos_y[..., 0::2].sin(), pos_y[..., 1::2].cos()), dim=4).flatten(3)
        return self.token_projection(torch.cat((pos_y, pos_x), dim=3).permute(0, 3, 1, 2))


class CrossCovarianceAttn(nn.Module):
    """XCA: attention across channels (a C×C map per head), linear in the number of pixels."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, channels = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.num_heads, -1).permute(2, 0, 3, 4, 1)
        q, k, v = qkv.unbind(0)
        attn = (
            functional.normalize(q, dim=-1) @ functional.normalize(k, dim=-1).transpose(-2, -1)
        ) * self.temperature
        x = attn.softmax(dim=-1) @ v
        return self.proj(x.permute(0, 3, 1, 2).reshape(batch, tokens, channels))


class SplitTransposeBlock(nn.Module):
    """SDTA: multi-scale depthwise convolutions over channel groups, then XCA, then an MLP."""

    def __init__(
        self, dim: int, num_scales: int, num_heads: int, expand_ratio: int, positional: bool
    ) -> None:
        super().__init__()
        width = max(math.ceil(dim / num_scales), dim // num_scales)
        self.convs = nn.ModuleList(
            [nn.Conv2d(width, width, 3, padding=1, groups=width) for _ in range(max(1, num_scales - 1))]
        )
        self.pos_embd = PositionalEncodingFourier(dim=dim) if positional else None
        self.norm_xca = nn.LayerNorm(dim, eps=1e-6)
        self.gamma_xca = nn.Parameter(torch.ones(dim))
        self.xca = CrossCovarianceAttn(dim, num_heads)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, expand_ratio * dim)
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        groups = x.chunk(len(self.convs) + 1, dim=1)
        outputs, current = [], groups[0]
        for index, conv in enumerate(self.convs):
            if index > 0:
                current = current + groups[index]
            current = conv(current)
            outputs.append(current)
        outputs.append(groups[-1])
        x = torch.cat(outputs, 1)

        batch, channels, height, width = x.shape
        x = x.reshape(batch, channels, height * width).permute(0, 2, 1)
        if self.pos_embd is not None:
            x = x + self.pos_embd(batch, height, width).reshape(batch, channels, -1).permute(0, 2, 1)
        x = x + self.gamma_xca * self.xca(self.norm_xca(x))
        x = x.reshape(batch, height, width, channels)
        x = self.gamma * self.mlp(self.norm(x))
        return shortcut + x.permute(0, 3, 1, 2)


class EdgeNeXtStage(nn.Module):
    def __init__(
        self, in_chs: int, out_chs: int, stride: int, depth: int, index: int, config: EdgeNeXtConfig
    ) -> None:
        super().__init__()
        self.downsample = (
            nn.Identity()
            if stride == 1
            else nn.Sequential(
                LayerNorm2d(in_chs, eps=1e-6), nn.Conv2d(in_chs, out_chs, kernel_size=2, stride=2)
            )
        )
        blocks: list[nn.Module] = []
        for block in range(depth):
            if block < depth - config.global_blocks[index]:
                blocks.append(ConvBlock(out_chs, config.kernel_sizes[index], config.expand_ratio))
            else:
                blocks.append(
                    SplitTransposeBlock(
                        out_chs,
                        config.split_scales[index],
                        config.heads[index],
                        config.expand_ratio,
                        config.positional[index],
                    )
                )
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.downsample(x))


class _Head(nn.Module):
    def __init__(self, features: int, num_classes: int) -> None:
        super().__init__()
        self.norm = LayerNorm2d(features, eps=1e-6)
        self.fc = nn.Linear(features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.norm(x.mean((2, 3), keepdim=True)).flatten(1))


class EdgeNeXt(nn.Module):
    def __init__(self, config: EdgeNeXtConfig, num_classes: int) -> None:
        super().__init__()
        dims = config.dims
        self.stem = nn.Sequential(
            nn.Conv2d(3, dims[0], kernel_size=4, stride=4), LayerNorm2d(dims[0], eps=1e-6)
        )
        stages, in_chs = [], dims[0]
        for index, (depth, out_chs) in enumerate(zip(config.depths, dims, strict=True)):
            stages.append(EdgeNeXtStage(in_chs, out_chs, 1 if index == 0 else 2, depth, index, config))
            in_chs = out_chs
        self.stages = nn.Sequential(*stages)
        self.head = _Head(dims[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


class EdgeFaceNet(nn.Module):
    """EdgeFace: an EdgeNeXt whose classifier is replaced by a 512-d embedding layer."""

    def __init__(self, variant: str, embedding_dim: int = 512) -> None:
        super().__init__()
        self.model = EdgeNeXt(EDGENEXT_VARIANTS[variant], embedding_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
