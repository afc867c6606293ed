"""One GPU's figures over a phase window: energy both ways, power, utilisation, links.

Energy per GPU (see :mod:`dcbench.telemetry.energy` for the arithmetic):

- ``energy_counter_j``: delta of ``energy_counter_j`` (NVML total-energy counter);
- ``energy_integrated_j``: trapezoid of ``power_instant_w`` where the driver offers
  it, else of ``power_w`` (a 1 s average on Ampere and newer, so it lags steps);
- ``energy_j``: the counter delta, unless the window is shorter than the counter's
  update period or the counter is missing (then the integrated power); None when
  neither can measure the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dcbench.telemetry.aggregate import (
    counter_growth,
    in_window,
    max_of,
    mean_of,
    throttle_reasons_seen,
)
from dcbench.telemetry.energy import integrate, relative_disagreement, series
from dcbench.telemetry.timeline import Timeline

COVERAGE_WARN_FRACTION = 0.9  # warn when samples span less than 90 % of the window


@dataclass(kw_only=True, slots=True)
class GpuSummary:
    """Figures of one GPU over the window; None values have a reason in ``null_reasons``."""

    gpu: str  # key prefix, "gpu0" = CUDA ordinal 0
    device: str | None = None  # name, UUID and NVML index as recorded
    energy_j: float | None = None  # the value used for the run's energy, J
    energy_method: str | None = None  # "counter" or "integrated_power"
    energy_counter_j: float | None = None  # total-energy counter delta, J
    energy_integrated_j: float | None = None  # trapezoid of power, J
    energy_disagreement: float | None = None  # |integrated - counter| / counter
    power_avg_w: float | None = None  # integrated energy / covered time, W
    power_peak_w: float | None = None  # highest power sample, W
    util_mean_percent: float | None = None
    memory_used_peak_bytes: float | None = None
    temperature_peak_c: float | None = None
    sm_clock_mean_hz: float | None = None
    pcie_tx_bytes: float | None = None  # over the window
    pcie_rx_bytes: float | None = None
    nvlink_tx_bytes: float | None = None  # all links summed, over the window
    nvlink_rx_bytes: float | None = None
    throttle_reasons: list[str] | None = None  # every reason seen in the window
    null_reasons: dict[str, str] = field(default_factory=dict)


def _reason(timeline: Timeline, key: str, fallback: str) -> str:
    return timeline.null_reasons.get(key, fallback)


def summarize_gpu(
    timeline: Timeline, prefix: str, t0: float, t1: float, warnings: list[str]
) -> GpuSummary:
    """Summarise GPU ``prefix`` over [t0, t1]; problems are appended to ``warnings``."""
    window = in_window(timeline.samples, t0, t1)
    nvml = timeline.source("nvml")
    out = GpuSummary(gpu=prefix, device=nvml.details.get(prefix) if nvml else None)
    reasons = out.null_reasons
    window_s = t1 - t0

    def keep(name: str, value: float | None, key: str) -> float | None:
        if value is None:
            reasons[name] = _reason(timeline, key, "not sampled in this window")
        return value

    # Energy from the counter.
    counter_key = f"{prefix}.energy_counter_j"
    delta = counter_growth(timeline, counter_key, t0, t1)
    update_s = timeline.counter_update_periods_s.get(counter_key)
    too_short = update_s is not None and window_s < update_s
    if delta is None:
        reasons["energy_counter_j"] = _reason(timeline, counter_key, "fewer than two counter readings in the window")
    else:
        out.energy_counter_j = delta.delta
        if delta.resets:
            warnings.append(f"{counter_key} went down {delta.resets} time(s) in the window (driver reload?)")
        if delta.covered_s < COVERAGE_WARN_FRACTION * window_s:
            warnings.append(f"{prefix}: energy counter readings cover {delta.covered_s:.3f} s of the {window_s:.3f} s window")

    # Energy from integrated power.
    power_key = f"{prefix}.power_instant_w"
    integrated = integrate(series(timeline.samples, power_key), t0, t1)
    if integrated is None:  # no instantaneous field on this driver: the averaged reading
        power_key = f"{prefix}.power_w"
        integrated = integrate(series(timeline.samples, power_key), t0, t1)
    if integrated is None:
        reasons["energy_integrated_j"] = _reason(timeline, power_key, "fewer than two power readings in the window")
        reasons["power_avg_w"] = reasons["energy_integrated_j"]
    else:
        out.energy_integrated_j, covered = integrated
        out.power_avg_w = out.energy_integrated_j / covered if covered > 0 else None
        if out.power_avg_w is None:
            reasons["power_avg_w"] = "power samples span no time"
    out.power_peak_w = keep("power_peak_w", max_of(window, power_key), power_key)

    # Choose, compare, flag.
    if out.energy_counter_j is not None and not too_short:
        out.energy_j, out.energy_method = out.energy_counter_j, "counter"
    elif out.energy_integrated_j is not None:
        out.energy_j, out.energy_method = out.energy_integrated_j, "integrated_power"
    elif too_short:
        reasons["energy_j"] = (
            "window shorter than the energy counter's update period, and no power readings to integrate"
        )
    else:
        reasons["energy_j"] = reasons.get("energy_counter_j", "no energy counter or power readings")
    if too_short:
        warnings.append(
            f"{prefix}: the {window_s * 1e3:.1f} ms window is shorter than the energy counter's "
            f"~{(update_s or 0) * 1e3:.0f} ms update period; energy is from integrated power"
        )
    if too_short:
        reasons["energy_disagreement"] = "window shorter than the energy counter's update period"
    elif out.energy_counter_j is not None and out.energy_integrated_j is not None:
        out.energy_disagreement = relative_disagreement(out.energy_counter_j, out.energy_integrated_j)
        if out.energy_disagreement is None:
            reasons["energy_disagreement"] = "the energy counter did not advance"
    else:
        reasons["energy_disagreement"] = "needs both the counter and integrated power"

    # Everything else.
    out.util_mean_percent = keep("util_mean_percent", mean_of(window, f"{prefix}.util_percent"), f"{prefix}.util_percent")
    out.memory_used_peak_bytes = keep(
        "memory_used_peak_bytes", max_of(window, f"{prefix}.memory_used_bytes"), f"{prefix}.memory_used_bytes"
    )
    out.temperature_peak_c = keep(
        "temperature_peak_c", max_of(window, f"{prefix}.temperature_c"), f"{prefix}.temperature_c"
    )
    out.sm_clock_mean_hz = keep("sm_clock_mean_hz", mean_of(window, f"{prefix}.sm_clock_hz"), f"{prefix}.sm_clock_hz")
    for link in ("pcie", "nvlink"):
        for direction in ("tx", "rx"):
            name = f"{link}_{direction}_bytes"
            value = _bytes_over_window(timeline, f"{prefix}.{name}", t0, t1)
            if value is None and link == "pcie":  # rate fallback: mean rate x window
                rate = mean_of(window, f"{prefix}.{name}_per_s")
                value = rate * window_s if rate is not None else None
            setattr(out, name, keep(name, value, f"{prefix}.{name}"))
    out.throttle_reasons = throttle_reasons_seen(window, f"{prefix}.throttle_reasons_mask")
    if out.throttle_reasons is None:
        reasons["throttle_reasons"] = _reason(timeline, f"{prefix}.throttle_reasons_mask", "not sampled")
    return out


def _bytes_over_window(timeline: Timeline, key: str, t0: float, t1: float) -> float | None:
    delta = counter_growth(timeline, key, t0, t1)
    return delta.delta if delta is not None else None
