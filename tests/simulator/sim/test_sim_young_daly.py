"""Closed forms for checkpointing (Young 1974, Daly 2006), checked independently."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcbench.errors import ConfigError
from simulator.sim.young_daly import (
    daly_interval_s,
    expected_efficiency,
    expected_job_wall_s,
    expected_segment_s,
    young_interval_s,
)


def test_young_is_sqrt_2cm() -> None:
    # sqrt(2 * 60 * 3600) = sqrt(432000) = 657.2670690...
    assert young_interval_s(checkpoint_s=60, mtbf_s=3600) == pytest.approx(657.267069, rel=1e-6)


@pytest.mark.parametrize(("c", "m"), [(60.0, 3600.0), (10.0, 36000.0), (300.0, 36000.0), (3.0, 11000.0)])
def test_daly_interval_is_near_the_numerical_optimum(c: float, m: float) -> None:
    # brute-force the tau that maximises tau / E[T(tau + C)] on a fine grid
    taus = np.linspace(0.05, 8.0, 200_001) * math.sqrt(2 * c * m)
    r = 120.0
    segment = m * math.exp(r / m) * np.expm1((taus + c) / m)
    best = taus[np.argmax(taus / segment)]
    assert daly_interval_s(checkpoint_s=c, mtbf_s=m) == pytest.approx(best, rel=0.02)


def test_daly_interval_for_expensive_checkpoints_is_the_mtbf() -> None:
    assert daly_interval_s(checkpoint_s=5000, mtbf_s=2000) == 2000


def test_segment_without_failures_takes_its_length() -> None:
    assert expected_segment_s(work_s=100.0, mtbf_s=1e15, restart_s=10.0) == pytest.approx(100.0, rel=1e-9)


def test_segment_formula_matches_an_independent_monte_carlo() -> None:
    # Draw exponential failures directly: every failure costs the elapsed time plus a
    # restart that itself starts over if a failure hits it.
    rng = np.random.default_rng(1234)
    x, m, r = 900.0, 1000.0, 200.0

    def through(length: float) -> float:
        total = 0.0
        while True:
            gap = rng.exponential(m)
            if gap >= length:
                return total + length
            total += gap + through_restart()

    def through_restart() -> float:
        total = 0.0
        while True:
            gap = rng.exponential(m)
            if gap >= r:
                return total + r
            total += gap

    samples = np.array([through(x) for _ in range(40_000)])
    expected = expected_segment_s(work_s=x, mtbf_s=m, restart_s=r)
    stderr = samples.std(ddof=1) / math.sqrt(samples.size)
    assert abs(samples.mean() - expected) < 4 * stderr


def test_job_wall_time_adds_segments() -> None:
    e = expected_segment_s
    total = expected_job_wall_s(total_work_s=3000, interval_s=1000, checkpoint_s=50, mtbf_s=5000, restart_s=100)
    parts = 2 * e(work_s=1050, mtbf_s=5000, restart_s=100) + e(work_s=1000, mtbf_s=5000, restart_s=100)
    assert total == pytest.approx(parts)


def test_bad_arguments_raise_config_errors() -> None:
    with pytest.raises(ConfigError):
        young_interval_s(checkpoint_s=0, mtbf_s=10)
    with pytest.raises(ConfigError):
        expected_segment_s(work_s=-1, mtbf_s=10, restart_s=0)


@settings(max_examples=200, deadline=None)
@given(
    tau=st.floats(1.0, 1e5),
    c=st.floats(0.0, 1e4),
    m=st.floats(10.0, 1e7),
    r=st.floats(0.0, 1e4),
    k=st.floats(1.01, 10.0),
)
def test_closed_form_monotonicity(tau: float, c: float, m: float, r: float, k: float) -> None:
    eff = expected_efficiency(interval_s=tau, checkpoint_s=c, mtbf_s=m, restart_s=r)
    assert 0.0 <= eff <= tau / (tau + c) * (1 + 1e-12)
    # more failures (smaller MTBF) never help; a longer checkpoint never helps
    assert expected_efficiency(interval_s=tau, checkpoint_s=c, mtbf_s=m / k, restart_s=r) <= eff * (1 + 1e-12)
    assert expected_efficiency(interval_s=tau, checkpoint_s=c * k + 1, mtbf_s=m, restart_s=r) <= eff * (1 + 1e-12)
