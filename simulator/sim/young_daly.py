"""Closed forms for periodic checkpointing under exponential failures.

Symbols (all in seconds): ``mtbf_s`` M, mean time between failures of the whole
job; ``checkpoint_s`` C, the blocking cost of one checkpoint; ``restart_s`` R, the
downtime after a failure; ``interval_s`` tau, the computing time between two
checkpoints. Failures form a Poisson process and strike at any moment, also
during a checkpoint and during a restart (a restart hit by a failure starts over).

Sources: J. W. Young, "A first order approximation to the optimum checkpoint
interval", CACM 17(9), 1974; J. T. Daly, "A higher order estimate of the optimum
checkpoint interval for restart dumps", Future Generation Computer Systems 22(3),
2006. The derivation of :func:`expected_segment_s` is in docs/simulate.md.
"""

from __future__ import annotations

import math

from dcbench.errors import ConfigError


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not (value > 0 and math.isfinite(value)):
            raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")


def young_interval_s(*, checkpoint_s: float, mtbf_s: float) -> float:
    """Young's first-order optimum compute time between checkpoints: sqrt(2 C M), seconds."""
    _check_positive(checkpoint_s=checkpoint_s, mtbf_s=mtbf_s)
    return math.sqrt(2.0 * checkpoint_s * mtbf_s)


def daly_interval_s(*, checkpoint_s: float, mtbf_s: float) -> float:
    """Daly's higher-order optimum compute time between checkpoints, seconds.

    tau = sqrt(2 C M) [1 + (1/3) sqrt(C / 2M) + (1/9) (C / 2M)] - C  for C < 2M,
    tau = M otherwise (Daly 2006, the higher-order estimate).
    """
    _check_positive(checkpoint_s=checkpoint_s, mtbf_s=mtbf_s)
    if checkpoint_s >= 2.0 * mtbf_s:
        return mtbf_s
    ratio = checkpoint_s / (2.0 * mtbf_s)
    return math.sqrt(2.0 * checkpoint_s * mtbf_s) * (
        1.0 + math.sqrt(ratio) / 3.0 + ratio / 9.0
    ) - checkpoint_s


def expected_segment_s(*, work_s: float, mtbf_s: float, restart_s: float) -> float:
    """Expected wall time to get through ``work_s`` seconds of failure-exposed work.

    E[T] = M e^(R/M) (e^(x/M) - 1) with x = work_s (Daly 2006, the expected run
    time when failures also strike during restarts). For one checkpoint segment
    x = tau + C; for the last segment of a job (no checkpoint after it) x = tau.
    """
    _check_positive(mtbf_s=mtbf_s)
    if work_s < 0 or restart_s < 0:
        raise ConfigError("work_s and restart_s must be >= 0")
    if work_s == 0:
        return 0.0
    try:
        return mtbf_s * math.exp(restart_s / mtbf_s) * math.expm1(work_s / mtbf_s)
    except OverflowError:
        return math.inf  # the job practically never gets through


def expected_efficiency(
    *, interval_s: float, checkpoint_s: float, mtbf_s: float, restart_s: float
) -> float:
    """Expected fraction of wall time spent on kept computation: tau / E[T(tau + C)].

    The long-run efficiency of periodic checkpointing (Daly 2006); 1.0 means no
    overhead at all. Dimensionless.
    """
    _check_positive(interval_s=interval_s)
    segment_s = expected_segment_s(
        work_s=interval_s + checkpoint_s, mtbf_s=mtbf_s, restart_s=restart_s
    )
    return interval_s / segment_s


def expected_job_wall_s(
    *, total_work_s: float, interval_s: float, checkpoint_s: float, mtbf_s: float, restart_s: float
) -> float:
    """Expected wall time of a whole job of ``total_work_s`` compute seconds, seconds.

    The job is cut into segments of ``interval_s`` compute, each followed by a
    checkpoint except the last (which ends the job): the sum of
    :func:`expected_segment_s` over the segments (failures are memoryless, so the
    segments are independent).
    """
    _check_positive(total_work_s=total_work_s, interval_s=interval_s)
    full = math.ceil(total_work_s / interval_s - 1e-12) - 1
    last_s = total_work_s - full * interval_s
    return full * expected_segment_s(
        work_s=interval_s + checkpoint_s, mtbf_s=mtbf_s, restart_s=restart_s
    ) + expected_segment_s(work_s=last_s, mtbf_s=mtbf_s, restart_s=restart_s)
