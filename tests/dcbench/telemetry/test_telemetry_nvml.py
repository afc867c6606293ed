"""NVML: error translation and CUDA_VISIBLE_DEVICES on any machine; real-GPU checks marked ``gpu``.

The ``gpu`` tests call real NVML and skip where there is no driver or no GPU
(``make gpu-test`` runs them). They print the figures they saw (run with ``-s``).
"""

from __future__ import annotations

import json
import re
import time

import pynvml
import pytest

from dcbench.telemetry import Sampler, gpu_inventory, summarize
from dcbench.telemetry.nvml import NOT_SUPPORTED, NvmlBackend, reason_for, reason_for_code
from dcbench.telemetry.visible import resolve_visible

UUIDS = [
    "GPU-5e1a7c2d-0c4b-4f6e-9d51-3b8f2a6e7c10",
    "GPU-77aa0000-1111-2222-3333-444455556666",
    "GPU-77bb0000-1111-2222-3333-444455556666",
]


# -- error translation (real pynvml exception classes) ----------------------------------------
def test_nvml_errors_become_null_reasons() -> None:
    assert reason_for(pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)) == NOT_SUPPORTED
    assert reason_for(pynvml.NVMLError_LibraryNotFound()) == "no NVIDIA driver (libnvidia-ml.so.1 not found)"
    assert reason_for(pynvml.NVMLError_DriverNotLoaded()).startswith("no NVIDIA driver")
    assert reason_for(pynvml.NVMLError_NoPermission()) == "NVML: insufficient permissions"
    assert reason_for(pynvml.NVMLError_GpuIsLost()).startswith("GPU is lost")
    assert reason_for_code(999, "Unknown Error") == "NVML error: Unknown Error"
    assert reason_for(ValueError("bad")) == "read failed: ValueError: bad"


def test_no_driver_means_empty_inventory_with_reason() -> None:
    gpus, reason = gpu_inventory()
    if gpus:
        pytest.skip("this machine has an NVIDIA driver and GPUs")
    assert reason is not None
    assert reason.startswith(("no NVIDIA driver", "pynvml not installed", "no GPU visible", "CUDA_VISIBLE_DEVICES"))
    ok, backend_reason = NvmlBackend().available()
    assert not ok and backend_reason == reason


# -- CUDA_VISIBLE_DEVICES ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (None, [0, 1, 2]),  # unset: every device
        ("", []),  # empty: none
        ("2,0", [2, 0]),  # CUDA's order, not NVML's
        ("GPU-5e1a", [0]),  # a unique UUID prefix
        ("1, GPU-77bb0000-1111-2222-3333-444455556666", [1, 2]),
    ],
)
def test_visible_devices(env: str | None, expected: list[int]) -> None:
    assert resolve_visible(env, UUIDS) == (expected, None)


@pytest.mark.parametrize(
    ("env", "expected", "why"),
    [
        ("0,7,1", [0], "is not a device"),  # CUDA stops at the first invalid entry
        ("1,1", [1], "repeats a device"),
        ("GPU-77", [], "is not a device"),  # ambiguous prefix: two UUIDs start with it
        ("-1", [], "is not a device"),
        ("MIG-GPU-5e1a/1/0", [], "MIG instance"),
        ("0,,1", [0], "empty entry"),
    ],
)
def test_visible_devices_drops_with_a_note(env: str, expected: list[int], why: str) -> None:
    indices, note = resolve_visible(env, UUIDS)
    assert indices == expected
    assert note is not None and why in note


# -- real GPU ------------------------------------------------------------------------------
@pytest.mark.gpu
def test_inventory_on_a_real_gpu(nvml_gpus) -> None:
    for gpu in nvml_gpus:
        print("inventory:", gpu)
        assert gpu.name
        assert gpu.uuid.startswith(("GPU-", "MIG-"))
        assert gpu.driver_version and re.match(r"^\d+\.\d+", gpu.driver_version)
        assert gpu.cuda_driver_version and re.match(r"^\d+\.\d+$", gpu.cuda_driver_version)
        assert gpu.memory_total_bytes is not None and gpu.memory_total_bytes > 1e9
    assert [g.index for g in nvml_gpus] == list(range(len(nvml_gpus)))


