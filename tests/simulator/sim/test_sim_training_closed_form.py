"""The training engine against Young/Daly's closed form for periodic checkpointing.

Only one failure process (exponential, MTBF M), a blocking checkpoint of cost C
every tau of training and a restart R that failures can also hit: the expected
wall time is the sum of Daly's per-segment expectation (docs/simulate.md), and
the simulated mean must fall within 4 standard errors of it.
"""

from __future__ import annotations

import numpy as np
import pytest
from simtest_helpers import blocking, mean_and_stderr, run, setup

from simulator.sim.young_daly import daly_interval_s, expected_efficiency, expected_job_wall_s

M, C, R = 3600.0, 60.0, 120.0
WORK_S = 100 * 3600.0  # 100 hours of healthy compute: ~130 failures per replica
REPLICAS = 150


@pytest.mark.parametrize("interval_s", [150.0, 400.0, 700.0, 1500.0, 4000.0])
def test_mean_wall_time_matches_daly(interval_s: float) -> None:
    s = setup(compute_s=WORK_S, mtbf_s=M, restart_s=R, checkpoint=blocking(interval_s, C))
    walls = [o.wall_s for o in run(s, REPLICAS, seed=7)]
    mean, stderr = mean_and_stderr(walls)
    expected = expected_job_wall_s(
        total_work_s=WORK_S, interval_s=interval_s, checkpoint_s=C, mtbf_s=M, restart_s=R
    )
    assert abs(mean - expected) < 4 * stderr, (mean, expected, stderr)


def test_failures_during_restarts_start_them_over() -> None:
    # R = M/2: a restart is hit with probability 1 - e^(-1/2) = 39%, so Daly's e^(R/M) = 1.65
    # factor matters; an engine that let restarts finish would come out ~25% too fast
    restart_s, interval_s = 1800.0, 700.0
    s = setup(compute_s=WORK_S / 2, mtbf_s=M, restart_s=restart_s, checkpoint=blocking(interval_s, C))
    outcomes = run(s, REPLICAS, seed=21)
    mean, stderr = mean_and_stderr([o.wall_s for o in outcomes])
    expected = expected_job_wall_s(
        total_work_s=WORK_S / 2, interval_s=interval_s, checkpoint_s=C, mtbf_s=M, restart_s=restart_s
    )
    assert abs(mean - expected) < 4 * stderr, (mean, expected, stderr)
    # a restart is at most R long per failure, and shorter only when a failure cut it
    for o in outcomes:
        assert o.restart_s <= restart_s * o.unexpected + 1e-6


def test_efficiency_matches_daly_for_a_long_job() -> None:
    # efficiency = W / mean(wall) for a job of W compute seconds; its standard error
    # by the delta method is efficiency x stderr(wall) / mean(wall). The last segment
    # (no checkpoint after it) moves the long-run value by ~1e-5 here, far below that.
    interval_s = 600.0
    work_s = 10 * WORK_S
    s = setup(compute_s=work_s, mtbf_s=M, restart_s=R, checkpoint=blocking(interval_s, C))
    outcomes = run(s, 40, seed=3)
    assert all(o.useful_s == pytest.approx(work_s) for o in outcomes)
    mean_wall, stderr_wall = mean_and_stderr([o.wall_s for o in outcomes])
    efficiency = work_s / mean_wall
    stderr = efficiency * stderr_wall / mean_wall
    closed = expected_efficiency(interval_s=interval_s, checkpoint_s=C, mtbf_s=M, restart_s=R)
    assert abs(efficiency - closed) < 4 * stderr, (efficiency, closed, stderr)


def test_a_failure_during_a_checkpoint_write_loses_the_whole_interval() -> None:
    # M >> tau + C: failures fall uniformly over the cycle of tau training + C writing.
    # In training (share tau/(tau+C)) they lose U(0, tau), tau/2 on average; during the
    # write (share C/(tau+C)) the checkpoint is not safe yet, so they lose all tau.
    # Mean lost work per failure: (tau^2/2 + C tau) / (tau + C) = 450 s for tau = C = 600 s
    # (300 s if a write in progress counted as safe).
    tau, write_s = 600.0, 600.0
    s = setup(compute_s=4 * WORK_S, mtbf_s=100_000.0, restart_s=0.0, checkpoint=blocking(tau, write_s))
    outcomes = run(s, 60, seed=13)
    failures = sum(o.unexpected for o in outcomes)
    lost_per_failure = sum(o.lost_work_s for o in outcomes) / failures
    # U(0, tau) has sd tau/sqrt(12); the mixture's sd is below tau/2: 4 sd / sqrt(n) bounds it
    assert abs(lost_per_failure - 450.0) < 4 * (tau / 2) / failures**0.5, (lost_per_failure, failures)
    # the cut writes are checkpoint overhead: 9 writes per 10 cycles, plus the cut ones
    for o in outcomes:
        written = o.checkpoints * write_s
        assert written - 1e-6 <= o.checkpoint_s <= written + o.unexpected * write_s + 1e-6


def test_simulated_best_interval_is_near_young_daly() -> None:
    daly = daly_interval_s(checkpoint_s=C, mtbf_s=M)
    factors = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
    means = []
    for factor in factors:
        s = setup(compute_s=WORK_S, mtbf_s=M, restart_s=R, checkpoint=blocking(factor * daly, C))
        means.append(np.mean([o.wall_s for o in run(s, 100, seed=11)]))
    best = factors[int(np.argmin(means))]
    assert 0.75 <= best <= 1.5, dict(zip(factors, means, strict=True))


def test_without_failures_the_job_takes_compute_plus_checkpoints() -> None:
    # 10 segments of 1000 s, 9 checkpoints of 30 s in between: 10,270 s exactly
    s = setup(compute_s=10_000.0, mtbf_s=None, checkpoint=blocking(1000.0, 30.0))
    (o,) = run(s, 1)
    assert o.wall_s == pytest.approx(10_270.0)
    assert o.checkpoints == 9
    assert o.effective_training_time_fraction == pytest.approx(10_000 / 10_270)
    assert o.unexpected == 0 and o.lost_work_s == 0


def test_without_checkpoints_a_failure_loses_everything_since_the_start() -> None:
    s = setup(compute_s=50_000.0, mtbf_s=20_000.0, restart_s=0.0, checkpoint=None)
    for o in run(s, 20, seed=5):
        assert o.checkpoints == 0
        # every run before the last was lost entirely
        assert o.useful_s == pytest.approx(50_000.0)
        assert o.lost_work_s == pytest.approx(o.wall_s - 50_000.0)
