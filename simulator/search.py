"""Evaluate many layouts at once (memory, step time, FLOPs) and rank them.

Everything here is array arithmetic over a :class:`~simulator.layouts.LayoutGrid`,
so a search over thousands of layouts costs a few numpy passes, not a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dcbench.errors import UsageError
from simulator.catalog.specs import HardwareSpec, ModelSpec
from simulator.flops import RECOMPUTE_MODES, hardware_flops_per_token, model_flops_per_token
from simulator.layouts import LayoutGrid
from simulator.memory import (
    activation_bytes_per_gpu,
    model_state_bytes,
    stage_params,
    zero3_buffer_bytes,
)
from simulator.roofline import Attention
from simulator.step_time import Fabric, StepTimes, step_times

Array = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True, slots=True)
class MemoryAssumptions:
    """What the planner adds to model states and activations, and how full HBM may get."""

    framework_overhead_bytes: float = 2.0e9  # CUDA context, NCCL and cuBLAS buffers (rule of thumb; measure it)
    headroom_fraction: float = 0.05  # HBM kept free for allocator fragmentation

    def __post_init__(self) -> None:
        overhead, headroom = self.framework_overhead_bytes, self.headroom_fraction
        if isinstance(overhead, bool) or not isinstance(overhead, int | float) or not 0 <= overhead < float("inf"):
            raise UsageError(f"framework_overhead_bytes must be a number >= 0 (got {overhead!r})")
        if isinstance(headroom, bool) or not isinstance(headroom, int | float) or not 0 <= headroom < 1:
            raise UsageError(f"headroom_fraction must be in [0, 1) (got {headroom!r}); e.g. 0.05")


@dataclass(frozen=True, kw_only=True, slots=True)
class EfficiencyOverride:
    """A measured or published rate that replaces the roofline (exactly one field set).

    ``achieved_flops_per_gpu``: hardware FLOP/s per GPU including recomputation,
    as Megatron-LM reports it (Narayanan et al. 2021 §5.1). ``mfu``: model FLOPs
    (no recomputation) over peak, as in PaLM (Chowdhery et al. 2022 §B) and
    Korthikanti et al. 2022 §6.
    """

    achieved_flops_per_gpu: float | None = None
    mfu: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Evaluation:
    """Per-layout results (one array element per layout of ``grid``)."""

    grid: LayoutGrid
    times: StepTimes
    step_time_s: Array  # roofline, or from the efficiency override
    tokens_per_step: Array
    model_flops_per_token: float
    hardware_flops_per_token: Array
    weights_bytes: Array
    gradients_bytes: Array
    optimizer_bytes: Array
    activations_bytes: Array
    overhead_bytes: Array
    total_bytes: Array
    hbm_bytes: float
    usable_bytes: float
    fits: NDArray[np.bool_]
    peak_flops_per_s: float  # bf16 dense peak the MFU is measured against

    @property
    def tokens_per_s(self) -> Array:
        return self.tokens_per_step / self.step_time_s

    @property
    def mfu(self) -> Array:
        """Model FLOPs utilisation: model FLOP/s per GPU over the bf16 peak."""
        return self.model_flops_per_token * self.tokens_per_s / self.grid.gpus / self.peak_flops_per_s

    @property
    def achieved_flops_per_gpu(self) -> Array:
        """Hardware FLOP/s per GPU, recomputation included."""
        return self.hardware_flops_per_token * self.tokens_per_s / self.grid.gpus


def evaluate(
    model: ModelSpec,
    hardware: HardwareSpec,
    grid: LayoutGrid,
    fabric: Fabric,
    memory: MemoryAssumptions,
    override: EfficiencyOverride | None = None,
    attention: Attention = "flash",
) -> Evaluation:
    """Memory, fit and step time of every layout in ``grid`` (``attention``: flash or unfused)."""
    params_gpu = stage_params(model, grid.pp) / grid.tp
    weights, gradients, optimizer = model_state_bytes(params_gpu, grid.dp * grid.cp, grid.zero_stage)
    activations = activation_bytes_per_gpu(
        model,
        microbatch=grid.microbatch,
        seq_len=model.seq_len / grid.cp,
        tp=grid.tp,
        pp=grid.pp,
        sequence_parallel=grid.sequence_parallel,
        recompute=grid.recompute,
        microbatches=grid.microbatches,
        virtual_stages=grid.virtual_stages,
        attention=attention,
    )
    overhead = memory.framework_overhead_bytes + zero3_buffer_bytes(model, grid.tp, grid.zero_stage)
    total = weights + gradients + optimizer + activations + overhead
    usable = hardware.hbm_bytes * (1.0 - memory.headroom_fraction)

    times = step_times(model, hardware, grid, fabric, attention)
    tokens_per_step = (grid.global_batch * model.seq_len).astype(np.float64)
    model_per_token = model_flops_per_token(model)
    hw_table = np.array([hardware_flops_per_token(model, mode) for mode in RECOMPUTE_MODES])
    hw_per_token = hw_table[grid.recompute]
    step = times.step_time_s
    if override is not None and override.achieved_flops_per_gpu is not None:
        step = hw_per_token * tokens_per_step / (grid.gpus * override.achieved_flops_per_gpu)
    elif override is not None and override.mfu is not None:
        step = model_per_token * tokens_per_step / (grid.gpus * hardware.peak() * override.mfu)
    return Evaluation(
        grid=grid,
        times=times,
        step_time_s=np.asarray(step, dtype=np.float64),
        tokens_per_step=tokens_per_step,
        model_flops_per_token=model_per_token,
        hardware_flops_per_token=hw_per_token,
        weights_bytes=weights,
        gradients_bytes=gradients,
        optimizer_bytes=optimizer,
        activations_bytes=activations,
        overhead_bytes=np.broadcast_to(overhead, total.shape).astype(np.float64),
        total_bytes=total,
        hbm_bytes=hardware.hbm_bytes,
        usable_bytes=usable,
        fits=total <= usable,
        peak_flops_per_s=hardware.peak(),
    )


def rank(evaluation: Evaluation, objective_per_layout: Array, top: int) -> NDArray[np.int64]:
    """Indices of the ``top`` fitting layouts with the smallest objective (ties: fewer GPUs, faster roofline, less memory)."""
    fitting = np.flatnonzero(evaluation.fits)
    order = np.lexsort(
        (
            evaluation.total_bytes[fitting],
            evaluation.times.step_time_s[fitting],
            evaluation.grid.gpus[fitting],
            np.round(objective_per_layout[fitting], 12),
        )
    )
    return fitting[order[:top]]
