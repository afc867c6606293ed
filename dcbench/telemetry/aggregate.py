"""Window statistics over a recorded timeline: means, peaks, counter deltas, throttle reasons.

Pure functions; the energy arithmetic itself lives in :mod:`dcbench.telemetry.energy`.
Means are plain arithmetic means of the samples inside the window (the sampler ticks
at a fixed rate, so this equals the time-weighted mean up to the edge samples).
"""

from __future__ import annotations

import math
import re

from dcbench.telemetry.energy import CounterDelta, counter_delta, series
from dcbench.telemetry.timeline import Sample, Timeline

# nvml.h, nvmlClocksEventReason* / nvmlClocksThrottleReason* bit values.
THROTTLE_REASON_BITS: tuple[tuple[int, str], ...] = (
    (0x1, "gpu_idle"),
    (0x2, "applications_clocks_setting"),
    (0x4, "sw_power_cap"),
    (0x8, "hw_slowdown"),
    (0x10, "sync_boost"),
    (0x20, "sw_thermal_slowdown"),
    (0x40, "hw_thermal_slowdown"),
    (0x80, "hw_power_brake_slowdown"),
    (0x100, "display_clock_setting"),
)

_GPU_KEY = re.compile(r"^gpu(\d+)\.")
_NIC_KEY = re.compile(r"^net\.(.+)\.(?:bytes_sent|bytes_recv|packets_sent|packets_recv)$")


def in_window(samples: list[Sample], t0: float, t1: float) -> list[Sample]:
    """Samples with t0 <= t_s <= t1."""
    return [s for s in samples if t0 <= s.t_s <= t1]


def _numbers(samples: list[Sample], key: str) -> list[float]:
    return [v for _, v in series(samples, key)]


def mean_of(samples: list[Sample], key: str) -> float | None:
    """Mean of ``key`` over the samples that have a number for it; None when none do."""
    values = _numbers(samples, key)
    return sum(values) / len(values) if values else None


def max_of(samples: list[Sample], key: str) -> float | None:
    """Largest value of ``key``; None when no sample has a number for it."""
    values = _numbers(samples, key)
    return max(values) if values else None


def mean_per_item(samples: list[Sample], key: str) -> list[float] | None:
    """Element-wise mean of a list-valued key (per-core utilisation); None when absent."""
    rows = [v for v in (s.values.get(key) for s in samples) if isinstance(v, list) and v]
    if not rows:
        return None
    width = min(len(r) for r in rows)
    out = []
    for i in range(width):
        column = [r[i] for r in rows if math.isfinite(r[i])]
        out.append(sum(column) / len(column) if column else math.nan)
    return out


def counter_growth(timeline: Timeline, key: str, t0: float, t1: float) -> CounterDelta | None:
    """Wrap-safe growth of counter ``key`` over [t0, t1] (modulus from the timeline)."""
    return counter_delta(series(timeline.samples, key), t0, t1, timeline.counter_ranges.get(key))


def decode_throttle(mask: int) -> list[str]:
    """Names of the set bits of an NVML clocks-event (throttle) reason mask."""
    return [name for bit, name in THROTTLE_REASON_BITS if mask & bit]


def throttle_reasons_seen(samples: list[Sample], key: str) -> list[str] | None:
    """Every reason set in any sample, in bit order; None when the mask was never read."""
    masks = [int(v) for _, v in series(samples, key)]
    if not masks:
        return None
    union = 0
    for mask in masks:
        union |= mask
    return decode_throttle(union)


def gpu_prefixes(timeline: Timeline) -> list[str]:
    """The GPU key prefixes ("gpu0", "gpu1", ...) in the timeline, in numeric order."""
    numbers = {int(m.group(1)) for key in timeline.value_keys() if (m := _GPU_KEY.match(key))}
    return [f"gpu{n}" for n in sorted(numbers)]


def nic_names(timeline: Timeline) -> list[str]:
    """Network interfaces with counters in the timeline (names may contain dots: eth0.100)."""
    return sorted({m.group(1) for key in timeline.value_keys() if (m := _NIC_KEY.match(key))})


def rapl_keys(timeline: Timeline) -> list[str]:
    """The RAPL package energy counter keys in the timeline."""
    return [k for k in timeline.value_keys() if k.startswith("rapl.") and k.endswith(".energy_counter_j")]
