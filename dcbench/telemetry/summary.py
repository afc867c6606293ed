"""The per-phase telemetry summary stored with every run: energy, power, memory, I/O.

``summarize(timeline, phase="measure", ...)`` never raises for missing data: a figure
that cannot be computed is ``None`` with its reason in ``null_reasons`` (and the
run's energy in ``energy_null_reason``). Energy (``energy_j``) is the sum over every
measured domain: each GPU the run used (``energy_gpus``; see
:mod:`dcbench.telemetry.gpu_summary`) plus each RAPL CPU package. When a domain that was sampled cannot be measured, the total
is None rather than a partial sum. ``to_dict()`` is the stable JSON documented in
``docs/telemetry.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from dcbench.telemetry.aggregate import (
    counter_growth,
    gpu_prefixes,
    in_window,
    max_of,
    mean_of,
    mean_per_item,
    nic_names,
    rapl_keys,
)
from dcbench.telemetry.energy import DISAGREEMENT_THRESHOLD, relative_disagreement
from dcbench.telemetry.gpu_summary import GpuSummary, summarize_gpu
from dcbench.telemetry.timeline import Timeline


@dataclass(kw_only=True, slots=True)
class NicSummary:
    """Traffic of one network interface over the window (counter deltas)."""

    bytes_sent: float | None = None
    bytes_recv: float | None = None
    packets_sent: float | None = None
    packets_recv: float | None = None


@dataclass(kw_only=True, slots=True)
class TelemetrySummary:
    """What the hardware did during one phase. None values have a reason in ``null_reasons``."""

    phase: str
    window_s: float | None = None  # phase duration, s
    sample_count: int = 0  # telemetry samples inside the window
    # Energy of the run (J): GPUs + CPU packages.
    energy_j: float | None = None
    energy_null_reason: str | None = None
    energy_domains: list[str] = field(default_factory=list)  # "gpu0", "rapl.package-0", ...
    energy_per_sample_j: float | None = None
    energy_per_token_j: float | None = None
    # GPU energy both ways and their comparison.
    gpu_energy_j: float | None = None
    gpu_energy_counter_j: float | None = None
    gpu_energy_integrated_j: float | None = None
    energy_disagreement: float | None = None  # |integrated - counter| / counter, all GPUs
    energy_disagreement_flag: bool = False  # some GPU's two estimates differ by more than 5 %
    window_shorter_than_counter_update: bool = False
    cpu_energy_j: float | None = None  # RAPL, all packages
    # Power (W), summed over GPUs.
    gpu_power_avg_w: float | None = None
    gpu_power_peak_w: float | None = None
    # Host.
    process_rss_peak_bytes: float | None = None
    memory_used_peak_bytes: float | None = None
    cpu_util_mean_percent: float | None = None
    cpu_core_util_mean_percent: list[float] | None = None
    disk_read_bytes: float | None = None
    disk_write_bytes: float | None = None
    disk_read_ops: float | None = None
    disk_write_ops: float | None = None
    net: dict[str, NicSummary] = field(default_factory=dict)
    gpus: list[GpuSummary] = field(default_factory=list)
    null_reasons: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (NaN becomes None)."""
        return _json_safe(asdict(self))


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


_NULLABLE_FIELDS = (
    "window_s", "energy_j", "energy_per_sample_j", "energy_per_token_j", "gpu_energy_j",
    "gpu_energy_counter_j", "gpu_energy_integrated_j", "energy_disagreement", "cpu_energy_j",
    "gpu_power_avg_w", "gpu_power_peak_w", "process_rss_peak_bytes", "memory_used_peak_bytes",
    "cpu_util_mean_percent", "cpu_core_util_mean_percent", "disk_read_bytes", "disk_write_bytes",
    "disk_read_ops", "disk_write_ops",
)


NOT_USED_REASON = "the run used none of the sampled GPUs (their idle energy is not the run's)"


def summarize(
    timeline: Timeline,
    phase: str = "measure",
    samples_processed: int | None = None,
    tokens_processed: int | None = None,
    energy_gpus: Sequence[str] | None = None,
) -> TelemetrySummary:
    """Summarise ``phase`` of ``timeline``; ``samples_processed`` / ``tokens_processed`` are
    the training samples and tokens the workload handled in that phase (for J/sample, J/token).

    ``energy_gpus`` names the GPUs ("gpu0", ...) whose energy and power belong to the run
    (None: every sampled GPU). A run on ``cuda:1`` of an 8-GPU node passes ``["gpu1"]`` so the
    other GPUs' idle draw is not charged to it; a CPU run passes ``[]``. Every sampled GPU
    still gets its own entry in ``gpus``."""
    out = TelemetrySummary(phase=phase, warnings=list(timeline.warnings))
    window = timeline.phase_window(phase)
    if window is None:
        marks = ", ".join(m.name for m in timeline.marks) or "none"
        _all_null(out, f"no {phase!r} mark in the timeline (marks: {marks})")
        return out
    t0, t1 = window
    out.window_s = t1 - t0
    samples = in_window(timeline.samples, t0, t1)
    out.sample_count = len(samples)
    counted = _gpus(out, timeline, t0, t1, energy_gpus)
    _cpu_energy(out, timeline, t0, t1)
    _total_energy(out, timeline, counted, samples_processed, tokens_processed)
    _host(out, timeline, t0, t1)
    _fill_reasons(out, "not sampled in this window")
    return out


