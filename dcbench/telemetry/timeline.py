"""What the sampler recorded: samples on a monotonic clock, phase marks and source status.

Times (``t_s``) are seconds on ``time.monotonic()`` since the sampler started;
``started_unix_s`` anchors them to wall-clock time. ``to_dict`` / ``from_dict``
round-trip through plain JSON types (the results store keeps the dict); the
layout is the public contract documented in ``docs/telemetry.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from dcbench.errors import StoreError
from dcbench.telemetry.base import Value

TIMELINE_FORMAT_VERSION = 1


@dataclass(kw_only=True, slots=True)
class Sample:
    """One tick: every backend's values at time ``t_s`` (missing key = not read this tick)."""

    t_s: float  # seconds since the sampler started (monotonic clock)
    values: dict[str, Value] = field(default_factory=dict)

    def get(self, key: str) -> Value:
        return self.values.get(key)


@dataclass(kw_only=True, slots=True, frozen=True)
class PhaseMark:
    """The start of a phase ("warmup", "measure", "end"); a phase lasts until the next mark."""

    name: str
    t_s: float  # seconds since the sampler started (monotonic clock)


@dataclass(kw_only=True, slots=True)
class SourceStatus:
    """Whether a backend could read this machine, and why not when it could not."""

    name: str  # "host", "rapl", "nvml"
    available: bool
    null_reason: str | None = None  # e.g. "no NVIDIA driver", "RAPL not readable: ..."
    details: dict[str, str] = field(default_factory=dict)  # device names, UUIDs, zone paths


@dataclass(kw_only=True, slots=True)
class Timeline:
    """Everything one sampler run recorded."""

    hz: float  # requested sampling rate, Hz
    started_unix_s: float  # wall-clock time (time.time()) of t_s = 0
    samples: list[Sample] = field(default_factory=list)
    marks: list[PhaseMark] = field(default_factory=list)
    sources: list[SourceStatus] = field(default_factory=list)
    null_reasons: dict[str, str] = field(default_factory=dict)  # key -> first reason it was None
    counter_ranges: dict[str, float] = field(default_factory=dict)  # key -> wrap modulus (key's unit)
    counter_update_periods_s: dict[str, float] = field(default_factory=dict)  # key -> seconds
    warnings: list[str] = field(default_factory=list)
    tick_s_mean: float | None = None  # mean wall seconds of one tick (includes waiting for the GIL)
    tick_cpu_s_mean: float | None = None  # mean CPU seconds one tick used: the sampler's own cost

    # -- queries ---------------------------------------------------------------------------
    def source(self, name: str) -> SourceStatus | None:
        """The status of one backend by name, or None when it was not run."""
        return next((s for s in self.sources if s.name == name), None)

    def value_keys(self) -> list[str]:
        """Every value key seen in any sample, sorted."""
        seen: set[str] = set()
        for sample in self.samples:
            seen.update(sample.values)
        return sorted(seen)

    def phase_window(self, phase: str) -> tuple[float, float] | None:
        """(start_s, end_s) of the first mark named ``phase`` up to the next later mark.

        A phase with no later mark (an interrupted run) ends at the last sample.
        Returns None when no mark has that name.
        """
        starts = [m for m in self.marks if m.name == phase]
        if not starts:
            return None
        start = starts[0].t_s
        later = [m.t_s for m in self.marks if m.t_s > start]
        if later:
            return start, min(later)
        last = self.samples[-1].t_s if self.samples else start
        return start, max(start, last)

    # -- JSON ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (NaN and infinities become None)."""
        return {
            "format_version": TIMELINE_FORMAT_VERSION,
            "hz": self.hz,
            "started_unix_s": self.started_unix_s,
            "samples": [{"t_s": s.t_s, "values": _json_values(s.values)} for s in self.samples],
            "marks": [{"name": m.name, "t_s": m.t_s} for m in self.marks],
            "sources": [
                {
                    "name": s.name,
                    "available": s.available,
                    "null_reason": s.null_reason,
                    "details": dict(s.details),
                }
                for s in self.sources
            ],
            "null_reasons": dict(self.null_reasons),
            "counter_ranges": dict(self.counter_ranges),
            "counter_update_periods_s": dict(self.counter_update_periods_s),
            "warnings": list(self.warnings),
            "tick_s_mean": self.tick_s_mean,
            "tick_cpu_s_mean": self.tick_cpu_s_mean,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timeline:
        """Rebuild a timeline from ``to_dict`` output; a malformed dict raises StoreError."""
        try:
            version = data.get("format_version", TIMELINE_FORMAT_VERSION)
            if version != TIMELINE_FORMAT_VERSION:
                raise StoreError(
                    f"telemetry timeline format {version!r} is not supported "
                    f"(this dcbench reads format {TIMELINE_FORMAT_VERSION}); upgrade dcbench"
                )
            return cls(
                hz=float(data["hz"]),
                started_unix_s=float(data["started_unix_s"]),
                samples=[
                    Sample(t_s=float(s["t_s"]), values=_load_values(s.get("values", {})))
                    for s in data.get("samples", [])
                ],
                marks=[PhaseMark(name=str(m["name"]), t_s=float(m["t_s"])) for m in data.get("marks", [])],
                sources=[
                    SourceStatus(
                        name=str(s["name"]),
                        available=bool(s["available"]),
                        null_reason=s.get("null_reason"),
                        details={str(k): str(v) for k, v in s.get("details", {}).items()},
                    )
                    for s in data.get("sources", [])
                ],
                null_reasons={str(k): str(v) for k, v in data.get("null_reasons", {}).items()},
                counter_ranges={str(k): float(v) for k, v in data.get("counter_ranges", {}).items()},
                counter_update_periods_s={
                    str(k): float(v) for k, v in data.get("counter_update_periods_s", {}).items()
                },
                warnings=[str(w) for w in data.get("warnings", [])],
                tick_s_mean=_optional_float(data.get("tick_s_mean")),
                tick_cpu_s_mean=_optional_float(data.get("tick_cpu_s_mean")),
            )
        except StoreError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise StoreError(
                f"stored telemetry timeline is malformed ({type(err).__name__}: {err}); "
                "the run's other results are intact"
            ) from err


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _json_number(value: float | int) -> float | int | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json_values(values: dict[str, Value]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, list):
            out[key] = [_json_number(v) for v in value]
        elif value is None or isinstance(value, bool):
            out[key] = None if value is None else int(value)
        else:
            out[key] = _json_number(value)
    return out


def _load_values(raw: dict[str, Any]) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for key, value in raw.items():
        if value is None:
            out[str(key)] = None
        elif isinstance(value, list):
            out[str(key)] = [float(v) if v is not None else math.nan for v in value]
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[str(key)] = value
        else:
            raise ValueError(f"value of {key!r} is {type(value).__name__}, expected a number")
    return out
