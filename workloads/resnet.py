"""``resnet``: a ResNet-50-style bottleneck network, written in plain torch.

He et al. 2016 ("Deep Residual Learning for Image Recognition", arXiv:1512.03385,
Table 1): a 7x7/2 stem convolution with BatchNorm and ReLU, a 3x3/2 max pool,
four stages of bottleneck blocks (1x1 reduce, 3x3, 1x1 expand x4, each
followed by BatchNorm; identity shortcut, or a 1x1 projection with BatchNorm
when the shape changes), global average pooling and a fully connected
classifier. ResNet-50 has [3, 4, 6, 3] blocks of widths 64, 128, 256, 512. As
in the widely used "v1.5" variant (torchvision; Goyal et al. 2017,
arXiv:1706.02677) a stage's stride sits on the 3x3 convolution. Convolutions
have no bias (BatchNorm follows each).

``large`` is the real ResNet-50 at 224 x 224, batch 256, 1000 classes:
25,557,032 parameters and 4.09 GMAC forward per image (torchvision's published
figures for resnet50). Optimizer: SGD, momentum 0.9, weight decay 1e-4 (He et
al. 2016 §3.4), learning rate 0.1 x batch/256 (Goyal et al. 2017 §2.1).
Synthetic data: each class has its own mean colour (``synthetic.class_colour_batch``).

FLOPs per step: every convolution and the classifier x 3 (forward + backward),
except the stem convolution, whose input is the data: x 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from workloads.base import WorkloadConfig
from workloads.flops import (
    FORWARD_AND_BACKWARD,
    FORWARD_AND_WEIGHT_GRAD,
    AnalyticFlops,
    conv2d_flops,
    matmul_flops,
)
from workloads.synthetic import class_colour_batch, class_colours
from workloads.training import Batch, TorchWorkload

EXPANSION = 4  # output channels of a bottleneck block / its width (He et al. 2016 §4.1)
SGD_MOMENTUM = 0.9
WEIGHT_DECAY = 1e-4
BASE_LR_PER_256 = 0.1  # Goyal et al. 2017 §2.1: lr = 0.1 x batch / 256


@dataclass(frozen=True, kw_only=True, slots=True)
class ResnetShape:
    image_size: int  # input height = width, pixels
    base_width: int  # width of the first stage (64 in ResNet-50); doubles per stage
    blocks: tuple[int, int, int, int]  # bottleneck blocks per stage
    classes: int  # classifier outputs
    batch_size: int  # default images per step
    lr_per_256: float = BASE_LR_PER_256  # SGD learning rate at batch 256 (scaled linearly)


PRESETS: dict[str, ResnetShape] = {
    "tiny": ResnetShape(image_size=32, base_width=8, blocks=(1, 1, 1, 1), classes=10, batch_size=16),
    "small": ResnetShape(image_size=64, base_width=64, blocks=(3, 4, 6, 3), classes=100, batch_size=32),
    "medium": ResnetShape(image_size=160, base_width=64, blocks=(3, 4, 6, 3), classes=1000, batch_size=128),
    "large": ResnetShape(image_size=224, base_width=64, blocks=(3, 4, 6, 3), classes=1000, batch_size=256),
}


def conv_out(size: int, *, kernel: int, stride: int, padding: int) -> int:
    """Output side of a convolution or pooling: floor((size + 2p - k) / s) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


@dataclass(frozen=True, slots=True)
class ConvSpec:
    """One convolution of the network: the input to both the model and the FLOP count."""

    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    out_size: int  # output side, pixels


def stem_size(image_size: int) -> tuple[int, int]:
    """Sides after the 7x7/2 stem convolution and after the 3x3/2 max pool."""
    conv = conv_out(image_size, kernel=7, stride=2, padding=3)
    return conv, conv_out(conv, kernel=3, stride=2, padding=1)


def block_convs(in_channels: int, width: int, stride: int, in_size: int) -> tuple[list[ConvSpec], int]:
    """The convolutions of one bottleneck block (main path, then projection if any) and its output side."""
    out_size = conv_out(in_size, kernel=3, stride=stride, padding=1)
    convs = [
        ConvSpec(in_channels, width, 1, 1, in_size),
        ConvSpec(width, width, 3, stride, out_size),
        ConvSpec(width, width * EXPANSION, 1, 1, out_size),
    ]
    if stride != 1 or in_channels != width * EXPANSION:
        convs.append(ConvSpec(in_channels, width * EXPANSION, 1, stride, out_size))
    return convs, out_size


