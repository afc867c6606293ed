"""Helpers for the results-store tests: realistic runs and the child-process writer."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from dcbench.store import ResultsStore

HERE = Path(__file__).resolve().parent
WRITER = HERE / "store_writer.py"


def load_writer() -> ModuleType:
    """The child-process writer module, loaded from its file (for its payload functions)."""
    spec = importlib.util.spec_from_file_location("dcbench_store_writer", WRITER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench_summary(samples_per_s: float = 812.25, mfu: float | None = 0.4375) -> dict[str, Any]:
    """A summary shaped like the one `dcbench bench --json` prints (docs/bench.md)."""
    return {
        "workload": "gpt",
        "status": "ok",
        "batch_size": 8,
        "throughput": {"samples_per_s": samples_per_s, "tokens_per_s": samples_per_s * 128},
        "step_time_s": {"n": 3, "median": 8 / samples_per_s, "p95": 0.1 + 0.2},
        "flops": {"per_step_analytic": 1.5e12, "mfu": mfu, "peak_source": "catalog"},
        "memory": {"peak_host_rss_bytes": 2_147_483_648, "peak_device_bytes": None},
        "energy": {"total_j": 12.5, "null_reason": None},
        "warnings": ["step times vary"],
        "input_pipeline": None,
        "telemetry": {"samples": 2},
    }


def host_metadata() -> dict[str, Any]:
    """Run metadata as the harness records it (field names from dcbench.hardware.detect)."""
    return {
        "hostname": "node-17",
        "os": "Linux-6.1-x86_64",
        "python_version": "3.11.9",
        "torch_version": "2.13.0",
        "torch_cuda_version": None,
        "cpu_model": "Example CPU @ 2.10GHz",
        "cpu_logical_cores": 2,
        "cpu_physical_cores": 1,
        "memory_total_bytes": 25_769_803_776,
        "gpus": [{"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-0000", "driver_version": "550.54",
                  "cuda_version": "12.4", "memory_total_bytes": 85_520_809_984}],
        "gpus_null_reason": None,
        "git_commit": "25ec9b3",
        "git_dirty": True,
        "command_line": ["dcbench", "bench", "gpt", "--steps", "3"],
    }


def begin(store: ResultsStore, workload: str = "gpt", **overrides: Any) -> str:
    """Begin a run with realistic fields; keyword overrides replace any of them."""
    fields: dict[str, Any] = {
        "workload": workload, "size": "tiny", "device": "cpu", "dtype": "fp32",
        "label": "baseline", "config": {"workload": workload, "seed": 0, "steps": 3},
        "metadata": host_metadata(),
    }
    fields.update(overrides)
    return store.begin_run(**fields)
