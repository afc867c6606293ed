"""The small interface every telemetry sensor backend implements.

A backend reads one kind of hardware (the host through psutil, CPU packages
through RAPL, GPUs through NVML). It answers two questions:

- ``available()``: can it read anything on this machine, and if not, why not
  (the reason is stored with the timeline, e.g. "no NVIDIA driver");
- ``read()``: one reading of every field it knows, as a flat mapping from an
  SI-named key (``gpu0.power_w``, ``host.process_rss_bytes``) to a number, or to
  ``None`` with a reason in ``Reading.null_reasons``. Never 0 for "unknown".

Keys are ``<source>.<field>``; the field name carries its unit (``_w``, ``_j``,
``_bytes``, ``_hz``, ``_percent``, ``_c``, ``_ops``). Counters (cumulative
values that only grow, such as ``energy_counter_j``) are read raw; the
aggregation in :mod:`dcbench.telemetry.energy` turns them into deltas and
handles wrap-around with the ranges a backend reports in ``counter_ranges()``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

# A sampled value: a number, a list of numbers (per-core utilisation), or None.
Value = float | int | list[float] | None


@dataclass(kw_only=True, slots=True)
class Reading:
    """One read of one backend: values by key, and why each ``None`` value is ``None``."""

    values: dict[str, Value] = field(default_factory=dict)
    null_reasons: dict[str, str] = field(default_factory=dict)

    def put(self, key: str, value: Value, reason: str | None = None) -> None:
        """Store ``value`` under ``key``; a ``None`` value needs the reason it is missing."""
        self.values[key] = value
        if value is None:
            self.null_reasons[key] = reason or "not readable"


class SensorBackend(ABC):
    """One source of telemetry. Subclasses read hardware; they never raise from ``read``
    for a single unreadable field (that field becomes ``None`` with a reason)."""

    #: Short source name used in keys and in the timeline's source list ("host", "rapl", "nvml").
    name: str = "backend"

    @abstractmethod
    def available(self) -> tuple[bool, str | None]:
        """Open the backend. Returns (True, None), or (False, reason) when nothing can be read."""

    @abstractmethod
    def read(self) -> Reading:
        """One reading of every field (only called after ``available()`` returned True)."""

    def counter_ranges(self) -> dict[str, float]:
        """Wrap modulus (in the key's unit) of counters that wrap at a known value."""
        return {}

    def counter_update_periods_s(self) -> dict[str, float]:
        """How often (seconds) the hardware updates each counter key, where known."""
        return {}

    def details(self) -> dict[str, str]:
        """Descriptive facts for the timeline (device names, UUIDs, zone paths)."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release handles; called once when the sampler stops."""