def _conv_bn(spec: ConvSpec) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(spec.in_channels, spec.out_channels, spec.kernel, spec.stride, spec.kernel // 2, bias=False),
        nn.BatchNorm2d(spec.out_channels),
    )


class Bottleneck(nn.Module):
    def __init__(self, convs: list[ConvSpec]) -> None:
        super().__init__()
        self.reduce, self.spatial, self.expand = (_conv_bn(c) for c in convs[:3])
        self.project = _conv_bn(convs[3]) if len(convs) == 4 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.reduce(x))
        y = F.relu(self.spatial(y))
        y = self.expand(y)
        shortcut = self.project(x) if self.project is not None else x
        return F.relu(y + shortcut)


class ResnetModel(nn.Module):
    """The network; ``forward(images, labels)`` returns the cross-entropy."""

    def __init__(self, shape: ResnetShape) -> None:
        super().__init__()
        self.stem = _conv_bn(ConvSpec(3, shape.base_width, 7, 2, stem_size(shape.image_size)[0]))
        blocks: list[nn.Module] = []
        for convs in network_block_convs(shape):
            blocks.append(Bottleneck(convs))
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(shape.base_width * 8 * EXPANSION, shape.classes)

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.stem(images)), kernel_size=3, stride=2, padding=1)
        x = self.blocks(x)
        logits = self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
        return F.cross_entropy(logits, labels)


def network_block_convs(shape: ResnetShape) -> list[list[ConvSpec]]:
    """The convolutions of every bottleneck block, in order."""
    blocks: list[list[ConvSpec]] = []
    size = stem_size(shape.image_size)[1]
    in_channels = shape.base_width
    for stage, count in enumerate(shape.blocks):
        width = shape.base_width * 2**stage
        for i in range(count):
            stride = 2 if stage > 0 and i == 0 else 1
            convs, size = block_convs(in_channels, width, stride, size)
            blocks.append(convs)
            in_channels = width * EXPANSION
    return blocks


class ResnetWorkload(TorchWorkload):
    name = "resnet"
    kind = "image"
    channels_last_supported = True

    def __init__(self, config: WorkloadConfig) -> None:
        self.shape = PRESETS[config.size]
        self._colours: torch.Tensor | None = None
        super().__init__(config, default_batch_size=self.shape.batch_size)

    def build_model(self) -> nn.Module:
        return ResnetModel(self.shape)

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        lr = self.shape.lr_per_256 * self.batch_size / 256
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=SGD_MOMENTUM, weight_decay=WEIGHT_DECAY)

    def on_build(self, gen: torch.Generator) -> None:
        self._colours = class_colours(gen, classes=self.shape.classes, device=self.config.device)

    def synthetic_batch(self, gen: torch.Generator) -> Batch:
        if self._colours is None:  # on_build runs before the first batch
            raise RuntimeError("resnet: synthetic_batch called before the workload was built")
        images, labels = class_colour_batch(
            gen, self._colours, batch=self.batch_size, size=self.shape.image_size, device=self.config.device
        )
        return self.images_memory_format(images), labels

    def analytic_flops(self) -> AnalyticFlops:
        s, b = self.shape, self.batch_size
        stem = conv2d_flops(
            batch=b, in_channels=3, out_channels=s.base_width, kernel=7,
            out_h=stem_size(s.image_size)[0], out_w=stem_size(s.image_size)[0],
        )
        body = sum(
            conv2d_flops(
                batch=b, in_channels=c.in_channels, out_channels=c.out_channels, kernel=c.kernel,
                out_h=c.out_size, out_w=c.out_size,
            )
            for convs in network_block_convs(s)
            for c in convs
        )
        fc = matmul_flops(b, s.classes, s.base_width * 8 * EXPANSION)
        total = FORWARD_AND_WEIGHT_GRAD * stem + FORWARD_AND_BACKWARD * (body + fc)
        return AnalyticFlops(dense_flops=float(total), attention_flops=0.0)
