"""Measure one run and write it to the results store.

The run row is created (status ``running``) once the workload is built, so bad
input never leaves a row behind; it is finished in one transaction with its
summary, every step time and the telemetry timeline. Ctrl-C finishes the row
as ``interrupted`` with the steps measured so far.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dcbench.harness.config import BenchConfig
from dcbench.harness.peak import PeakFlops, device_peak
from dcbench.harness.run import RunMeasurements, StepCallback, measure
from dcbench.harness.summary import build_summary


def _timeline_dict(timeline: Any) -> dict[str, Any] | None:
    if timeline is None:
        return None
    return dict(timeline.to_dict())


def run_and_record(
    config: BenchConfig, store_path: Path, on_step: StepCallback | None = None
) -> dict[str, Any]:
    """Run ``config``, store it at ``store_path`` and return the run's summary object."""
    from dcbench.hardware.detect import host_info
    from dcbench.store import ResultsStore

    store = ResultsStore.open(store_path)  # fails fast (one line) on an unwritable store
    run_id: str | None = None
    metadata = host_info().to_dict()

    def begin(run: RunMeasurements) -> None:
        nonlocal run_id
        run_id = store.begin_run(
            workload=run.config.workload,
            size=run.config.size,
            device=run.device,
            dtype=run.config.dtype,
            label=run.config.label,
            config=run.config.to_dict(),
            metadata={**metadata, "device_name": run.device_name},
        )

    try:
        run = measure(config, on_step=on_step, on_start=begin)
        peak: PeakFlops | None = None
        if run.status == "ok":
            peak = device_peak(run.device, run.device_name, run.config.dtype)
        summary = build_summary(run, peak, run_id)
        if run_id is not None:
            store.finish_run(
                run_id,
                status=run.status,
                summary=summary,
                step_times_s=run.step_times_s,
                timeline=_timeline_dict(run.timeline),
                error=run.error if run.error_traceback is None else f"{run.error}\n{run.error_traceback}",
            )
        return summary
    finally:
        store.close()
