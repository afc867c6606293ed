"""Turn one run's measurements into the stable per-run JSON object (docs/bench.md).

Definitions:
- samples/s = batch size / median step time; tokens/s = tokens per step / median step time.
- achieved FLOP/s = analytic FLOPs per step / median step time (model FLOPs: no
  recomputation, which these workloads never do).
- MFU = achieved FLOP/s / peak FLOP/s for the run's dtype (Chowdhery et al. 2022,
  PaLM, Appendix B), the peak from the catalog or a measured matmul (``flops.peak_source``).
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any

from dcbench.harness.peak import PeakFlops
from dcbench.harness.run import RunMeasurements
from dcbench.harness.stats import CV_WARN_THRESHOLD, StepTimeStats

FLOP_AGREEMENT_WARN = 0.02  # analytic vs counted FLOPs should agree within 2% (issue 2, section 2)


def _telemetry_dict(summary: Any) -> dict[str, Any]:
    if summary is None:
        return {}
    if hasattr(summary, "to_dict"):
        return dict(summary.to_dict())
    if is_dataclass(summary) and not isinstance(summary, type):
        return asdict(summary)
    return dict(summary)


def build_summary(run: RunMeasurements, peak: PeakFlops | None, run_id: str | None) -> dict[str, Any]:
    """The per-run JSON object printed by ``dcbench bench --json`` and stored with the run."""
    cfg = run.config
    warnings: list[str] = []
    stats = StepTimeStats.from_times(run.step_times_s) if run.step_times_s else None
    median = stats.median if stats else None
    samples_per_s = run.batch_size / median if median else None
    tokens_per_s = run.tokens_per_step / median if median and run.tokens_per_step else None
    achieved = run.analytic_flops_per_step / median if median and run.analytic_flops_per_step else None
    mfu = achieved / peak.flops_per_s if achieved and peak else None
    if stats and stats.noisy:
        warnings.append(
            f"step times vary: coefficient of variation {stats.cv:.1%} > {CV_WARN_THRESHOLD:.0%}; "
            "use more --steps or a quieter machine"
        )
    agreement = None
    if run.analytic_flops_per_step and run.counted_flops_per_step:
        agreement = run.counted_flops_per_step / run.analytic_flops_per_step - 1.0
        if abs(agreement) > FLOP_AGREEMENT_WARN and run.counted_flops_note is None:
            warnings.append(
                f"counted FLOPs differ from analytic by {agreement:+.1%} (see docs/workloads.md)"
            )
    telemetry = _telemetry_dict(run.telemetry_summary)
    warnings.extend(telemetry.get("warnings", []) or [])
    energy_j = telemetry.get("energy_j")
    return {
        "run_id": run_id,
        "workload": cfg.workload,
        "size": cfg.size,
        "device": run.device,
        "device_name": run.device_name,
        "dtype": cfg.dtype,
        "status": run.status,
        "error": run.error,
        "label": cfg.label,
        "batch_size": run.batch_size,
        "steps": len(run.step_times_s),
        "warmup_steps": cfg.warmup,
        "params": run.param_count,
        "tokens_per_step": run.tokens_per_step,
        "throughput": {"samples_per_s": samples_per_s, "tokens_per_s": tokens_per_s},
        "step_time_s": stats.to_dict() if stats else None,
        "flops": {
            "per_step_analytic": run.analytic_flops_per_step,
            "per_step_counted": run.counted_flops_per_step,
            "counted_vs_analytic": agreement,
            "counter_note": run.counted_flops_note,
            "achieved_per_s": achieved,
            "peak_per_s": peak.flops_per_s if peak else None,
            "peak_source": peak.source if peak else None,
            "mfu": mfu,
        },
        "memory": {
            "peak_host_rss_bytes": run.peak_host_rss_bytes,
            "peak_device_bytes": run.peak_device_allocated_bytes,
            "peak_device_reserved_bytes": run.peak_device_reserved_bytes,
        },
        "energy": {
            "total_j": energy_j,
            "null_reason": telemetry.get("energy_null_reason") if energy_j is None else None,
            "per_sample_j": telemetry.get("energy_per_sample_j"),
            "per_token_j": telemetry.get("energy_per_token_j"),
        },
        "loss": {
            "first": run.losses[0] if run.losses else None,
            "last": run.losses[-1] if run.losses else None,
        },
        "input_pipeline": run.input_pipeline,
        "auto_batch": run.auto_batch,
        "telemetry": {
            "samples": len(run.timeline.samples) if run.timeline is not None else 0,
            "sample_hz": cfg.sample_hz,
            **{k: v for k, v in telemetry.items() if k != "warnings"},
        },
        "warnings": warnings,
    }