def _all_null(out: TelemetrySummary, reason: str) -> None:
    out.energy_null_reason = reason
    _fill_reasons(out, reason)


def _fill_reasons(out: TelemetrySummary, reason: str) -> None:
    for name in _NULLABLE_FIELDS:
        if getattr(out, name) is None:
            out.null_reasons.setdefault(name, reason)
    if out.energy_j is None:
        out.energy_null_reason = out.null_reasons.get("energy_j", reason)
        out.null_reasons["energy_j"] = out.energy_null_reason


def _source_reason(timeline: Timeline, name: str) -> str:
    source = timeline.source(name)
    if source is None:
        return f"{name} was not sampled"
    return source.null_reason or f"{name} gave no readings"


def _sum_or_reason(values: list[float | None], what: str, gpus: list[GpuSummary]) -> tuple[float | None, str | None]:
    missing = [g.gpu for g, v in zip(gpus, values, strict=True) if v is None]
    if missing:
        reason = "; ".join(f"{g.gpu}: {g.null_reasons.get(what, 'not measured')}" for g in gpus if g.gpu in missing)
        return None, reason
    return sum(v for v in values if v is not None), None


_GPU_TOTALS = ("gpu_energy_j", "gpu_energy_counter_j", "gpu_energy_integrated_j",
               "energy_disagreement", "gpu_power_avg_w", "gpu_power_peak_w")


def _gpus(
    out: TelemetrySummary, timeline: Timeline, t0: float, t1: float, energy_gpus: Sequence[str] | None
) -> list[GpuSummary]:
    """Fill the per-GPU summaries and the totals over the run's GPUs; return the run's GPUs."""
    prefixes = gpu_prefixes(timeline)
    if not prefixes:
        reason = _source_reason(timeline, "nvml")
        for name in _GPU_TOTALS:
            out.null_reasons[name] = reason
        return []
    out.gpus = [summarize_gpu(timeline, p, t0, t1, out.warnings) for p in prefixes]
    counted = [g for g in out.gpus if energy_gpus is None or g.gpu in energy_gpus]
    if not counted:
        for name in _GPU_TOTALS:
            out.null_reasons[name] = NOT_USED_REASON
        return []
    for attr in ("energy_j", "energy_counter_j", "energy_integrated_j", "power_avg_w"):
        total, missing = _sum_or_reason([getattr(g, attr) for g in counted], attr, counted)
        setattr(out, f"gpu_{attr}", total)
        if missing:
            out.null_reasons[f"gpu_{attr}"] = missing
    out.window_shorter_than_counter_update = any(
        (period := timeline.counter_update_periods_s.get(f"{g.gpu}.energy_counter_j")) is not None
        and (t1 - t0) < period
        for g in counted
    )
    if out.window_shorter_than_counter_update:
        out.null_reasons["energy_disagreement"] = "window shorter than the energy counter's update period"
    elif out.gpu_energy_counter_j is not None and out.gpu_energy_integrated_j is not None:
        out.energy_disagreement = relative_disagreement(out.gpu_energy_counter_j, out.gpu_energy_integrated_j)
        if out.energy_disagreement is None:
            out.null_reasons["energy_disagreement"] = "the energy counter did not advance"
    disagreeing = [g for g in counted if g.energy_disagreement is not None and g.energy_disagreement > DISAGREEMENT_THRESHOLD]
    if disagreeing:
        out.energy_disagreement_flag = True
        detail = ", ".join(
            f"{g.gpu}: counter {g.energy_counter_j:.1f} J vs power {g.energy_integrated_j:.1f} J "
            f"({g.energy_disagreement:.1%})"
            for g in disagreeing
        )
        out.warnings.append(
            f"GPU energy counter and integrated power disagree by more than {DISAGREEMENT_THRESHOLD:.0%} "
            f"({detail}); the counter is used"
        )
    out.gpu_power_peak_w = _peak_of_sum(timeline, counted, t0, t1)
    return counted


