"""Telemetry: a background sampler of host, CPU-package and GPU sensors, and its summaries.

Public API::

    from dcbench.telemetry import Sampler, summarize, gpu_inventory
    sampler = Sampler(hz=10.0)       # gpu_indices=None: every GPU CUDA_VISIBLE_DEVICES shows
    sampler.start(); sampler.mark("measure"); ...; sampler.mark("end")
    timeline = sampler.stop()        # Timeline; timeline.to_dict() / Timeline.from_dict(d)
    summary = summarize(timeline, phase="measure", samples_processed=n, tokens_processed=t)

Importing this package loads psutil but not pynvml (``nvml.py`` imports it on first use).
"""

from __future__ import annotations

from dcbench.telemetry.base import Reading, SensorBackend
from dcbench.telemetry.gpu_summary import GpuSummary
from dcbench.telemetry.nvml import GpuInfo, gpu_inventory
from dcbench.telemetry.sampler import DEFAULT_HZ, Sampler, default_backends
from dcbench.telemetry.summary import NicSummary, TelemetrySummary, summarize
from dcbench.telemetry.timeline import PhaseMark, Sample, SourceStatus, Timeline

__all__ = [
    "DEFAULT_HZ",
    "GpuInfo",
    "GpuSummary",
    "NicSummary",
    "PhaseMark",
    "Reading",
    "Sample",
    "Sampler",
    "SensorBackend",
    "SourceStatus",
    "TelemetrySummary",
    "Timeline",
    "default_backends",
    "gpu_inventory",
    "summarize",
]
