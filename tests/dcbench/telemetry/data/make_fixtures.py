"""Writes the recorded sample streams in this folder (run once by hand; tests only read the JSON).

    .venv/bin/python tests/dcbench/telemetry/data/make_fixtures.py

The streams have the shape of real dcbench timelines (keys, units, sources,
counter ranges) with values chosen so the expected results can be worked out by
hand in the tests: power patterns whose trapezoids are whole numbers, counters
that advance by fixed steps, a RAPL counter that wraps at its real modulus. Values
that feed no expected result (temperatures, utilisation) carry small deterministic
jitter so the streams look like what a sampler records.

- h100_sxm_650w.json: one H100 SXM near 650 W for 3 s (10 Hz), two RAPL packages,
  disk reads from a data loader, a checkpoint write, three NICs (one VLAN, "eth0.100").
- rapl_wrap_cpu_only.json: a CPU-only host (no NVIDIA driver) whose RAPL package
  counter wraps inside the measured window, and a disk counter that resets.
- h100_pcie_disagree.json: two H100 PCIe on an older driver (no instantaneous power
  field, no PCIe byte counters); GPU 0's energy counter runs 10 % above its power.
- short_window.json: a 50 ms measured window, shorter than NVML's ~100 ms update.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RAPL_MODULUS_J = 262143.328851  # (max_energy_range_uj 262143328850 + 1) / 1e6


def _t(i: int) -> float:
    return round(i * 0.1, 6)


def _jitter(i: int, amplitude: float) -> float:
    return round(amplitude * math.sin(1.7 * i), 3)


def _host(i: int, read_ops: int | None = None) -> dict[str, Any]:
    cores = [5.0, 10.0, 15.0, 20.0] if i % 2 == 0 else [10.0, 15.0, 20.0, 25.0]
    values: dict[str, Any] = {
        "host.cpu_core_util_percent": cores,
        "host.cpu_util_percent": sum(cores) / len(cores),
        "host.process_rss_bytes": 8_000_000_000 + 10_000_000 * i,
        "host.memory_used_bytes": 30_000_000_000,
        "host.disk_read_bytes": 900_000_000_000 + 4_194_304 * i,
        "host.disk_write_bytes": 500_000_000_000 + (1_000_000_000 if i >= 25 else 0),
        "host.disk_read_ops": 7_000_000 + 32 * i if read_ops is None else read_ops,
        "host.disk_write_ops": 3_000_000 + i,
    }
    for nic, sent, recv, p_sent, p_recv in (
        ("eth0", 1000, 5000, 10, 20),
        ("eth0.100", 0, 100, 0, 1),
        ("ib0", 0, 0, 0, 0),
    ):
        values[f"net.{nic}.bytes_sent"] = 10_000_000 + sent * i
        values[f"net.{nic}.bytes_recv"] = 20_000_000 + recv * i
        values[f"net.{nic}.packets_sent"] = 100_000 + p_sent * i
        values[f"net.{nic}.packets_recv"] = 200_000 + p_recv * i
    return values


def _host_source() -> dict[str, Any]:
    return {"name": "host", "available": True, "null_reason": None, "details": {}}


def _timeline(samples: list[dict[str, Any]], marks: list[tuple[str, float]], **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "format_version": 1,
        "hz": 10.0,
        "started_unix_s": 1_733_011_200.0,
        "samples": samples,
        "marks": [{"name": n, "t_s": t} for n, t in marks],
        "sources": [],
        "null_reasons": {},
        "counter_ranges": {},
        "counter_update_periods_s": {},
        "warnings": [],
        "tick_s_mean": 0.00041,
        "tick_cpu_s_mean": 0.00035,
    }
    base.update(extra)
    return base


def h100_sxm_650w() -> dict[str, Any]:
    samples = []
    counter_mj = 123_456_789  # NVML counts integer millijoules since the driver loaded
    previous_power = None
    for i in range(46):
        t = _t(i)
        if i < 10:
            power = 90.0 + 56.0 * i  # warm-up ramp
        elif i <= 40:
            power = 640.0 if i % 2 == 0 else 660.0
        else:
            power = 120.0
        if previous_power is not None:
            counter_mj += round((previous_power + power) / 2 * 0.1 * 1000)
        previous_power = power
        values = _host(i)
        values.update({
            "rapl.package-0.energy_counter_j": round(1000.0 + 15.0 * i, 6),
            "rapl.package-1.energy_counter_j": round(50000.0 + 14.0 * i, 6),
            "gpu0.util_percent": 100.0 if 10 <= i <= 40 else 0.0,
            "gpu0.memory_util_percent": round(38.0 + _jitter(i, 3.0), 3),
            "gpu0.memory_used_bytes": 62_500_000_000 if i == 20 else 61_000_000_000,
            "gpu0.power_w": 650.0 if 10 <= i <= 40 else round(power, 3),
            "gpu0.power_instant_w": power,
            "gpu0.energy_counter_j": counter_mj / 1000,
            "gpu0.temperature_c": float(55 + 3 * math.floor(t + 1e-9)),
            "gpu0.sm_clock_hz": 1.98e9 if 10 <= i <= 40 else 1.755e9,
            "gpu0.throttle_reasons_mask": 0x1 if i == 0 else (0x4 if 20 <= i <= 25 else 0),
            "gpu0.pcie_tx_bytes": 40_000_000_000 + 250_000_000 * i,
            "gpu0.pcie_rx_bytes": 90_000_000_000 + 100_000_000 * i,
            "gpu0.nvlink_tx_bytes": 7_340_032.0,
            "gpu0.nvlink_rx_bytes": 7_340_032.0,
        })
        samples.append({"t_s": t, "values": values})
    return _timeline(
        samples,
        [("warmup", 0.0), ("measure", 1.0), ("end", 4.0)],
        sources=[
            _host_source(),
            {"name": "rapl", "available": True, "null_reason": None,
             "details": {"package-0": "/sys/class/powercap/intel-rapl:0",
                         "package-1": "/sys/class/powercap/intel-rapl:1"}},
            {"name": "nvml", "available": True, "null_reason": None,
             "details": {"gpu0": "NVIDIA H100 80GB HBM3 GPU-5e1a7c2d-0c4b-4f6e-9d51-3b8f2a6e7c10 (NVML index 0)"}},
        ],
        counter_ranges={"rapl.package-0.energy_counter_j": RAPL_MODULUS_J,
                        "rapl.package-1.energy_counter_j": RAPL_MODULUS_J},
        counter_update_periods_s={"gpu0.energy_counter_j": 0.1,
                                  "rapl.package-0.energy_counter_j": 0.001,
                                  "rapl.package-1.energy_counter_j": 0.001},
    )


def rapl_wrap_cpu_only() -> dict[str, Any]:
    samples = []
    for i in range(36):
        read_ops = 5000 + 10 * i if i < 20 else 3 + 10 * (i - 20)  # the counter resets at i = 20
        values = _host(i, read_ops=read_ops)
        values["rapl.package-0.energy_counter_j"] = round((262000.0 + 12.0 * i) % RAPL_MODULUS_J, 6)
        samples.append({"t_s": _t(i), "values": values})
    return _timeline(
        samples,
        [("warmup", 0.0), ("measure", 1.0), ("end", 3.0)],
        sources=[
            _host_source(),
            {"name": "rapl", "available": True, "null_reason": None,
             "details": {"package-0": "/sys/class/powercap/intel-rapl:0"}},
            {"name": "nvml", "available": False,
             "null_reason": "no NVIDIA driver (libnvidia-ml.so.1 not found)", "details": {}},
        ],
        counter_ranges={"rapl.package-0.energy_counter_j": RAPL_MODULUS_J},
        counter_update_periods_s={"rapl.package-0.energy_counter_j": 0.001},
    )


def h100_pcie_disagree() -> dict[str, Any]:
    samples = []
    not_supported = "not supported by this GPU/driver"
    for i in range(31):
        values = _host(i)
        for gpu, power, counter_step_j, counter_start_j in (("gpu0", 300.0, 33.0, 4_000_000.0),
                                                            ("gpu1", 290.0, 29.0, 3_500_000.0)):
            values.update({
                f"{gpu}.util_percent": 97.0 + _jitter(i, 2.0),
                f"{gpu}.memory_util_percent": 41.0 + _jitter(i + 3, 2.0),
                f"{gpu}.memory_used_bytes": 70_000_000_000,
                f"{gpu}.power_w": power,
                f"{gpu}.power_instant_w": None,
                f"{gpu}.energy_counter_j": round(counter_start_j + counter_step_j * i, 3),
                f"{gpu}.temperature_c": 62.0 + _jitter(i, 1.5),
                f"{gpu}.sm_clock_hz": 1.755e9,
                f"{gpu}.throttle_reasons_mask": 0,
                f"{gpu}.pcie_tx_bytes": None,
                f"{gpu}.pcie_rx_bytes": None,
                f"{gpu}.pcie_tx_bytes_per_s": 1.2e9,
                f"{gpu}.pcie_rx_bytes_per_s": 0.3e9,
                f"{gpu}.nvlink_tx_bytes": None,
                f"{gpu}.nvlink_rx_bytes": None,
            })
        samples.append({"t_s": _t(i), "values": values})
    reasons = {}
    for gpu in ("gpu0", "gpu1"):
        for field in ("power_instant_w", "pcie_tx_bytes", "pcie_rx_bytes", "nvlink_tx_bytes", "nvlink_rx_bytes"):
            reasons[f"{gpu}.{field}"] = not_supported
    return _timeline(
        samples,
        [("measure", 0.5), ("end", 2.5)],
        sources=[
            _host_source(),
            {"name": "rapl", "available": False,
             "null_reason": "RAPL not readable: permission denied on /sys/class/powercap/intel-rapl:0/energy_uj; "
                            "run as root, or let this user read it: "
                            "sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj",
             "details": {}},
            {"name": "nvml", "available": True, "null_reason": None,
             "details": {"gpu0": "NVIDIA H100 PCIe GPU-0a1b (NVML index 0)",
                         "gpu1": "NVIDIA H100 PCIe GPU-2c3d (NVML index 1)"}},
        ],
        null_reasons=reasons,
        counter_update_periods_s={"gpu0.energy_counter_j": 0.1, "gpu1.energy_counter_j": 0.1},
    )


def short_window() -> dict[str, Any]:
    samples = []
    counter_j = 900_000.0
    times = [_t(i) for i in range(11)] + [1.05, 1.1, 1.2]
    for n, t in enumerate(times):
        if n and round(t * 10, 6) == int(round(t * 10, 6)):  # the counter steps only on 100 ms edges
            counter_j += 65.0
        values = _host(n)
        values.update({
            "gpu0.power_w": 650.0,
            "gpu0.power_instant_w": 650.0,
            "gpu0.energy_counter_j": counter_j,
            "gpu0.util_percent": 100.0,
        })
        samples.append({"t_s": t, "values": values})
    return _timeline(
        samples,
        [("warmup", 0.0), ("measure", 1.0), ("end", 1.05)],
        sources=[
            _host_source(),
            {"name": "rapl", "available": False,
             "null_reason": "RAPL not readable: /sys/class/powercap does not exist (not Linux, or no powercap driver)",
             "details": {}},
            {"name": "nvml", "available": True, "null_reason": None,
             "details": {"gpu0": "NVIDIA H100 80GB HBM3 GPU-77aa (NVML index 0)"}},
        ],
        counter_update_periods_s={"gpu0.energy_counter_j": 0.1},
    )


def _dump(timeline: dict[str, Any]) -> str:
    """Pretty JSON with one sample per line (small files, readable diffs)."""
    head = {k: v for k, v in timeline.items() if k != "samples"}
    lines = ",\n  ".join(json.dumps(s, separators=(",", ":")) for s in timeline["samples"])
    text = json.dumps(head, indent=1)
    return text[:-2] + ',\n "samples": [\n  ' + lines + "\n ]\n}\n"


def main() -> None:
    for name, build in (
        ("h100_sxm_650w", h100_sxm_650w),
        ("rapl_wrap_cpu_only", rapl_wrap_cpu_only),
        ("h100_pcie_disagree", h100_pcie_disagree),
        ("short_window", short_window),
    ):
        (HERE / f"{name}.json").write_text(_dump(build()))


if __name__ == "__main__":
    main()
