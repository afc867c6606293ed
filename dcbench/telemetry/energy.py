"""Energy from recorded samples: counter deltas with wrap-around, and integrated power.

Pure functions over ``(t_s, value)`` points; nothing here reads hardware.

Two independent estimates of a device's energy over a window [t0, t1]:

- **Counter delta**: the hardware's cumulative energy counter (NVML
  ``nvmlDeviceGetTotalEnergyConsumption``, RAPL ``energy_uj``) at t1 minus at t0.
  Each step between successive samples is unwrapped first: a step that goes down
  adds the counter's modulus when it is known (RAPL's ``max_energy_range_uj + 1``),
  and is otherwise taken as a reset to 0 (the new value is the step). Values at t0
  and t1 are interpolated linearly between the samples around them.
- **Integrated power**: the trapezoid rule over power samples,
  E = sum_i (P_i + P_{i+1}) / 2 * (t_{i+1} - t_i), with P interpolated at t0 and t1.

The two disagree when |E_power - E_counter| / E_counter > 5 % (the threshold the
dcbench issue sets). A window shorter than the counter's update period (NVML ~100 ms,
RAPL ~1 ms; see ``nvml.py`` and ``rapl.py`` for the sources) cannot be measured by the
counter, which may not have moved at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from dcbench.telemetry.timeline import Sample

Point = tuple[float, float]  # (t_s, value)

DISAGREEMENT_THRESHOLD = 0.05  # relative; the issue: "flag a disagreement above 5%"


def series(samples: Iterable[Sample], key: str) -> list[Point]:
    """The finite numeric values of ``key`` over time, in sample order."""
    points: list[Point] = []
    for sample in samples:
        value = sample.values.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            points.append((sample.t_s, float(value)))
    return points


@dataclass(kw_only=True, slots=True, frozen=True)
class Unwrapped:
    """A counter made monotonic: cumulative growth since the first point."""

    points: list[Point]  # (t_s, growth since the first point), never decreasing
    wraps: int  # steps that went down and were unwrapped with the known modulus
    resets: int  # steps that went down with no known modulus (taken as restarts from 0)


def unwrap(points: list[Point], modulus: float | None = None) -> Unwrapped:
    """Turn raw counter readings into non-decreasing growth since the first reading."""
    if not points:
        return Unwrapped(points=[], wraps=0, resets=0)
    out: list[Point] = [(points[0][0], 0.0)]
    total = 0.0
    wraps = resets = 0
    for (_, prev), (t, value) in zip(points, points[1:], strict=False):
        step = value - prev
        if step < 0:
            if modulus:
                step += modulus
                wraps += 1
            else:
                step = value  # the counter restarted from 0
                resets += 1
        total += step
        out.append((t, total))
    return Unwrapped(points=out, wraps=wraps, resets=resets)


def interpolate(points: list[Point], t: float) -> float | None:
    """Linear interpolation at ``t``; None outside the points' time range."""
    if not points or t < points[0][0] or t > points[-1][0]:
        return None
    for (t_a, v_a), (t_b, v_b) in zip(points, points[1:], strict=False):
        if t_a <= t <= t_b:
            if t_b == t_a:
                return v_b
            return v_a + (v_b - v_a) * (t - t_a) / (t_b - t_a)
    return points[-1][1]  # a single point at exactly t


def clip(points: list[Point], t0: float, t1: float) -> list[Point]:
    """The points inside [t0, t1], with interpolated values added at t0 and t1.

    Where the data start after t0 (or end before t1) the clipped series starts
    (ends) at the first (last) point instead: the window is only partly covered.
    """
    if not points or t1 < points[0][0] or t0 > points[-1][0]:
        return []
    start = max(t0, points[0][0])
    end = min(t1, points[-1][0])
    inside = [(t, v) for t, v in points if start < t < end]
    first = interpolate(points, start)
    last = interpolate(points, end)
    if first is None or last is None:  # cannot happen: start and end lie within the data
        return []
    if end == start:
        return [(start, first)]
    return [(start, first), *inside, (end, last)]


def covered_s(points: list[Point]) -> float:
    """Time span of a clipped series (0 for fewer than two points)."""
    return points[-1][0] - points[0][0] if len(points) >= 2 else 0.0


@dataclass(kw_only=True, slots=True, frozen=True)
class CounterDelta:
    """The growth of one counter over a window."""

    delta: float  # in the counter's unit (J for energy counters)
    covered_s: float  # part of the window the samples span
    wraps: int
    resets: int


def counter_delta(points: list[Point], t0: float, t1: float, modulus: float | None = None) -> CounterDelta | None:
    """Counter growth from t0 to t1 (wrap-safe), or None with fewer than two readings in reach."""
    unwrapped = unwrap(points, modulus)
    clipped = clip(unwrapped.points, t0, t1)
    if len(clipped) < 2:
        return None
    # Count only wraps/resets that happened inside the window.
    inside = [(t, v) for t, v in points if clipped[0][0] <= t <= clipped[-1][0]]
    local = unwrap(inside, modulus)
    return CounterDelta(
        delta=clipped[-1][1] - clipped[0][1],
        covered_s=covered_s(clipped),
        wraps=local.wraps,
        resets=local.resets,
    )


def trapezoid(points: list[Point]) -> float:
    """Integral of a sampled signal by the trapezoid rule (value unit x seconds)."""
    return sum((v_a + v_b) / 2.0 * (t_b - t_a) for (t_a, v_a), (t_b, v_b) in zip(points, points[1:], strict=False))


def integrate(points: list[Point], t0: float, t1: float) -> tuple[float, float] | None:
    """(integral over [t0, t1], covered seconds) of a sampled signal, or None when unsampled."""
    clipped = clip(points, t0, t1)
    if len(clipped) < 2:
        return None
    return trapezoid(clipped), covered_s(clipped)


def relative_disagreement(counter_j: float, integrated_j: float) -> float | None:
    """|integrated - counter| / counter; None when the counter delta is not positive."""
    if counter_j <= 0:
        return None
    return abs(integrated_j - counter_j) / counter_j
