"""NVIDIA GPU telemetry through NVML: the only module in dcbench that imports pynvml.

Every NVML call is made here, and every NVML error is translated here into a
null reason (a field that cannot be read is ``None`` with the reason, never 0).
Fields and units (NVML API Reference, "Device Queries"; pynvml is nvidia-ml-py):

====================================  =====================================================  =========
key (``gpu<i>.``)                     NVML call                                              unit
====================================  =====================================================  =========
``util_percent``                      nvmlDeviceGetUtilizationRates().gpu                    %
``memory_util_percent``               nvmlDeviceGetUtilizationRates().memory                 %
``memory_used_bytes``                 nvmlDeviceGetMemoryInfo().used                         bytes
``power_w``                           nvmlDeviceGetPowerUsage (mW / 1e3; a 1 s average on    W
                                      Ampere except GA100 and newer, instantaneous before)
``power_instant_w``                   field NVML_FI_DEV_POWER_INSTANT (mW / 1e3)             W
``energy_counter_j``                  nvmlDeviceGetTotalEnergyConsumption (mJ / 1e3, since   J
                                      the driver was loaded; Volta and newer)
``temperature_c``                     nvmlDeviceGetTemperature(NVML_TEMPERATURE_GPU)         deg C
``sm_clock_hz``                       nvmlDeviceGetClockInfo(NVML_CLOCK_SM) (MHz * 1e6)      Hz
``throttle_reasons_mask``             nvmlDeviceGetCurrentClocksEventReasons (bit mask)      -
``pcie_tx_bytes``/``pcie_rx_bytes``   fields NVML_FI_DEV_PCIE_COUNT_TX/RX_BYTES (counters)   bytes
``pcie_tx_bytes_per_s``/``_rx_``      nvmlDeviceGetPcieThroughput (KiB/s * 1024), only when  B/s
                                      the byte counters above are not supported
``nvlink_tx_bytes``/``nvlink_rx_``    fields NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX/RX with   bytes
                                      scopeId UINT_MAX = summed over all links (KiB * 1024)
====================================  =====================================================  =========

The scopeId rule is nvml.h's: "A scopeId of UINT_MAX returns aggregate value
summed up across all links for the specified counter type in fieldId."
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from dcbench.telemetry.base import Reading, SensorBackend, Value
from dcbench.telemetry.visible import resolve_visible

# The energy counter behind nvmlDeviceGetTotalEnergyConsumption advances in steps:
# PETSc's manual (PetscLogGpuEnergyMeter) notes "for newer GPUs, energy readings are
# updated every 20-100ms", and Yang, Adamek & Armour, "Part-time Power Measurements:
# nvidia-smi's Lack of Attention" (arXiv:2312.02741, 2023) find 100 ms update windows
# on A100/H100. dcbench takes the conservative 100 ms.
NVML_ENERGY_COUNTER_UPDATE_S = 0.1

NOT_SUPPORTED = "not supported by this GPU/driver"
_ALL_LINKS = 0xFFFFFFFF  # nvml.h: scopeId UINT_MAX = summed over all NVLinks
_KIB = 1024

# NVML return codes (nvml.h, nvmlReturn_t) that will not change while the process runs.
_PERMANENT_CODES = {3, 4, 13}  # NOT_SUPPORTED, NO_PERMISSION, FUNCTION_NOT_FOUND


def reason_for_code(code: int | None, message: str = "") -> str:
    """The null reason for an NVML return code (nvml.h ``nvmlReturn_t``)."""
    reasons = {
        3: NOT_SUPPORTED,  # NVML_ERROR_NOT_SUPPORTED
        4: "NVML: insufficient permissions",  # NVML_ERROR_NO_PERMISSION
        9: "no NVIDIA driver (the driver is not loaded)",  # NVML_ERROR_DRIVER_NOT_LOADED
        12: "no NVIDIA driver (libnvidia-ml.so.1 not found)",  # NVML_ERROR_LIBRARY_NOT_FOUND
        13: NOT_SUPPORTED + " (function missing from this driver's NVML)",  # FUNCTION_NOT_FOUND
        15: "GPU is lost (NVML_ERROR_GPU_IS_LOST); the GPU needs a reset",
        18: "NVML and the kernel driver versions differ; reload the driver or reboot",
    }
    if code in reasons:
        return reasons[code]
    return f"NVML error: {message or code}"


def reason_for(err: BaseException) -> str:
    """The null reason for an exception raised by a pynvml call."""
    code = getattr(err, "value", None)
    if isinstance(code, int):
        return reason_for_code(code, str(err))
    return f"read failed: {type(err).__name__}: {err}"


def _load() -> tuple[Any, str | None]:
    """(pynvml module, None) after nvmlInit, or (None, reason)."""
    try:
        import pynvml
    except ImportError:
        return None, "pynvml not installed (pip install nvidia-ml-py)"
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as err:
        return None, reason_for(err)
    except OSError as err:  # a broken library file
        return None, f"no NVIDIA driver ({err})"
    return pynvml, None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _visible_handles(nv: Any, env: Mapping[str, str]) -> tuple[list[tuple[int, Any]], str | None]:
    """(NVML index, handle) of the GPUs CUDA_VISIBLE_DEVICES allows, and a note."""
    count = nv.nvmlDeviceGetCount()
    handles = [nv.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
    uuids = [_text(nv.nvmlDeviceGetUUID(h)) for h in handles]
    indices, note = resolve_visible(env.get("CUDA_VISIBLE_DEVICES"), uuids)
    return [(i, handles[i]) for i in indices], note


@dataclass(kw_only=True, slots=True)
class GpuInfo:
    """One visible GPU for the run metadata (memory in bytes, power in W)."""

    index: int  # CUDA ordinal (position among visible GPUs)
    nvml_index: int  # NVML / PCI bus order index
    name: str
    uuid: str
    pci_bus_id: str | None
    driver_version: str | None
    cuda_driver_version: str | None  # highest CUDA version the driver supports, "12.4"
    memory_total_bytes: int | None
    power_limit_w: float | None  # enforced power limit
    default_power_limit_w: float | None  # the board's default limit (its TDP setting)


def _try(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:  # an inventory field that cannot be read stays None
        return None


def gpu_inventory(env: Mapping[str, str] | None = None) -> tuple[list[GpuInfo], str | None]:
    """The visible GPUs through NVML, or ([], reason) when there is no driver or no GPU."""
    nv, reason = _load()
    if nv is None:
        return [], reason
    try:
        visible, note = _visible_handles(nv, os.environ if env is None else env)
        driver_raw = _try(nv.nvmlSystemGetDriverVersion)
        driver = _text(driver_raw) if driver_raw is not None else None
        cuda_raw = _try(nv.nvmlSystemGetCudaDriverVersion)
        cuda = f"{cuda_raw // 1000}.{cuda_raw % 1000 // 10}" if isinstance(cuda_raw, int) else None
        gpus = []
        for position, (nvml_index, h) in enumerate(visible):
            memory = _try(nv.nvmlDeviceGetMemoryInfo, h)
            limit_mw = _try(nv.nvmlDeviceGetEnforcedPowerLimit, h)
            default_mw = _try(nv.nvmlDeviceGetPowerManagementDefaultLimit, h)
            pci = _try(nv.nvmlDeviceGetPciInfo, h)
            gpus.append(
                GpuInfo(
                    index=position,
                    nvml_index=nvml_index,
                    name=_text(nv.nvmlDeviceGetName(h)),
                    uuid=_text(nv.nvmlDeviceGetUUID(h)),
                    pci_bus_id=_text(pci.busId) if pci is not None else None,
                    driver_version=driver,
                    cuda_driver_version=cuda,
                    memory_total_bytes=int(memory.total) if memory is not None else None,
                    power_limit_w=limit_mw / 1e3 if limit_mw is not None else None,
                    default_power_limit_w=default_mw / 1e3 if default_mw is not None else None,
                )
            )
    except nv.NVMLError as err:
        return [], reason_for(err)
    finally:
        _try(nv.nvmlShutdown)
    if not gpus:
        return [], note or "no GPU visible (CUDA_VISIBLE_DEVICES hides them all)"
    return gpus, None


def _field_number(field: Any) -> float:
    """The number held in an nvmlFieldValue_t, by its valueType (nvml.h nvmlValueType_t)."""
    member = {0: "dVal", 1: "uiVal", 2: "ulVal", 3: "ullVal", 4: "sllVal", 5: "siVal", 6: "usVal"}
    return float(getattr(field.value, member.get(int(field.valueType), "ullVal")))


class NvmlBackend(SensorBackend):
    """Per-GPU utilisation, memory, power, energy, temperature, clocks, PCIe and NVLink."""

    name = "nvml"

    def __init__(self, gpu_indices: list[int] | None = None, env: Mapping[str, str] | None = None) -> None:
        self.gpu_indices = gpu_indices
        self._env = os.environ if env is None else env
        self._nv: Any = None
        self._gpus: list[tuple[str, Any]] = []  # (key prefix "gpu0", handle)
        self._details: dict[str, str] = {}
        self._dead: dict[str, str] = {}  # key -> permanent reason; never asked again
        self._nvlink_links: dict[str, int] = {}
        self._old_throttle_api = False  # set once the driver lacks ...ClocksEventReasons

    def available(self) -> tuple[bool, str | None]:
        nv, reason = _load()
        if nv is None:
            return False, reason
        self._nv = nv
        try:
            visible, note = _visible_handles(nv, self._env)
            chosen = range(len(visible)) if self.gpu_indices is None else self.gpu_indices
            for position in chosen:
                if not 0 <= position < len(visible):
                    note = f"GPU index {position} is not visible ({len(visible)} visible)"
                    continue
                nvml_index, handle = visible[position]
                prefix = f"gpu{position}"
                self._gpus.append((prefix, handle))
                name = _text(_try(nv.nvmlDeviceGetName, handle))
                uuid = _text(_try(nv.nvmlDeviceGetUUID, handle))
                self._details[prefix] = f"{name} {uuid} (NVML index {nvml_index})"
                links = _try(nv.nvmlDeviceGetFieldValues, handle, [nv.NVML_FI_DEV_NVLINK_LINK_COUNT])
                if links is not None and int(links[0].nvmlReturn) == 0:
                    self._nvlink_links[prefix] = int(_field_number(links[0]))
        except nv.NVMLError as err:
            self.close()
            return False, reason_for(err)
        if note:
            self._details["note"] = note
        if not self._gpus:
            self.close()
            return False, note or "no GPU visible (CUDA_VISIBLE_DEVICES hides them all)"
        return True, None

    def read(self) -> Reading:
        reading = Reading()
        for prefix, handle in self._gpus:
            self._read_gpu(reading, prefix, handle)
        return reading

    def counter_update_periods_s(self) -> dict[str, float]:
        return {f"{p}.energy_counter_j": NVML_ENERGY_COUNTER_UPDATE_S for p, _ in self._gpus}

    def details(self) -> dict[str, str]:
        return dict(self._details)

    def close(self) -> None:
        if self._nv is not None:
            _try(self._nv.nvmlShutdown)
            self._nv = None

    # -- one GPU ------------------------------------------------------------------------
    def _put(self, reading: Reading, key: str, fn: Callable[[], Value]) -> None:
        """Read one field; an NVML error becomes None with its reason (and is remembered
        when it cannot change, so unsupported fields cost nothing on later ticks)."""
        if key in self._dead:
            reading.put(key, None, self._dead[key])
            return
        try:
            reading.put(key, fn())
        except Exception as err:  # any failure of one field must not stop the others
            reason = reason_for(err)
            if getattr(err, "value", None) in _PERMANENT_CODES:
                self._dead[key] = reason
            reading.put(key, None, reason)

    def _read_gpu(self, reading: Reading, prefix: str, h: Any) -> None:
        nv = self._nv
        util = _Lazy(lambda: nv.nvmlDeviceGetUtilizationRates(h))
        self._put(reading, f"{prefix}.util_percent", lambda: float(util.get().gpu))
        self._put(reading, f"{prefix}.memory_util_percent", lambda: float(util.get().memory))
        self._put(reading, f"{prefix}.memory_used_bytes", lambda: int(nv.nvmlDeviceGetMemoryInfo(h).used))
        self._put(reading, f"{prefix}.power_w", lambda: nv.nvmlDeviceGetPowerUsage(h) / 1e3)
        self._put(reading, f"{prefix}.energy_counter_j", lambda: nv.nvmlDeviceGetTotalEnergyConsumption(h) / 1e3)
        self._put(
            reading, f"{prefix}.temperature_c", lambda: float(nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU))
        )
        self._put(reading, f"{prefix}.sm_clock_hz", lambda: nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM) * 1e6)
        self._put(reading, f"{prefix}.throttle_reasons_mask", lambda: int(self._throttle_mask(h)))
        self._read_fields(reading, prefix, h)

    def _throttle_mask(self, h: Any) -> int:
        nv = self._nv
        if not self._old_throttle_api:
            try:
                return int(nv.nvmlDeviceGetCurrentClocksEventReasons(h))
            except nv.NVMLError_FunctionNotFound:  # drivers before the "event reasons" rename
                self._old_throttle_api = True
        return int(nv.nvmlDeviceGetCurrentClocksThrottleReasons(h))

    def _read_fields(self, reading: Reading, prefix: str, h: Any) -> None:
        """Instant power, PCIe and NVLink byte counters in one nvmlDeviceGetFieldValues call."""
        nv = self._nv
        wanted: list[tuple[str, Any, float]] = [  # (key, field id or (id, scope), scale to SI)
            (f"{prefix}.power_instant_w", nv.NVML_FI_DEV_POWER_INSTANT, 1e-3),
            (f"{prefix}.pcie_tx_bytes", nv.NVML_FI_DEV_PCIE_COUNT_TX_BYTES, 1.0),
            (f"{prefix}.pcie_rx_bytes", nv.NVML_FI_DEV_PCIE_COUNT_RX_BYTES, 1.0),
        ]
        links = self._nvlink_links.get(prefix)
        for direction, fid in (("tx", nv.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX),
                               ("rx", nv.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX)):
            key = f"{prefix}.nvlink_{direction}_bytes"
            if links == 0:
                self._dead.setdefault(key, "this GPU has no active NVLink links")
            wanted.append((key, (fid, _ALL_LINKS), float(_KIB)))
        ask = [(key, fid, scale) for key, fid, scale in wanted if key not in self._dead]
        for key in (k for k, _, _ in wanted if k in self._dead):
            reading.put(key, None, self._dead[key])
        if ask:
            try:
                fields = nv.nvmlDeviceGetFieldValues(h, [fid for _, fid, _ in ask])
            except Exception as err:  # the whole call failed: every asked field is null
                reason = reason_for(err)
                for key, _, _ in ask:
                    if getattr(err, "value", None) in _PERMANENT_CODES:
                        self._dead[key] = reason
                    reading.put(key, None, reason)
            else:
                for (key, _, scale), field in zip(ask, fields, strict=True):
                    code = int(field.nvmlReturn)
                    if code == 0:
                        reading.put(key, _field_number(field) * scale)
                        continue
                    reason = reason_for_code(code)
                    if code in _PERMANENT_CODES:
                        self._dead[key] = reason
                    reading.put(key, None, reason)
        self._pcie_rate_fallback(reading, prefix, h)

    def _pcie_rate_fallback(self, reading: Reading, prefix: str, h: Any) -> None:
        """PCIe rates from nvmlDeviceGetPcieThroughput when the byte counters are unsupported.

        NVML documents the value as KB/s measured over a 20 ms interval; dcbench reads KB
        as KiB, as nvitop and nvtop do (NVIDIA/nvidia-settings issue 114 asks NVIDIA to
        confirm the unit).
        """
        nv = self._nv
        for direction, counter in (("tx", nv.NVML_PCIE_UTIL_TX_BYTES), ("rx", nv.NVML_PCIE_UTIL_RX_BYTES)):
            counter_key = f"{prefix}.pcie_{direction}_bytes"
            if reading.values.get(counter_key) is not None:
                continue
            self._put(reading, f"{prefix}.pcie_{direction}_bytes_per_s", partial(self._pcie_rate, h, counter))

    def _pcie_rate(self, h: Any, counter: int) -> float:
        return float(self._nv.nvmlDeviceGetPcieThroughput(h, counter) * _KIB)


class _Lazy:
    """Calls ``fn`` once, on first use (one NVML call shared by two fields)."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._fn = fn
        self._done = False
        self._value: Any = None

    def get(self) -> Any:
        if not self._done:
            self._value = self._fn()
            self._done = True
        return self._value
