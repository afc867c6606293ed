"""Helpers for the simulator tests: training setups built without the planner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from simulator.sim.job_model import JobModel
from simulator.sim.setup import (
    CauseRate,
    CheckpointPlan,
    MaintenancePlan,
    SparePool,
    TrainingSetup,
)
from simulator.sim.training import TrainingOutcome, simulate_training


def job(compute_s: float, *, gpus: int = 64) -> JobModel:
    """A job of exactly ``compute_s`` healthy compute seconds (1 s steps, 1 token each)."""
    return JobModel(
        step_time_s=1.0, tokens_per_step=1.0, total_tokens=compute_s, checkpoint_bytes=0.0, gpus=gpus
    )


def blocking(interval_s: float, write_s: float, load_s: float = 0.0) -> CheckpointPlan:
    return CheckpointPlan(
        interval_s=interval_s, write_s=write_s, blocking_s=write_s, durable_after_s=0.0,
        load_s=load_s, mode="blocking", young_s=None, daly_s=None,
    )


def asynchronous(interval_s: float, write_s: float, snapshot_s: float = 0.0) -> CheckpointPlan:
    return CheckpointPlan(
        interval_s=interval_s, write_s=write_s, blocking_s=snapshot_s, durable_after_s=write_s,
        load_s=0.0, mode="async", young_s=None, daly_s=None,
    )


def setup(
    *,
    compute_s: float,
    mtbf_s: float | None,
    restart_s: float = 0.0,
    checkpoint: CheckpointPlan | None = None,
    maintenance: MaintenancePlan | None = None,
    spares: SparePool | None = None,
    replace_node: bool = False,
    window_s: float | None = None,
    **extra: Any,
) -> TrainingSetup:
    """A training setup with one aggregate failure process (or none)."""
    causes: tuple[CauseRate, ...] = ()
    if mtbf_s is not None:
        causes = (
            CauseRate(name="failure", rate_per_s=1.0 / mtbf_s, downtime_s=restart_s, replace_node=replace_node),
        )
    base = TrainingSetup(
        name="test", job=job(compute_s), causes=causes, maintenance=maintenance, checkpoint=checkpoint,
        stragglers=None, spares=spares, window_s=window_s,
    )
    return replace(base, **extra) if extra else base


def run(s: TrainingSetup, replicas: int, seed: int = 0) -> list[TrainingOutcome]:
    return [simulate_training(s, seed=seed, replica=i) for i in range(replicas)]


def mean_and_stderr(values: Sequence[float]) -> tuple[float, float]:
    data = np.asarray(values, dtype=float)
    return float(data.mean()), float(data.std(ddof=1) / np.sqrt(data.size))


def accounted_s(o: TrainingOutcome) -> float:
    return o.useful_s + o.checkpoint_s + o.lost_work_s + o.restart_s + o.maintenance_s


# The minimal scenario form, verbatim from issue 4, section 1.
MINIMAL = """\
kind: training
model: llama3-8b
tokens: 1e12
gpu: h100-sxm5-80gb
gpus: 1024
failures: {mtbf_s: 36000}
checkpoint: {interval_s: 3600, write_s: 300}
restart_s: 600
stragglers: off
maintenance: off
"""
