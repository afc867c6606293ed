"""Speed of one tiny training step per workload, and of the store's writes (``make bench``).

Not tests: these report numbers. Run with ``make bench``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from dcbench.store import ResultsStore
from workloads.base import WorkloadConfig
from workloads.registry import WORKLOAD_NAMES, create


@pytest.mark.parametrize("name", WORKLOAD_NAMES)
def test_tiny_train_step(benchmark: BenchmarkFixture, name: str) -> None:
    workload = create(name, WorkloadConfig(size="tiny", device="cpu"))
    for _ in range(3):  # build and warm up
        workload.train_step()
    benchmark(workload.train_step)
    workload.close()


def test_store_finish_run_with_100_steps(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    store = ResultsStore.open(tmp_path / "bench.db")
    steps = [0.01 + i * 1e-5 for i in range(100)]
    summary = {"throughput": {"samples_per_s": 1.0}, "step_time_s": {"median": 0.01}}

    def write_one() -> None:
        run_id = store.begin_run(
            workload="mlp", size="tiny", device="cpu", dtype="fp32", label=None,
            config={"steps": 100}, metadata={"hostname": "bench"},
        )
        store.finish_run(run_id, status="ok", summary=summary, step_times_s=steps, timeline=None, error=None)

    benchmark(write_one)
    store.close()
