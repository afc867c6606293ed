"""The configuration of one benchmark run (stored with every result)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from dcbench.errors import UsageError
from dcbench.telemetry.sampler import MAX_HZ as MAX_SAMPLE_HZ  # the sampler's own ceiling


@dataclass(frozen=True, kw_only=True, slots=True)
class BenchConfig:
    """What to run and how to measure it."""

    workload: str  # a name from workloads.registry.WORKLOAD_NAMES
    size: str = "tiny"  # tiny | small | medium | large
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    dtype: str = "fp32"  # fp32 | bf16 | fp16
    batch_size: int | None = None  # samples per step; None = the preset's default
    auto_batch: bool = False  # search for the largest batch that fits (--batch-size auto)
    steps: int = 20  # measured steps (after warm-up)
    warmup: int = 3  # warm-up steps, excluded from every statistic
    seed: int = 0  # seeds the model and the synthetic data
    sample_hz: float = 10.0  # telemetry sampling rate, Hz
    label: str | None = None  # free text stored with the run
    compile: bool = False  # torch.compile the model
    channels_last: bool = False  # NHWC memory format (CNN workloads)
    data_dir: str | None = None  # cnn: train from an image folder instead of synthetic tensors
    num_workers: int = 2  # DataLoader worker processes for data_dir

    def validate(self) -> None:
        """Reject values no run can use, with a one-line message naming the fix."""
        if self.steps <= 0:
            raise UsageError(f"--steps must be a positive number of steps, got {self.steps}")
        if self.warmup < 0:
            raise UsageError(f"--warmup must be >= 0, got {self.warmup}")
        if self.batch_size is not None and self.batch_size <= 0:
            raise UsageError(f"--batch-size must be a positive integer or 'auto', got {self.batch_size}")
        if not 0 < self.sample_hz <= MAX_SAMPLE_HZ:
            raise UsageError(
                f"--sample-hz must be > 0 and <= {MAX_SAMPLE_HZ:g} Hz, got {self.sample_hz:g}; "
                "the default is 10"
            )
        if self.num_workers < 0:
            raise UsageError(f"--num-workers must be >= 0, got {self.num_workers}")

    def with_device(self, device: str) -> BenchConfig:
        return replace(self, device=device)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