@pytest.mark.gpu
def test_fields_are_plausible_on_a_real_gpu(nvml_gpus) -> None:
    backend = NvmlBackend(gpu_indices=[0])
    assert backend.available() == (True, None)
    try:
        reading = backend.read()
    finally:
        backend.close()
    values = {k: v for k, v in reading.values.items() if k.startswith("gpu0.")}
    print("gpu0 fields:", json.dumps(values), "null:", json.dumps(reading.null_reasons))
    limit_w = nvml_gpus[0].default_power_limit_w or nvml_gpus[0].power_limit_w or 1000.0
    power = values["gpu0.power_w"]
    assert isinstance(power, float) and 10.0 <= power <= 1.2 * limit_w
    instant = values.get("gpu0.power_instant_w")
    if instant is not None:
        assert isinstance(instant, float) and 10.0 <= instant <= 1.2 * limit_w
    energy = values["gpu0.energy_counter_j"]
    assert isinstance(energy, float) and energy > 0
    temperature = values["gpu0.temperature_c"]
    assert isinstance(temperature, float) and 0.0 < temperature < 120.0
    sm_clock = values["gpu0.sm_clock_hz"]
    assert isinstance(sm_clock, float) and 1e8 < sm_clock < 5e9
    used = values["gpu0.memory_used_bytes"]
    total = nvml_gpus[0].memory_total_bytes
    assert isinstance(used, int) and total is not None and 0 <= used <= total
    util = values["gpu0.util_percent"]
    assert isinstance(util, float) and 0.0 <= util <= 100.0
    assert isinstance(values["gpu0.throttle_reasons_mask"], int)
    for key, value in values.items():  # anything missing says why
        if value is None:
            assert reading.null_reasons[key], key


@pytest.mark.gpu
def test_energy_counter_rises_under_matmul_load(nvml_gpus) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    sampler = Sampler(hz=10.0, gpu_indices=[0])
    sampler.start()
    sampler.mark("warmup")
    for _ in range(5):
        a @ a
    torch.cuda.synchronize()
    sampler.mark("measure")
    start = time.monotonic()
    steps = 0
    while time.monotonic() - start < 2.0:
        for _ in range(10):
            a @ a
        torch.cuda.synchronize()
        steps += 10
    sampler.mark("end")
    timeline = sampler.stop()
    summary = summarize(timeline, "measure", samples_processed=steps)
    gpu = summary.gpus[0]
    print(
        "matmul 2 s:",
        json.dumps({
            "energy_counter_j": gpu.energy_counter_j,
            "energy_integrated_j": gpu.energy_integrated_j,
            "disagreement": gpu.energy_disagreement,
            "power_avg_w": gpu.power_avg_w,
            "power_peak_w": gpu.power_peak_w,
            "util_mean_percent": gpu.util_mean_percent,
            "sm_clock_mean_hz": gpu.sm_clock_mean_hz,
            "throttle_reasons": gpu.throttle_reasons,
            "samples": summary.sample_count,
            "tick_cpu_s_mean": timeline.tick_cpu_s_mean,
            "warnings": summary.warnings,
            "null_reasons": gpu.null_reasons,
        }),
    )
    assert gpu.energy_counter_j is not None and gpu.energy_counter_j > 0
    assert gpu.energy_integrated_j is not None and gpu.energy_integrated_j > 0
    assert summary.energy_j is not None and summary.energy_per_sample_j is not None
    limit_w = nvml_gpus[0].default_power_limit_w or 1000.0
    assert gpu.power_avg_w is not None and 10.0 < gpu.power_avg_w < 1.2 * limit_w
    assert gpu.util_mean_percent is not None and gpu.util_mean_percent > 50.0
