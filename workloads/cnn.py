"""``cnn``: the documents' small image classifier (Chollet, Deep Learning with Python, 2017, §5.2).

4 x (Conv 3x3, valid padding, + ReLU + MaxPool 2x2) with 32, 64, 128, 128
channels, Flatten, Dense 512 + ReLU, Dense 1 + sigmoid; binary cross-entropy;
Adam. The sigmoid and the cross-entropy are fused in
``binary_cross_entropy_with_logits`` (the same function, numerically stable and
safe under autocast). At 150 x 150 x 3 the feature map shrinks
150 -> 148 -> 74 -> 72 -> 36 -> 34 -> 17 -> 15 -> 7, so Flatten gives
7·7·128 = 6272 features and the network has 3,453,121 parameters (Chollet
§5.2.3 lists the same summary).

Data: seeded stripe images generated on the device (``synthetic.stripe_batch``),
or, with ``data_dir``, an image folder read through a DataLoader with worker
processes and the documents' augmentation (``workloads.images``); then
``input_pipeline_stats()`` reports samples, bytes read, loader wait and loader
throughput.

FLOPs per step: Σ 2·B·C_out·H_out·W_out·C_in·9 per convolution and 2·B·d_in·d_out
per dense layer, x 3 for forward + backward, except the first convolution
(its input is the data, so no input gradient): x 2.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dcbench.errors import UsageError
from workloads.base import InputPipelineStats, WorkloadConfig
from workloads.flops import (
    FORWARD_AND_BACKWARD,
    FORWARD_AND_WEIGHT_GRAD,
    AnalyticFlops,
    conv2d_flops,
    matmul_flops,
)
from workloads.images import Augmentation, ImageStream, InfiniteSampler, scan_image_folder
from workloads.synthetic import stripe_batch
from workloads.training import Batch, TorchWorkload, TrainState

CHANNELS = (32, 64, 128, 128)  # Chollet 2017 §5.2.3
DENSE = 512
KERNEL = 3


@dataclass(frozen=True, kw_only=True, slots=True)
class CnnShape:
    image_size: int  # input height = width, pixels
    batch_size: int  # default images per step (Chollet uses 20-32)
    lr: float  # Adam learning rate


PRESETS: dict[str, CnnShape] = {
    "tiny": CnnShape(image_size=48, batch_size=16, lr=1e-3),
    "small": CnnShape(image_size=150, batch_size=32, lr=1e-3),  # the documents' exact network
    "medium": CnnShape(image_size=150, batch_size=256, lr=1e-3),
    "large": CnnShape(image_size=300, batch_size=256, lr=1e-3),
}


def feature_sizes(image_size: int) -> list[int]:
    """Side of the feature map after each conv and each pool: valid 3x3 (-2), then floor(/2)."""
    sizes, side = [], image_size
    for _ in CHANNELS:
        side -= KERNEL - 1
        sizes.append(side)
        side //= 2
        sizes.append(side)
    return sizes


class CnnModel(nn.Module):
    """The classifier; ``forward(images, labels)`` returns the binary cross-entropy."""

    def __init__(self, image_size: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3
        for out_channels in CHANNELS:
            layers += [nn.Conv2d(in_channels, out_channels, KERNEL), nn.ReLU(), nn.MaxPool2d(2)]
            in_channels = out_channels
        self.features = nn.Sequential(*layers)
        side = feature_sizes(image_size)[-1]
        self.dense = nn.Linear(CHANNELS[-1] * side * side, DENSE)
        self.out = nn.Linear(DENSE, 1)

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.features(images), 1)
        logits = self.out(F.relu(self.dense(x))).squeeze(1)
        return F.binary_cross_entropy_with_logits(logits.float(), labels)


class CnnWorkload(TorchWorkload):
    name = "cnn"
    kind = "image"
    channels_last_supported = True

    def __init__(self, config: WorkloadConfig) -> None:
        self.shape = PRESETS[config.size]
        super().__init__(config, default_batch_size=self.shape.batch_size)
        self._folder = scan_image_folder(config.data_dir) if config.data_dir is not None else None
        if self._folder is not None and len(self._folder.classes) != 2:
            found = ", ".join(self._folder.classes)
            raise UsageError(
                f"the cnn workload is a binary classifier: image folder '{config.data_dir}' needs exactly "
                f"2 class folders, found {len(self._folder.classes)} ({found})"
            )
        self._loader_iter: Any = None
        self._samples = 0
        self._bytes_read = 0
        self._wait_s = 0.0
        self._produce_s = 0.0

    def build_model(self) -> nn.Module:
        return CnnModel(self.shape.image_size)

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(model.parameters(), lr=self.shape.lr)

    def synthetic_batch(self, gen: torch.Generator) -> Batch:
        images, labels = stripe_batch(gen, batch=self.batch_size, size=self.shape.image_size, device=self.config.device)
        return self.images_memory_format(images), labels

    def next_batch(self, state: TrainState) -> Batch:
        if self._folder is None:
            return self.synthetic_batch(state.data)
        if self._loader_iter is None:
            self._loader_iter = iter(self._make_loader())
        start = time.perf_counter()
        images, labels, nbytes, seconds = next(self._loader_iter)
        self._wait_s += time.perf_counter() - start
        self._samples += int(labels.shape[0])
        self._bytes_read += int(nbytes.sum())
        self._produce_s += float(seconds.sum())
        device = self.config.device
        images = images.to(device, non_blocking=True)
        return self.images_memory_format(images), labels.to(device, dtype=torch.float32, non_blocking=True)

    def _make_loader(self) -> torch.utils.data.DataLoader[Any]:
        if self._folder is None:
            raise RuntimeError("cnn: no image folder configured")
        workers = self.config.num_workers
        stream = ImageStream(self._folder, size=self.shape.image_size, seed=self.config.seed, aug=Augmentation())
        return torch.utils.data.DataLoader(
            stream,
            batch_size=self.batch_size,
            sampler=InfiniteSampler(),
            num_workers=workers,
            persistent_workers=workers > 0,
            pin_memory=self.config.device.startswith("cuda"),
            prefetch_factor=4 if workers > 0 else None,
        )

    def input_pipeline_stats(self) -> InputPipelineStats | None:
        """Loader statistics: throughput = samples / (summed per-sample work / workers)."""
        if self._folder is None:
            return None
        workers = max(1, self.config.num_workers)
        busy_s = self._produce_s / workers
        return InputPipelineStats(
            samples=self._samples,
            bytes_read=self._bytes_read,
            wait_s=self._wait_s,
            samples_per_s=self._samples / busy_s if busy_s > 0 else None,
        )

    def close(self) -> None:
        self._loader_iter = None  # the iterator's finaliser stops the worker processes

    def analytic_flops(self) -> AnalyticFlops:
        b, sizes = self.batch_size, feature_sizes(self.shape.image_size)
        total, in_channels = 0, 3
        for i, out_channels in enumerate(CHANNELS):
            conv = conv2d_flops(
                batch=b, in_channels=in_channels, out_channels=out_channels, kernel=KERNEL,
                out_h=sizes[2 * i], out_w=sizes[2 * i],
            )
            total += (FORWARD_AND_WEIGHT_GRAD if i == 0 else FORWARD_AND_BACKWARD) * conv
            in_channels = out_channels
        flat = CHANNELS[-1] * sizes[-1] ** 2
        total += FORWARD_AND_BACKWARD * (matmul_flops(b, DENSE, flat) + matmul_flops(b, 1, DENSE))
        return AnalyticFlops(dense_flops=float(total), attention_flops=0.0)