def _peak_of_sum(timeline: Timeline, gpus: list[GpuSummary], t0: float, t1: float) -> float | None:
    """Largest per-sample sum of GPU power (instantaneous field where every GPU has it)."""
    samples = in_window(timeline.samples, t0, t1)
    for field_name in ("power_instant_w", "power_w"):
        keys = [f"{g.gpu}.{field_name}" for g in gpus]
        sums = []
        for sample in samples:
            values = [sample.values.get(k) for k in keys]
            if all(isinstance(v, int | float) for v in values):
                sums.append(sum(float(v) for v in values if isinstance(v, int | float)))
        if sums:
            return max(sums)
    return None


def _cpu_energy(out: TelemetrySummary, timeline: Timeline, t0: float, t1: float) -> None:
    keys = rapl_keys(timeline)
    if not keys:
        out.null_reasons["cpu_energy_j"] = _source_reason(timeline, "rapl")
        return
    total = 0.0
    for key in keys:
        delta = counter_growth(timeline, key, t0, t1)
        if delta is None:
            out.null_reasons["cpu_energy_j"] = timeline.null_reasons.get(key, f"{key}: fewer than two readings in the window")
            return
        if delta.resets:
            out.warnings.append(f"{key} went down {delta.resets} time(s) with no known range")
        total += delta.delta
    out.cpu_energy_j = total


def _total_energy(
    out: TelemetrySummary,
    timeline: Timeline,
    counted: list[GpuSummary],
    samples_processed: int | None,
    tokens_processed: int | None,
) -> None:
    has_gpus, has_rapl = bool(counted), bool(rapl_keys(timeline))
    if not has_gpus and not has_rapl:
        gpu_reason = NOT_USED_REASON if out.gpus else _source_reason(timeline, "nvml")
        reason = f"{gpu_reason}; {_source_reason(timeline, 'rapl')}"
    elif has_gpus and out.gpu_energy_j is None:
        reason = f"GPU energy not measured ({out.null_reasons.get('gpu_energy_j', 'unknown')})"
    elif has_rapl and out.cpu_energy_j is None:
        reason = f"CPU energy not measured ({out.null_reasons.get('cpu_energy_j', 'unknown')})"
    else:
        reason = None
        out.energy_j = (out.gpu_energy_j or 0.0) + (out.cpu_energy_j or 0.0)
        out.energy_domains = [g.gpu for g in counted] + [k.removesuffix(".energy_counter_j") for k in rapl_keys(timeline)]
    if reason is not None:
        out.null_reasons["energy_j"] = reason
    out.energy_per_sample_j = _per(out, samples_processed, "energy_per_sample_j", "training samples")
    out.energy_per_token_j = _per(out, tokens_processed, "energy_per_token_j", "tokens")


def _per(out: TelemetrySummary, count: int | None, name: str, what: str) -> float | None:
    if out.energy_j is None:
        out.null_reasons[name] = out.null_reasons.get("energy_j", "energy not measured")
        return None
    if not count or count <= 0:
        out.null_reasons[name] = f"no {what} counted for this phase"
        return None
    return out.energy_j / count


def _host(out: TelemetrySummary, timeline: Timeline, t0: float, t1: float) -> None:
    samples = in_window(timeline.samples, t0, t1)
    host_reason = _source_reason(timeline, "host")

    def keep(name: str, value: Any, key: str) -> Any:
        if value is None:
            out.null_reasons[name] = timeline.null_reasons.get(key, host_reason)
        return value

    out.process_rss_peak_bytes = keep("process_rss_peak_bytes", max_of(samples, "host.process_rss_bytes"), "host.process_rss_bytes")
    out.memory_used_peak_bytes = keep("memory_used_peak_bytes", max_of(samples, "host.memory_used_bytes"), "host.memory_used_bytes")
    out.cpu_util_mean_percent = keep("cpu_util_mean_percent", mean_of(samples, "host.cpu_util_percent"), "host.cpu_util_percent")
    out.cpu_core_util_mean_percent = keep(
        "cpu_core_util_mean_percent", mean_per_item(samples, "host.cpu_core_util_percent"), "host.cpu_core_util_percent"
    )
    for name in ("disk_read_bytes", "disk_write_bytes", "disk_read_ops", "disk_write_ops"):
        key = f"host.{name}"
        delta = counter_growth(timeline, key, t0, t1)
        setattr(out, name, keep(name, delta.delta if delta else None, key))
        if delta is not None and delta.resets:
            out.warnings.append(f"{key} went down {delta.resets} time(s) in the window (counter reset?)")
    for nic in nic_names(timeline):
        nic_out = NicSummary()
        for attr in ("bytes_sent", "bytes_recv", "packets_sent", "packets_recv"):
            delta = counter_growth(timeline, f"net.{nic}.{attr}", t0, t1)
            setattr(nic_out, attr, delta.delta if delta else None)
        out.net[nic] = nic_out
    if not out.net:
        out.null_reasons["net"] = timeline.null_reasons.get("net", host_reason)
