"""Event counts do not grow with the number of GPUs or training steps (issue 4, §2).

The engines draw failures from the aggregate rate of all components and cross
the training between interruptions (every checkpoint included) in one timeout,
so the number of SimPy events a replica processes depends on the number of
interruptions, not on the GPUs, the steps or the checkpoints. These tests count
the events (``TrainingOutcome.events``) for scenarios that differ 16x in GPUs or
10x in tokens at the same expected number of interruptions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.sim.campaign import prepare
from simulator.sim.setup import TrainingSetup
from simulator.sim.training import TrainingOutcome, simulate_training

REPLICAS = 40
# A replica's own events (start, end, window timeout, the failure and maintenance
# processes) plus a handful per interruption (the failure timeout, the interrupt,
# the downtime, the next run); a per-step or per-checkpoint event would blow
# through this by orders of magnitude (the jobs below have 1e5-1e6 steps and
# 50-5,000 checkpoints).
FIXED_EVENTS = 20
EVENTS_PER_INTERRUPTION = 8


def _setup(raw: dict[str, Any]) -> TrainingSetup:
    setup = prepare(raw).points[0].setup
    assert isinstance(setup, TrainingSetup)
    return setup


def _scenario(*, gpus: int, tokens: float, failures: dict[str, Any], maintenance_per_day: float,
              window_days: float | None = None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "kind": "training", "tokens": tokens, "gpus": gpus,
        "job": {"step_time_s": 1.0, "tokens_per_step": 1e6},  # 1 s steps: tokens / 1e6 steps
        "failures": failures, "restart_s": 600,
        "checkpoint": {"interval_s": 1800, "write_s": 60},
        "maintenance": {"per_day": maintenance_per_day, "duration_s": 600},
        "stragglers": {"cv": 0.02},  # slowest of one worker per GPU
    }
    if window_days is not None:
        raw["window_days"] = window_days
    return raw


def _run(setup: TrainingSetup) -> tuple[list[TrainingOutcome], float]:
    outcomes = [simulate_training(setup, seed=4, replica=i) for i in range(REPLICAS)]
    return outcomes, float(np.mean([o.events for o in outcomes]))


def _check_bound(outcomes: list[TrainingOutcome]) -> None:
    for o in outcomes:
        assert o.events <= FIXED_EVENTS + EVENTS_PER_INTERRUPTION * (o.unexpected + o.planned), (
            o.events, o.unexpected, o.planned, o.checkpoints)


def _interruptions(outcomes: list[TrainingOutcome]) -> float:
    return float(np.mean([o.unexpected + o.planned for o in outcomes]))


def test_16x_the_gpus_at_the_same_aggregate_failure_rate_costs_the_same_events() -> None:
    small, small_events = _run(_setup(_scenario(gpus=1024, tokens=1e11, failures={"mtbf_s": 20_000},
                                                maintenance_per_day=1.0)))
    large, large_events = _run(_setup(_scenario(gpus=16_384, tokens=1e11, failures={"mtbf_s": 20_000},
                                                maintenance_per_day=1.0)))
    _check_bound(small)
    _check_bound(large)
    # the stragglers' slowest-of-16,384 stretches the run a little (more failures in it);
    # per interruption the cost is the same
    assert large_events / _interruptions(large) < 1.15 * small_events / _interruptions(small)
    assert large_events < 1.5 * small_events


def test_the_per_cause_table_at_16x_the_gpus_scaled_to_the_same_rate_costs_the_same_events() -> None:
    # 18 causes with per-GPU, per-node, per-switch and per-job rates; scale the big job's
    # table down so both jobs expect the same number of failures in the 54-day window
    small_setup = _setup(_scenario(gpus=1024, tokens=1e13, failures={"table": "llama3"},
                                   maintenance_per_day=0.5, window_days=54))
    big_raw = _scenario(gpus=16_384, tokens=1e13, failures={"table": "llama3"}, maintenance_per_day=0.5,
                        window_days=54)
    scale = small_setup.failure_rate_per_s / _setup(big_raw).failure_rate_per_s
    big_raw["failures"]["scale"] = scale
    big_setup = _setup(big_raw)
    assert big_setup.failure_rate_per_s * 54 * 86400 > 20  # failures do happen
    small, small_events = _run(small_setup)
    big, big_events = _run(big_setup)
    _check_bound(small)
    _check_bound(big)
    assert abs(big_events - small_events) < 0.15 * small_events


def test_10x_the_tokens_at_the_same_failure_count_costs_the_same_events() -> None:
    # 10x the steps and checkpoints; the MTBF and the maintenance gap grow 10x too, so
    # both jobs expect the same number of interruptions
    short, short_events = _run(_setup(_scenario(gpus=2048, tokens=1e11, failures={"mtbf_s": 20_000},
                                                maintenance_per_day=1.0)))
    long, long_events = _run(_setup(_scenario(gpus=2048, tokens=1e12, failures={"mtbf_s": 200_000},
                                              maintenance_per_day=0.1)))
    assert np.mean([o.checkpoints for o in long]) > 8 * np.mean([o.checkpoints for o in short])
    _check_bound(short)
    _check_bound(long)
    assert abs(long_events - short_events) < 0.2 * short_events
