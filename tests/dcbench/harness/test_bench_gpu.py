"""``dcbench bench`` on a real NVIDIA GPU (``make gpu-test``, ``scripts/gpu_check.sh``).

Skipped where torch sees no CUDA device. What runs here and nowhere else: device
resolution, synchronised step timing on the GPU, peak device memory (allocated and
reserved), MFU against the catalog peak of a recognised GPU, energy from NVML during a
real run, the GPU metadata of the stored run, and ``--batch-size auto`` / out-of-memory
against a real allocator limit (``torch.cuda.set_per_process_memory_fraction``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU"),
]

GIB = 2**30


@pytest.fixture
def memory_cap_bytes() -> Iterator[int]:
    """Cap this process's CUDA caching allocator at 4 GiB (a real limit: allocations beyond it
    raise torch.OutOfMemoryError), and lift the cap afterwards."""
    cap = 4 * GIB
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.empty_cache()
    torch.cuda.set_per_process_memory_fraction(cap / total, 0)
    try:
        yield cap
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, 0)
        torch.cuda.empty_cache()


def test_cuda_devices_resolve_and_a_missing_one_is_refused() -> None:
    from dcbench.errors import DeviceError
    from dcbench.harness.device import resolve_device

    assert resolve_device("auto") == "cuda:0"
    assert resolve_device("cuda") == "cuda:0"
    count = torch.cuda.device_count()
    assert resolve_device(f"cuda:{count - 1}") == f"cuda:{count - 1}"
    with pytest.raises(DeviceError, match="not present"):
        resolve_device(f"cuda:{count}")


def test_a_gpu_run_stores_device_memory_mfu_and_energy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dcbench.cli.main import main
    from dcbench.harness.peak import KNOWN_DEVICE_NAMES, catalog_peak
    from dcbench.store import ResultsStore
    from dcbench.telemetry import gpu_inventory

    store = tmp_path / "gpu.db"
    argv = ["bench", "gpt", "--device", "cuda", "--dtype", "bf16", "--size", "medium",
            "--steps", "20", "--warmup", "3", "--store", str(store), "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    print("gpu bench:", json.dumps({k: summary[k] for k in ("device_name", "step_time_s", "throughput",
                                                             "flops", "memory", "energy", "warnings")}))
    assert summary["status"] == "ok" and summary["device"] == "cuda:0"
    name = torch.cuda.get_device_name(0)
    assert summary["device_name"] == name

    memory = summary["memory"]
    total = torch.cuda.get_device_properties(0).total_memory
    assert 0 < memory["peak_device_bytes"] <= memory["peak_device_reserved_bytes"] <= total
    # At least the bf16 autocast run holds fp32 weights, grads and two AdamW moments: 16 bytes/param.
    assert memory["peak_device_bytes"] >= 16 * summary["params"]

    flops = summary["flops"]
    expected = catalog_peak(name, "bf16")
    if expected is not None:  # a recognised GPU: MFU against its datasheet peak
        assert name in KNOWN_DEVICE_NAMES
        assert flops["peak_source"] == expected.source and flops["peak_per_s"] == expected.flops_per_s
        assert 0.0 < flops["mfu"] < 1.0
    else:  # unknown board: against a measured bf16 matmul, and it says so
        assert flops["peak_source"] == "measured:matmul 8192x8192 bf16"
        assert 0.0 < flops["mfu"] < 1.2
    # The CUDA SDPA kernels have FlopCounterMode formulas: attention is counted here.
    assert flops["counter_note"] is None
    assert abs(flops["counted_vs_analytic"]) <= 0.02

    gpus, reason = gpu_inventory()
    if gpus:  # NVML works: energy from the counter (or integrated power) over the measured phase
        assert summary["energy"]["total_j"] is not None and summary["energy"]["total_j"] > 0
        assert summary["energy"]["per_sample_j"] > 0 and summary["energy"]["per_token_j"] > 0
        assert summary["telemetry"]["energy_domains"][0] == "gpu0"  # only the run's GPU (plus RAPL)
        gpu0 = summary["telemetry"]["gpus"][0]
        assert gpu0["power_avg_w"] is not None and gpu0["power_avg_w"] > 10.0
        assert gpu0["util_mean_percent"] is not None and gpu0["util_mean_percent"] > 0
    else:  # no NVML: null with the reason, unless RAPL alone measured the CPU packages
        assert summary["energy"]["total_j"] is not None or reason in summary["energy"]["null_reason"]

    with ResultsStore.open(store) as db:
        record = db.get_run(summary["run_id"])
        assert len(db.step_times(summary["run_id"])) == 20
    metadata = record.metadata
    assert metadata["torch_cuda_version"]
    if gpus:
        stored = metadata["gpus"][0]
        assert stored["name"] and stored["uuid"].startswith("GPU-")
        assert stored["driver_version"] and stored["cuda_driver_version"]


def test_auto_batch_bisects_to_the_allocator_limit(memory_cap_bytes: int) -> None:
    from dcbench.harness.config import BenchConfig
    from dcbench.harness.run import measure

    config = BenchConfig(workload="gpt", size="small", device="cuda", dtype="bf16",
                         auto_batch=True, steps=2, warmup=1, sample_hz=10.0)
    run = measure(config)
    print("auto batch:", json.dumps(run.auto_batch))
    assert run.status == "ok", run.error
    assert run.auto_batch is not None and run.auto_batch["method"] == "out-of-memory"
    trials = run.auto_batch["tried"]
    failed = [t["batch_size"] for t in trials if not t["fits"]]
    assert failed and run.batch_size < min(failed)
    assert all(t["fits"] for t in trials if t["batch_size"] <= run.batch_size)
    # Bisection stops within 1/16 of the fitting size.
    assert min(failed) - run.batch_size <= max(1, run.batch_size // 16)
    assert run.peak_device_allocated_bytes is not None and run.peak_device_allocated_bytes <= memory_cap_bytes


def test_out_of_memory_in_a_run_is_recorded_not_raised(memory_cap_bytes: int) -> None:
    from dcbench.harness.config import BenchConfig
    from dcbench.harness.run import measure

    # 4096 x 256 tokens x 8192 vocabulary fp32 logits alone are 32 GiB: far over the 4 GiB cap.
    config = BenchConfig(workload="gpt", size="small", device="cuda", dtype="bf16",
                         batch_size=4096, steps=2, warmup=1)
    run = measure(config)
    assert run.status == "oom"
    assert run.error is not None and run.error.startswith("out of memory at batch size 4096")
    assert run.step_times_s == []
