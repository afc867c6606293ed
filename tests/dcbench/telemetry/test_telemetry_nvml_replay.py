"""nvml.py's translation logic against a replayed driver (no GPU needed).

A GPU cannot run here, so these tests replay the answers an NVIDIA driver gives
(raw NVML units: mW, mJ, MHz, KiB, return codes) through pynvml's own structures
and exception classes, and check what ``NvmlBackend`` and ``gpu_inventory`` make of
them: unit conversion, per-field null reasons, NOT_SUPPORTED remembered, field-value
return codes, ``CUDA_VISIBLE_DEVICES``. The real-driver checks are the ``gpu`` tests
in test_telemetry_nvml.py.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pynvml
import pytest

from dcbench.telemetry import nvml
from dcbench.telemetry.nvml import NOT_SUPPORTED, NvmlBackend, gpu_inventory

UUIDS = ["GPU-aaaa1111", "GPU-bbbb2222"]


class ReplayedDriver:
    """Answers like libnvidia-ml for two H100 SXM boards; ``calls`` counts each function."""

    def __init__(self, *, instant_power: bool = True, pcie_counters: bool = True) -> None:
        self.calls: dict[str, int] = {}
        self.instant_power = instant_power
        self.pcie_counters = pcie_counters
        self.shutdowns = 0

    def module(self) -> Any:
        constants = {k: getattr(pynvml, k) for k in dir(pynvml) if k.startswith(("NVML", "NVMLError"))}
        functions = {
            name: self._counted(name, getattr(self, name))
            for name in dir(self)
            if name.startswith("nvml")
        }
        return SimpleNamespace(**constants, **functions)

    def _counted(self, name: str, fn: Any) -> Any:
        def call(*args: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return fn(*args)

        return call

    # -- system
    def nvmlShutdown(self) -> None:
        self.shutdowns += 1

    def nvmlDeviceGetCount(self) -> int:
        return 2

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetUUID(self, handle: int) -> str:
        return UUIDS[handle]

    def nvmlDeviceGetName(self, handle: int) -> str:
        return "NVIDIA H100 80GB HBM3"

    def nvmlSystemGetDriverVersion(self) -> str:
        return "550.54.15"

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return 12040

    def nvmlDeviceGetPciInfo(self, handle: int) -> Any:
        return SimpleNamespace(busId=f"00000000:{0x18 + handle:02X}:00.0")

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: int) -> int:
        return 700_000  # mW

    def nvmlDeviceGetPowerManagementDefaultLimit(self, handle: int) -> int:
        return 700_000  # mW

    # -- per-tick reads (raw NVML units)
    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Any:
        return pynvml.c_nvmlUtilization_t(gpu=99, memory=41)

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        return pynvml.c_nvmlMemory_t(total=85_520_809_984, free=20_000_000_000, used=65_520_809_984)

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        return 648_250  # mW

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:
        return 123_456_789  # mJ

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:
        if handle == 1:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
        return 61

    def nvmlDeviceGetClockInfo(self, handle: int, clock: int) -> int:
        return 1980  # MHz

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: int) -> int:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)  # an older driver

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, handle: int) -> int:
        return 0x4 | 0x20

    def nvmlDeviceGetPcieThroughput(self, handle: int, counter: int) -> int:
        return 2_000_000 if counter == pynvml.NVML_PCIE_UTIL_TX_BYTES else 500_000  # KB/s

    def nvmlDeviceGetFieldValues(self, handle: int, field_ids: list[Any]) -> Any:
        values = (pynvml.c_nvmlFieldValue_t * len(field_ids))()
        for slot, requested in zip(values, field_ids, strict=True):
            field_id, scope = requested if isinstance(requested, tuple) else (requested, 0)
            slot.fieldId, slot.scopeId = field_id, scope
            answer = self._field(field_id, scope)
            if answer is None:
                slot.nvmlReturn = pynvml.NVML_ERROR_NOT_SUPPORTED
            else:
                slot.nvmlReturn = pynvml.NVML_SUCCESS
                slot.valueType = pynvml.NVML_VALUE_TYPE_UNSIGNED_LONG_LONG
                slot.value.ullVal = answer
        return values

    def _field(self, field_id: int, scope: int) -> int | None:
        if field_id == pynvml.NVML_FI_DEV_NVLINK_LINK_COUNT:
            return 18
        if field_id == pynvml.NVML_FI_DEV_POWER_INSTANT:
            return 655_000 if self.instant_power else None  # mW
        if field_id in (pynvml.NVML_FI_DEV_PCIE_COUNT_TX_BYTES, pynvml.NVML_FI_DEV_PCIE_COUNT_RX_BYTES):
            return 9_000_000_000 if self.pcie_counters else None  # bytes
        if field_id == pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX:
            return 1_000 if scope == 0xFFFFFFFF else 1  # KiB; only the all-links scope is right
        if field_id == pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX:
            return 2_000 if scope == 0xFFFFFFFF else 1
        return None


@pytest.fixture
def driver(monkeypatch: pytest.MonkeyPatch) -> ReplayedDriver:
    replay = ReplayedDriver()
    module = replay.module()
    monkeypatch.setattr(nvml, "_load", lambda: (module, None))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return replay


def test_readings_are_converted_to_si(driver: ReplayedDriver) -> None:
    backend = NvmlBackend()
    assert backend.available() == (True, None)
    values = backend.read().values
    assert values["gpu0.power_w"] == pytest.approx(648.25)  # 648,250 mW
    assert values["gpu0.power_instant_w"] == pytest.approx(655.0)  # 655,000 mW
    assert values["gpu0.energy_counter_j"] == pytest.approx(123_456.789)  # 123,456,789 mJ
    assert values["gpu0.sm_clock_hz"] == pytest.approx(1.98e9)  # 1980 MHz
    assert values["gpu0.memory_used_bytes"] == 65_520_809_984
    assert values["gpu0.util_percent"] == 99.0 and values["gpu0.memory_util_percent"] == 41.0
    assert values["gpu0.temperature_c"] == 61.0
    assert values["gpu0.nvlink_tx_bytes"] == 1_000 * 1024  # all-links scope, KiB -> bytes
    assert values["gpu0.nvlink_rx_bytes"] == 2_000 * 1024
    assert values["gpu0.pcie_tx_bytes"] == 9_000_000_000
    assert "gpu0.pcie_tx_bytes_per_s" not in values  # counters exist: no rate fallback
    assert values["gpu0.throttle_reasons_mask"] == 0x24  # via the older ThrottleReasons call
    assert backend.counter_update_periods_s() == {"gpu0.energy_counter_j": 0.1, "gpu1.energy_counter_j": 0.1}
    assert backend.details()["gpu1"] == "NVIDIA H100 80GB HBM3 GPU-bbbb2222 (NVML index 1)"
    backend.close()
    assert driver.shutdowns == 1


def test_one_failing_field_is_null_and_the_rest_still_read(driver: ReplayedDriver) -> None:
    backend = NvmlBackend()
    backend.available()
    reading = backend.read()
    assert reading.values["gpu1.temperature_c"] is None
    assert reading.null_reasons["gpu1.temperature_c"].startswith("GPU is lost")
    assert reading.values["gpu1.power_w"] == pytest.approx(648.25)


def test_unsupported_fields_are_null_and_not_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    replay = ReplayedDriver(instant_power=False, pcie_counters=False)
    module = replay.module()
    monkeypatch.setattr(nvml, "_load", lambda: (module, None))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    backend = NvmlBackend()
    backend.available()
    first = backend.read()
    assert first.values["gpu0.power_instant_w"] is None
    assert first.null_reasons["gpu0.power_instant_w"] == NOT_SUPPORTED
    # No PCIe byte counters: the rate call fills in, 2,000,000 KB/s read as KiB/s.
    assert first.values["gpu0.pcie_tx_bytes"] is None
    assert first.values["gpu0.pcie_tx_bytes_per_s"] == pytest.approx(2_000_000 * 1024)
    field_calls = replay.calls["nvmlDeviceGetFieldValues"]
    second = backend.read()
    assert second.values["gpu0.power_instant_w"] is None  # still null, with the same reason
    assert second.null_reasons["gpu0.power_instant_w"] == NOT_SUPPORTED
    # The second tick asked only for the NVLink fields: one more batch call, no retries of the others.
    assert replay.calls["nvmlDeviceGetFieldValues"] == field_calls + 1
    # FUNCTION_NOT_FOUND once; from then on the older ThrottleReasons call only.
    assert replay.calls["nvmlDeviceGetCurrentClocksEventReasons"] == 1
    assert replay.calls["nvmlDeviceGetCurrentClocksThrottleReasons"] == 2
    assert not any(k.startswith("gpu1.") for k in second.values)  # CUDA_VISIBLE_DEVICES=0


def test_inventory_from_the_driver(driver: ReplayedDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    gpus, reason = gpu_inventory()
    assert reason is None
    (gpu,) = gpus
    assert (gpu.index, gpu.nvml_index, gpu.uuid) == (0, 1, "GPU-bbbb2222")  # CUDA ordinal 0 is NVML 1
    assert gpu.driver_version == "550.54.15"
    assert gpu.cuda_driver_version == "12.4"  # 12040 = 12 * 1000 + 4 * 10
    assert gpu.memory_total_bytes == 85_520_809_984
    assert gpu.power_limit_w == pytest.approx(700.0)
    assert gpu.pci_bus_id == "00000000:19:00.0"
    assert driver.shutdowns == 1


def test_everything_hidden(driver: ReplayedDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert gpu_inventory() == ([], "no GPU visible (CUDA_VISIBLE_DEVICES hides them all)")
    ok, reason = NvmlBackend().available()
    assert not ok and reason == "no GPU visible (CUDA_VISIBLE_DEVICES hides them all)"


def test_a_gpu_index_that_is_not_visible(driver: ReplayedDriver) -> None:
    backend = NvmlBackend(gpu_indices=[5])
    ok, reason = backend.available()
    assert not ok and reason == "GPU index 5 is not visible (2 visible)"
