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


def test_efficiency_matches_daly_for_a_long_job() -> None:
    interval_s = 600.0
    s = setup(compute_s=10 * WORK_S, mtbf_s=M, restart_s=R, checkpoint=blocking(interval_s, C))
    outcomes = run(s, 40, seed=3)
    efficiency = sum(o.useful_s for o in outcomes) / sum(o.wall_s for o in outcomes)
    closed = expected_efficiency(interval_s=interval_s, checkpoint_s=C, mtbf_s=M, restart_s=R)
    assert efficiency == pytest.approx(closed, abs=0.01)


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
