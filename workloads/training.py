"""The training loop shared by every workload: lazy build, one step, FLOP counting.

A subclass describes its model (``build_model``, whose module's ``forward``
takes a batch and returns the scalar loss), its optimizer, its synthetic batch
and its analytic FLOPs. This class owns everything else:

- Nothing is allocated until the first ``train_step`` or counted-FLOP call, so a
  ``large`` preset can be constructed, sized and costed on any machine.
  ``param_count`` builds the model on the ``meta`` device (shapes only).
- The model is initialised from ``config.seed`` inside ``torch.random.fork_rng``
  (the global RNG is left as it was); the data come from a separate seeded
  ``torch.Generator`` on the device.
- A step is: next batch, forward under autocast (bf16/fp16), backward (scaled
  for fp16), optimizer step, zero_grad. It returns the detached loss without a
  host sync.
- ``counted_flops`` runs one forward + backward of a separate synthetic batch of
  the same shape under FlopCounterMode, with no optimizer step, and restores the
  module buffers (BatchNorm running statistics) and gradients afterwards.
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from workloads.base import Workload, WorkloadConfig
from workloads.flops import AnalyticFlops, CountedFlops, count_flops
from workloads.precision import autocast, grad_scaler
from workloads.synthetic import COUNT_SEED_OFFSET, DATA_SEED_OFFSET, generator

Batch = tuple[torch.Tensor, ...]


@dataclass(kw_only=True, slots=True)
class TrainState:
    """Everything a built workload holds on its device."""

    model: nn.Module  # the eager module (FLOP counting always uses it)
    forward: Any  # the module, or torch.compile(module)
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler | None  # fp16 only
    data: torch.Generator  # the training data stream


@contextlib.contextmanager
def seeded(seed: int, device: str) -> Iterator[None]:
    """Seed torch's default generators for ``device`` and restore them on exit."""
    dev = torch.device(device)
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        fork = torch.random.fork_rng(devices=[index], device_type="cuda")
    else:
        fork = torch.random.fork_rng(devices=[])
    with fork:
        torch.manual_seed(seed)
        yield


class TorchWorkload(Workload):
    """A workload trained with plain PyTorch; subclasses fill in the model and data."""

    channels_last_supported: bool = False  # image workloads set True

    def __init__(self, config: WorkloadConfig, *, default_batch_size: int) -> None:
        super().__init__(config)
        self._batch_size = config.batch_size if config.batch_size is not None else default_batch_size
        self._state: TrainState | None = None
        self._param_count: int | None = None
        self._counter_note: str | None = None  # set by counted_flops_per_step

    # ----- what a subclass provides -------------------------------------------------
    @abstractmethod
    def build_model(self) -> nn.Module:
        """Construct the model; called under ``torch.device(...)`` and a seeded RNG."""

    @abstractmethod
    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        """The optimizer over ``model.parameters()``."""

    @abstractmethod
    def synthetic_batch(self, gen: torch.Generator) -> Batch:
        """One synthetic batch on ``config.device`` (the arguments of the model's forward)."""

    @abstractmethod
    def analytic_flops(self) -> AnalyticFlops:
        """Analytic FLOPs of one step at this batch size, split into dense and attention."""

    def next_batch(self, state: TrainState) -> Batch:
        """The next training batch; the CNN overrides this to read an image folder."""
        return self.synthetic_batch(state.data)

    def on_build(self, gen: torch.Generator) -> None:  # noqa: B027 - optional hook
        """Create fixed data constants (teacher weights, class colours) before the first batch."""

    # ----- the Workload contract ----------------------------------------------------
    @property
    def batch_size(self) -> int:
        return self._batch_size

    @property
    def param_count(self) -> int:
        """Exact number of trainable parameters, from a shapes-only build on ``meta``."""
        if self._param_count is None:
            with torch.device("meta"):
                model = self.build_model()
            self._param_count = sum(p.numel() for p in model.parameters() if p.requires_grad)
        return self._param_count

    @property
    def model(self) -> nn.Module:
        """The eager model on the device (built on first use)."""
        return self._ensure_built().model

    @property
    def grad_scaler(self) -> torch.amp.GradScaler | None:
        """The fp16 gradient scaler once built (None for fp32/bf16 or before the first step)."""
        return self._state.scaler if self._state is not None else None

    def analytic_flops_per_step(self) -> float:
        return self.analytic_flops().total_flops

    def train_step(self) -> torch.Tensor:
        state = self._ensure_built()
        batch = self.next_batch(state)
        with autocast(self.config.dtype, self.config.device):
            loss = state.forward(*batch)
        if state.scaler is not None:
            state.scaler.scale(loss).backward()
            state.scaler.step(state.optimizer)
            state.scaler.update()
        else:
            loss.backward()
            state.optimizer.step()
        state.optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    def counted_flops_per_step(self) -> float:
        counted = self.counted_flops()
        self._counter_note = counted.note(self.analytic_flops())
        return counted.total_flops

    def counted_flops_note(self) -> str | None:
        return self._counter_note

    def counted_flops(self) -> CountedFlops:
        """FlopCounterMode's count of one forward + backward, split into dense and attention."""
        state = self._ensure_built()
        model = state.model
        batch = self.synthetic_batch(generator(self.config.seed + COUNT_SEED_OFFSET, self.config.device))
        saved = {name: buf.detach().clone() for name, buf in model.named_buffers()}

        def forward_backward() -> None:
            with autocast(self.config.dtype, self.config.device):
                loss = model(*batch)
            loss.backward()

        try:
            counted = count_flops(forward_backward)
        finally:
            with torch.no_grad():
                for name, buf in model.named_buffers():
                    buf.copy_(saved[name])
            state.optimizer.zero_grad(set_to_none=True)
        return counted

    # ----- building -----------------------------------------------------------------
    def _ensure_built(self) -> TrainState:
        if self._state is None:
            self._state = self._build()
        return self._state

    def _build(self) -> TrainState:
        config = self.config
        with seeded(config.seed, config.device), torch.device(config.device):
            model = self.build_model()
        if config.channels_last:
            model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        data = generator(config.seed + DATA_SEED_OFFSET, config.device)
        self.on_build(data)
        forward: Any = torch.compile(model) if config.compile else model
        return TrainState(
            model=model,
            forward=forward,
            optimizer=self.build_optimizer(model),
            scaler=grad_scaler(config.dtype, config.device),
            data=data,
        )

    def images_memory_format(self, images: torch.Tensor) -> torch.Tensor:
        """Images in the configured memory format (NHWC with channels_last)."""
        if self.config.channels_last:
            return images.contiguous(memory_format=torch.channels_last)
        return images
