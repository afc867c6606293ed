"""Step-time statistics, checked against hand arithmetic."""

from __future__ import annotations

import math

import pytest

from dcbench.harness.stats import StepTimeStats


def test_percentiles_of_one_to_eleven() -> None:
    # Linear interpolation (Hyndman & Fan type 7) on 1..11: position = q*(n-1) = q*10.
    stats = StepTimeStats.from_times([float(x) for x in range(1, 12)])
    assert stats.median == 6.0
    assert stats.p5 == pytest.approx(1.5)  # position 0.5 between 1 and 2
    assert stats.p95 == pytest.approx(10.5)  # position 9.5 between 10 and 11
    assert stats.iqr == pytest.approx(8.5 - 3.5)  # p75 at position 7.5, p25 at 2.5
    assert stats.min == 1.0 and stats.max == 11.0 and stats.n == 11


def test_cv_uses_sample_standard_deviation() -> None:
    # mean 2, squared deviations 1+0+1 = 2, sample variance 2/2 = 1 -> std 1, cv 0.5
    stats = StepTimeStats.from_times([1.0, 2.0, 3.0])
    assert stats.std == pytest.approx(1.0)
    assert stats.cv == pytest.approx(0.5)
    assert stats.noisy


def test_steady_times_are_not_noisy() -> None:
    times = [0.100, 0.101, 0.099, 0.100, 0.1005]
    stats = StepTimeStats.from_times(times)
    assert stats.cv < 0.10
    assert not stats.noisy
    assert math.isclose(stats.mean, sum(times) / len(times))


def test_single_step_has_zero_spread() -> None:
    stats = StepTimeStats.from_times([0.25])
    assert stats.median == stats.p5 == stats.p95 == 0.25
    assert stats.std == 0.0 and stats.iqr == 0.0


def test_empty_is_rejected() -> None:
    with pytest.raises(ValueError):
        StepTimeStats.from_times([])
