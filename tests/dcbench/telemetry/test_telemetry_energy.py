"""The energy arithmetic on hand-made series: counter deltas with wrap, trapezoids, disagreement."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcbench.telemetry.energy import (
    clip,
    counter_delta,
    integrate,
    interpolate,
    relative_disagreement,
    trapezoid,
    unwrap,
)

RAPL_MODULUS_J = 262143.328851  # (max_energy_range_uj 262143328850 + 1) / 1e6


def test_a_step_down_with_a_known_modulus_is_a_wrap() -> None:
    # 10 J before the top, then 5 J past zero: 10 + 5 = 15 J.
    result = unwrap([(0.0, RAPL_MODULUS_J - 10.0), (1.0, 5.0)], RAPL_MODULUS_J)
    assert result.points[-1][1] == pytest.approx(15.0)
    assert (result.wraps, result.resets) == (1, 0)


def test_a_step_down_without_a_modulus_is_a_reset_from_zero() -> None:
    # 100 -> 130 (+30), then reset, 7 counted since the reset (+7), then 7 -> 17 (+10): 47.
    result = unwrap([(0.0, 100.0), (1.0, 130.0), (2.0, 7.0), (3.0, 17.0)])
    assert result.points[-1][1] == pytest.approx(47.0)
    assert (result.wraps, result.resets) == (0, 1)


def test_counter_delta_interpolates_at_window_edges() -> None:
    # A counter growing 100 J/s sampled every 0.1 s; the window [0.05, 0.15] holds 10 J.
    points = [(0.0, 500.0), (0.1, 510.0), (0.2, 520.0)]
    delta = counter_delta(points, 0.05, 0.15)
    assert delta is not None
    assert delta.delta == pytest.approx(10.0)
    assert delta.covered_s == pytest.approx(0.1)


def test_counter_delta_reports_partial_coverage() -> None:
    # Data from 1.0 to 2.0 s only; a window [0.0, 2.0] is covered for 1 s.
    delta = counter_delta([(1.0, 0.0), (2.0, 50.0)], 0.0, 2.0)
    assert delta is not None
    assert delta.delta == pytest.approx(50.0)
    assert delta.covered_s == pytest.approx(1.0)


def test_counter_delta_needs_two_readings() -> None:
    assert counter_delta([(1.0, 5.0)], 0.0, 2.0) is None
    assert counter_delta([], 0.0, 2.0) is None
    assert counter_delta([(0.0, 1.0), (1.0, 2.0)], 5.0, 6.0) is None  # window after the data


def test_trapezoid_by_hand() -> None:
    # 0 -> 10 W over 1 s = 5 J; 10 W flat for 2 s = 20 J.
    assert trapezoid([(0.0, 0.0), (1.0, 10.0), (3.0, 10.0)]) == pytest.approx(25.0)


def test_integrate_clips_to_the_window() -> None:
    # 100 W flat from 0 to 10 s; the window [2.5, 4.0] holds 150 J.
    energy, covered = integrate([(float(t), 100.0) for t in range(11)], 2.5, 4.0) or (None, None)
    assert energy == pytest.approx(150.0)
    assert covered == pytest.approx(1.5)


def test_interpolate_outside_the_data_is_none() -> None:
    points = [(1.0, 10.0), (2.0, 20.0)]
    assert interpolate(points, 0.5) is None
    assert interpolate(points, 2.5) is None
    assert interpolate(points, 1.25) == pytest.approx(12.5)


def test_clip_adds_edge_points() -> None:
    assert clip([(0.0, 0.0), (1.0, 10.0)], 0.2, 0.6) == [(0.2, pytest.approx(2.0)), (0.6, pytest.approx(6.0))]


def test_relative_disagreement() -> None:
    assert relative_disagreement(100.0, 94.0) == pytest.approx(0.06)
    assert relative_disagreement(100.0, 106.0) == pytest.approx(0.06)
    assert relative_disagreement(0.0, 5.0) is None  # no counter movement: nothing to compare


@settings(max_examples=60, deadline=None)
@given(
    start=st.floats(min_value=0.0, max_value=1000.0),
    steps=st.lists(st.floats(min_value=0.0, max_value=900.0), min_size=1, max_size=40),
)
def test_wrapped_counter_recovers_the_true_growth(start: float, steps: list[float]) -> None:
    """Property: reading a growing counter modulo M (steps < M) loses nothing after unwrapping."""
    modulus = 1000.0
    true_values = [start]
    for step in steps:
        true_values.append(true_values[-1] + step)
    readings = [(float(i), value % modulus) for i, value in enumerate(true_values)]
    delta = counter_delta(readings, 0.0, float(len(steps)), modulus)
    assert delta is not None
    assert delta.delta == pytest.approx(sum(steps), abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    power_w=st.floats(min_value=1.0, max_value=1500.0),
    gaps=st.lists(st.floats(min_value=0.001, max_value=1.0), min_size=1, max_size=30),
)
def test_constant_power_integrates_to_power_times_time(power_w: float, gaps: list[float]) -> None:
    """Property: for any sample spacing, a constant power P over T seconds gives P * T joules."""
    times = [0.0]
    for gap in gaps:
        times.append(times[-1] + gap)
    energy = trapezoid([(t, power_w) for t in times])
    assert energy == pytest.approx(power_w * times[-1], rel=1e-9)
