"""What the simulator needs to know about one training job, and how the planner fills it.

The engine only sees :class:`JobModel`, so its closed-form tests do not depend on
the analytical planner. :func:`job_from_plan` is the one adapter to
``simulator.plan``: it asks the planner for the step time, tokens per step and
checkpoint size of a model on a GPU type and count (with a fixed layout or the
planner's best one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from dcbench.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class JobModel:
    """One healthy training job, as the simulator sees it.

    Units: seconds, tokens, bytes, GPU counts.
    """

    step_time_s: float  # wall time of one healthy optimizer step
    tokens_per_step: float  # global batch in tokens
    total_tokens: float  # tokens to train on
    checkpoint_bytes: float  # size of one full checkpoint (weights + optimizer state)
    gpus: int  # GPUs the job runs on
    gpus_per_node: int = 8  # GPUs per server (for node-scoped failure rates and spares)
    tp: int = 1  # tensor-parallel size (informational)
    pp: int = 1  # pipeline-parallel size (informational)
    dp: int = 1  # data-parallel size (informational)
    microbatches: int = 1  # microbatches per pipeline flush (informational)
    source: str = "explicit"  # where the numbers came from: "explicit" or "planner"
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for name in ("step_time_s", "tokens_per_step", "total_tokens"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ConfigError(f"job {name} must be a finite number > 0, got {value!r}")
        if self.checkpoint_bytes < 0:
            raise ConfigError(f"job checkpoint_bytes must be >= 0, got {self.checkpoint_bytes!r}")
        if self.gpus < 1 or self.gpus_per_node < 1:
            raise ConfigError("job gpus and gpus_per_node must be >= 1")

    @property
    def steps(self) -> int:
        """Optimizer steps to train on ``total_tokens`` (the last step may be partial: rounded up)."""
        return math.ceil(self.total_tokens / self.tokens_per_step - 1e-9)

    @property
    def compute_s(self) -> float:
        """Healthy compute time of the whole job, seconds: steps x step_time_s."""
        return self.steps * self.step_time_s

    @property
    def nodes(self) -> int:
        """Servers the job occupies (whole nodes), rounded up."""
        return math.ceil(self.gpus / self.gpus_per_node)


@dataclass(frozen=True, slots=True, kw_only=True)
class LayoutRequest:
    """An optional fixed layout for the planner; ``None`` fields are left to the planner."""

    tp: int | None = None
    pp: int | None = None
    cp: int | None = None
    microbatch: int | None = None
    global_batch: int | None = None
    virtual_stages: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedPipeline:
    """One iteration as the planner sees it (seconds; the slowest stage stands for all)."""

    stages: int  # pp
    microbatches: int  # m per flush
    virtual_stages: int  # v
    stage_time_s: float  # one microbatch through one stage: compute + TP + CP comm
    p2p_s: float  # one activation or gradient send
    dp_s: float  # exposed data-parallel comm + optimizer after the last backward
    step_time_s: float  # the planner's step time
    bubble_s: float  # the planner's pipeline bubble per step


def _plan(model: str, tokens: float, gpu: str, gpus: int, layout: LayoutRequest | None) -> Any:
    from simulator.plan import PlanRequest, plan

    layout = layout or LayoutRequest()
    return plan(
        PlanRequest(
            model=model,
            tokens=tokens,
            gpu=gpu,
            gpus=gpus,
            tp=layout.tp,
            pp=layout.pp,
            cp=layout.cp,
            microbatch=layout.microbatch,
            global_batch=layout.global_batch,
            virtual_stages=layout.virtual_stages,
        )
    )


def pipeline_from_plan(
    *, model: str, gpu: str, gpus: int, layout: LayoutRequest | None = None, tokens: float = 1e9
) -> PlannedPipeline:
    """The planner's per-microbatch stage time, sends and bubble for one iteration.

    From ``PlanResult.breakdown`` (per step, slowest stage): the stage time of one
    microbatch is (compute + TP + CP comm) / m; a send is pp_comm / (2 v m) (one
    activation forward and one gradient backward per microbatch and chunk, as the
    planner counts them); the DP comm and optimizer follow the last backward.
    """
    result = _plan(model, tokens, gpu, gpus, layout)
    par, br = result.parallelism, result.breakdown
    m, v = int(par.microbatches), int(par.virtual_stages)
    sends = 2 * v * m if par.pp > 1 else 1
    return PlannedPipeline(
        stages=int(par.pp),
        microbatches=m,
        virtual_stages=v,
        stage_time_s=(br.compute_s + br.tp_comm_s + br.cp_comm_s) / m,
        p2p_s=br.pp_comm_s / sends if par.pp > 1 else 0.0,
        dp_s=br.dp_comm_s + br.optimizer_s,
        step_time_s=float(result.throughput.step_time_s),
        bubble_s=float(br.bubble_s),
    )


def job_from_plan(
    *, model: str, tokens: float, gpu: str, gpus: int, layout: LayoutRequest | None = None
) -> JobModel:
    """Fill a :class:`JobModel` from the analytical planner (``simulator.plan.plan``).

    ``model`` and ``gpu`` are catalog names or files; ``tokens`` is a count. The
    planner's errors (unknown names, layouts that do not fit) propagate unchanged.
    """
    result = _plan(model, tokens, gpu, gpus, layout)
    par = result.parallelism
    return JobModel(
        step_time_s=float(result.throughput.step_time_s),
        tokens_per_step=float(result.throughput.tokens_per_step),
        total_tokens=float(tokens),
        checkpoint_bytes=float(result.storage.checkpoint_bytes),
        gpus=int(result.gpus),
        gpus_per_node=int(result.hardware.gpus_per_node),
        tp=int(par.tp),
        pp=int(par.pp),
        dp=int(par.dp),
        microbatches=int(par.microbatches),
        source="planner",
    )
