"""``mlp``: the documents' fully connected sigmoid network, trained with cross-entropy and SGD.

At ``tiny`` it is the 3 -> 4 -> 2 network (3 inputs, one hidden layer of 4
sigmoid units, 2 outputs); the presets widen and deepen it. Every hidden layer
is Linear + sigmoid; the output layer gives logits for softmax cross-entropy.
Optimizer: SGD with momentum 0.9. The synthetic task labels Gaussian inputs
with the argmax of a fixed random linear map (``synthetic.teacher_batch``).

Parameters: Σ (dᵢ·dᵢ₊₁ + dᵢ₊₁) over consecutive widths d₀ … d_L.
FLOPs per step: 2·B·d₀·d₁ x 2 for the first layer (its input is data: weight
gradient only) + Σ 2·B·dᵢ·dᵢ₊₁ x 3 for the others (see workloads.flops).
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
    matmul_flops,
)
from workloads.synthetic import teacher, teacher_batch
from workloads.training import Batch, TorchWorkload

SGD_MOMENTUM = 0.9


@dataclass(frozen=True, kw_only=True, slots=True)
class MlpShape:
    """Widths of the network, from inputs to classes."""

    in_features: int  # inputs per sample
    hidden: tuple[int, ...]  # widths of the sigmoid hidden layers
    classes: int  # output logits
    batch_size: int  # default samples per step
    lr: float  # SGD learning rate

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.in_features, *self.hidden, self.classes)


PRESETS: dict[str, MlpShape] = {
    "tiny": MlpShape(in_features=3, hidden=(4,), classes=2, batch_size=64, lr=0.5),
    "small": MlpShape(in_features=64, hidden=(256, 256), classes=10, batch_size=256, lr=0.1),
    "medium": MlpShape(in_features=1024, hidden=(4096,) * 4, classes=1000, batch_size=1024, lr=0.1),
    "large": MlpShape(in_features=2048, hidden=(8192,) * 6, classes=1000, batch_size=4096, lr=0.1),
}


class MlpModel(nn.Module):
    """Linear + sigmoid hidden layers and a linear output; ``forward(x, labels)`` returns the loss."""

    def __init__(self, shape: MlpShape) -> None:
        super().__init__()
        widths = shape.widths
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = torch.sigmoid(layer(x))
        return F.cross_entropy(self.layers[-1](x), labels)


class MlpWorkload(TorchWorkload):
    name = "mlp"
    kind = "tabular"

    def __init__(self, config: WorkloadConfig) -> None:
        self.shape = PRESETS[config.size]
        self._teacher: torch.Tensor | None = None
        super().__init__(config, default_batch_size=self.shape.batch_size)

    def build_model(self) -> nn.Module:
        return MlpModel(self.shape)

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.SGD(model.parameters(), lr=self.shape.lr, momentum=SGD_MOMENTUM)

    def on_build(self, gen: torch.Generator) -> None:
        self._teacher = teacher(
            gen, in_features=self.shape.in_features, classes=self.shape.classes, device=self.config.device
        )

    def synthetic_batch(self, gen: torch.Generator) -> Batch:
        if self._teacher is None:  # on_build runs before the first batch
            raise RuntimeError("mlp: synthetic_batch called before the workload was built")
        return teacher_batch(gen, self._teacher, batch=self.batch_size, device=self.config.device)

    def analytic_flops(self) -> AnalyticFlops:
        widths, b = self.shape.widths, self.batch_size
        total = 0
        for i, (a, c) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            factor = FORWARD_AND_WEIGHT_GRAD if i == 0 else FORWARD_AND_BACKWARD
            total += factor * matmul_flops(b, c, a)
        return AnalyticFlops(dense_flops=float(total), attention_flops=0.0)
