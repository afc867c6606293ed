"""Host telemetry through psutil: CPU utilisation, memory, disk and network counters.

Keys (all read with psutil, https://psutil.readthedocs.io):

- ``host.cpu_util_percent``: all CPUs, 0-100: busy CPU time / total CPU time summed
  over every core since the previous read (``psutil.cpu_times(percpu=True)``).
- ``host.cpu_core_util_percent``: list, one 0-100 value per logical core, same interval.
  Busy time is total minus ``idle`` and ``iowait``, and on Linux total excludes ``guest``
  and ``guest_nice`` (already inside ``user``/``nice``), as psutil's own ``cpu_percent``
  and htop count it. The backend keeps its own previous reading, so other code calling
  ``psutil.cpu_percent`` does not disturb it. A core with no CPU time elapsed since the
  previous read (two reads within one clock tick) is NaN (stored as null), never 0.
- ``host.process_rss_bytes``: resident set size of this process (``Process.memory_info().rss``).
- ``host.memory_used_bytes``: system memory in use (``virtual_memory().used``).
- ``host.disk_read_bytes`` / ``host.disk_write_bytes`` / ``host.disk_read_ops`` /
  ``host.disk_write_ops``: cumulative counters over all disks (``disk_io_counters``).
- ``net.<nic>.bytes_sent`` / ``bytes_recv`` / ``packets_sent`` / ``packets_recv``:
  cumulative counters per network interface (``net_io_counters(pernic=True)``).

Counters are read with ``nowrap=True``: psutil adds the old value back when the
kernel's counter wraps (psutil 5.3.0 changelog, issue 802). The aggregation still
treats a counter that goes down as a reset, so a wrap psutil missed never gives a
negative delta.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import psutil

from dcbench.telemetry.base import Reading, SensorBackend

_DISK_FIELDS = (
    ("read_bytes", "host.disk_read_bytes"),
    ("write_bytes", "host.disk_write_bytes"),
    ("read_count", "host.disk_read_ops"),
    ("write_count", "host.disk_write_ops"),
)
_NET_FIELDS = ("bytes_sent", "bytes_recv", "packets_sent", "packets_recv")


def _core_times() -> list[tuple[float, float]]:
    """(busy seconds, total seconds) per logical core since boot (see the module docstring)."""
    out = []
    for times in psutil.cpu_times(percpu=True):
        total = sum(times)
        if sys.platform.startswith("linux"):
            total -= getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
        busy = total - times.idle - getattr(times, "iowait", 0.0)
        out.append((busy, total))
    return out


def busy_percent(busy_s: float, total_s: float) -> float:
    """Busy share in percent, clamped to 0-100; NaN when no time elapsed."""
    if total_s <= 0:
        return math.nan
    return min(100.0, max(0.0, 100.0 * busy_s / total_s))


class HostBackend(SensorBackend):
    """CPU, memory, disk and network of the machine and this process (psutil)."""

    name = "host"

    def __init__(self) -> None:
        self._process: Any = None
        self._previous_cpu: list[tuple[float, float]] = []  # (busy_s, total_s) per core

    def available(self) -> tuple[bool, str | None]:
        try:
            self._process = psutil.Process()
            self._previous_cpu = _core_times()
        except (OSError, psutil.Error) as err:
            return False, f"psutil cannot read this host: {err}"
        return True, None

    def read(self) -> Reading:
        reading = Reading()
        self._read_cpu(reading)
        self._read_memory(reading)
        self._read_disk(reading)
        self._read_net(reading)
        return reading

    def _read_cpu(self, reading: Reading) -> None:
        try:
            now = _core_times()
        except (OSError, psutil.Error) as err:
            reason = f"CPU utilisation not readable: {err}"
            reading.put("host.cpu_util_percent", None, reason)
            reading.put("host.cpu_core_util_percent", None, reason)
            return
        before, self._previous_cpu = self._previous_cpu, now
        if len(before) != len(now):  # a core went on- or offline: restart the interval
            reason = "CPU count changed since the previous sample"
            reading.put("host.cpu_util_percent", None, reason)
            reading.put("host.cpu_core_util_percent", None, reason)
            return
        busy = [b1 - b0 for (b0, _), (b1, _) in zip(before, now, strict=True)]
        total = [t1 - t0 for (_, t0), (_, t1) in zip(before, now, strict=True)]
        reading.put(
            "host.cpu_core_util_percent",
            [busy_percent(b, t) for b, t in zip(busy, total, strict=True)],
        )
        if sum(total) > 0:
            reading.put("host.cpu_util_percent", busy_percent(sum(busy), sum(total)))
        else:
            reading.put("host.cpu_util_percent", None, "no CPU time elapsed since the previous sample")

    def _read_memory(self, reading: Reading) -> None:
        try:
            reading.put("host.process_rss_bytes", int(self._process.memory_info().rss))
        except (OSError, psutil.Error, AttributeError) as err:
            reading.put("host.process_rss_bytes", None, f"process RSS not readable: {err}")
        try:
            reading.put("host.memory_used_bytes", int(psutil.virtual_memory().used))
        except (OSError, psutil.Error) as err:
            reading.put("host.memory_used_bytes", None, f"system memory not readable: {err}")

    def _read_disk(self, reading: Reading) -> None:
        try:
            counters = psutil.disk_io_counters(perdisk=False, nowrap=True)
            reason = "disk counters not available on this system (no /proc/diskstats?)"
        except (OSError, psutil.Error, RuntimeError) as err:
            counters, reason = None, f"disk counters not readable: {err}"
        for attr, key in _DISK_FIELDS:
            value = getattr(counters, attr, None) if counters is not None else None
            reading.put(key, int(value) if value is not None else None, reason)

    def _read_net(self, reading: Reading) -> None:
        try:
            per_nic = psutil.net_io_counters(pernic=True, nowrap=True)
        except (OSError, psutil.Error, RuntimeError) as err:
            reading.put("net", None, f"network counters not readable: {err}")
            return
        for nic, counters in sorted(per_nic.items()):
            for attr in _NET_FIELDS:
                reading.put(f"net.{nic}.{attr}", int(getattr(counters, attr)))
