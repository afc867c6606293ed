"""The contract every training workload implements (the harness codes against this).

A workload is a real training loop: model, deterministic synthetic data (seeded),
loss, optimizer, backward and step. FLOPs are per *training step* at the
configured batch size, forward + backward (backward = 2x forward for matmuls and
convolutions, the usual convention, e.g. Kaplan et al. 2020 §2.1).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

if TYPE_CHECKING:
    import torch

SIZES: tuple[str, ...] = ("tiny", "small", "medium", "large")
DTYPES: tuple[str, ...] = ("fp32", "bf16", "fp16")
WorkloadKind = Literal["image", "token", "tabular"]


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkloadConfig:
    """How to build one workload instance."""

    size: str = "tiny"  # one of SIZES
    batch_size: int | None = None  # samples per step; None = the preset's default
    dtype: str = "fp32"  # one of DTYPES; bf16/fp16 use autocast, fp16 adds a GradScaler
    device: str = "cpu"  # a torch device string: "cpu", "cuda", "cuda:1"
    seed: int = 0  # seeds model init and the synthetic data
    compile: bool = False  # wrap the model in torch.compile
    channels_last: bool = False  # CNN workloads only: NHWC memory format
    data_dir: str | None = None  # cnn only: read ROOT/<class>/*.png|*.jpg instead of synthetic tensors
    num_workers: int = 2  # DataLoader worker processes for data_dir


@dataclass(frozen=True, slots=True)
class InputPipelineStats:
    """What the input pipeline did during a run (the storage planner needs it)."""

    samples: int  # samples delivered by the loader
    bytes_read: int  # bytes read from disk by the loader
    wait_s: float  # time the training loop waited on the loader
    samples_per_s: float | None  # loader throughput (samples / time spent producing them)

    @property
    def bytes_read_per_sample(self) -> float | None:
        return self.bytes_read / self.samples if self.samples else None


class Workload(ABC):
    """One training workload at one size, ready to step."""

    name: ClassVar[str]
    kind: ClassVar[WorkloadKind]

    def __init__(self, config: WorkloadConfig) -> None:
        self.config = config

    @property
    @abstractmethod
    def batch_size(self) -> int:
        """Samples per training step."""

    @property
    @abstractmethod
    def param_count(self) -> int:
        """Exact number of trainable parameters."""

    @property
    def tokens_per_step(self) -> int | None:
        """Tokens per step for token workloads (batch x sequence length); None otherwise."""
        return None

    @abstractmethod
    def analytic_flops_per_step(self) -> float:
        """Analytic FLOPs of one training step (forward + backward) at this batch size."""

    @abstractmethod
    def train_step(self) -> torch.Tensor:
        """Run one full training step and return the detached loss (no host sync)."""

    @abstractmethod
    def counted_flops_per_step(self) -> float:
        """FLOPs of one forward + backward as counted by torch.utils.flop_counter.FlopCounterMode."""

    def counted_flops_note(self) -> str | None:
        """After ``counted_flops_per_step()``: one line saying why the count cannot match the
        analytic FLOPs (e.g. attention the counter has no formula for), or None when it should."""
        return None

    def input_pipeline_stats(self) -> InputPipelineStats | None:
        """Loader statistics when reading from disk; None for synthetic in-memory data."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release loader workers and other resources."""
