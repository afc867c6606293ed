"""What a stored run looks like to callers, and how its parts become JSON text.

JSON is written with Python's ``json`` module, whose float output is the
shortest repr that reads back to the same IEEE 754 double, so every float in a
config, summary or timeline round-trips exactly. NaN and infinity are kept
(written as ``NaN``/``Infinity``, which ``json.loads`` reads back); only the
exports and ``--json`` output turn them into ``null`` (see docs/store.md).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any


@dataclass(frozen=True, kw_only=True, slots=True)
class RunRecord:
    """One stored run. Times are UTC ISO 8601 strings; ``summary`` uses SI-named keys."""

    run_id: str  # time-sortable id, e.g. 'r20261201-025300-ab12cd'
    created_at: str  # when begin_run was called (UTC, ISO 8601, microseconds)
    status: str  # one of dcbench.store.STATUSES
    workload: str
    size: str
    device: str  # torch device string, e.g. 'cpu', 'cuda:0'
    dtype: str
    label: str | None
    config: dict[str, Any]
    metadata: dict[str, Any]  # host, software and command line of the run
    summary: dict[str, Any] | None  # the per-run object `dcbench bench --json` prints
    error: str | None
    n_steps: int  # stored step times
    n_samples: int  # stored telemetry samples
    finished_at: str | None = None  # when the status last left 'running' (UTC, ISO 8601)
    writer_pid: int | None = None  # process id that began the run
    writer_host: str | None = None  # hostname of that process

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (nested dicts are copies)."""
        return dataclasses.asdict(self)


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 text of a UTC time with microseconds, e.g. '2026-12-01T02:53:00.123456+00:00'."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def new_run_id(moment: datetime) -> str:
    """A run id that sorts by creation second: 'r' + UTC date-time + 24 random bits.

    Uniqueness within one second comes from ``secrets`` (collision chance 1 in
    16.7 million per pair); the store retries on the rare clash.
    """
    stamp = moment.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return f"r{stamp}-{secrets.token_hex(3)}"


def _json_default(obj: Any) -> Any:
    """Turn the few non-JSON types a caller may pass (numpy scalars, dataclasses, paths) into JSON."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, set | frozenset):
        return list(obj)
    item = getattr(obj, "item", None)  # numpy / torch scalars
    if callable(item):
        return item()
    tolist = getattr(obj, "tolist", None)  # numpy arrays
    if callable(tolist):
        return tolist()
    raise TypeError(f"cannot store a {type(obj).__name__} as JSON")


def dumps(obj: Any) -> str:
    """JSON text of ``obj`` for storage (NaN/infinity kept, see module docstring)."""
    return json.dumps(obj, default=_json_default, separators=(",", ":"))


def loads(text: str | None) -> Any:
    """Parse stored JSON text; None stays None."""
    return None if text is None else json.loads(text)


def finite_or_none(obj: Any) -> Any:
    """A copy of ``obj`` with every NaN/infinite float replaced by None (strict JSON)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_or_none(v) for v in obj]
    return obj


def _number_at(summary: dict[str, Any] | None, *keys: str) -> float | None:
    node: Any = summary
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    value = float(node)
    return value if math.isfinite(value) else None


@dataclass(frozen=True, kw_only=True, slots=True)
class IndexedColumns:
    """Summary numbers copied into indexed ``runs`` columns for listing and filtering."""

    median_step_time_s: float | None  # summary.step_time_s.median, seconds
    samples_per_s: float | None  # summary.throughput.samples_per_s
    tokens_per_s: float | None  # summary.throughput.tokens_per_s
    mfu: float | None  # summary.flops.mfu, a ratio in [0, 1]
    energy_j: float | None  # summary.energy.total_j, joules

    @classmethod
    def from_summary(cls, summary: dict[str, Any] | None) -> IndexedColumns:
        """Pick the numbers out of a summary; missing or non-finite ones are None."""
        return cls(
            median_step_time_s=_number_at(summary, "step_time_s", "median"),
            samples_per_s=_number_at(summary, "throughput", "samples_per_s"),
            tokens_per_s=_number_at(summary, "throughput", "tokens_per_s"),
            mfu=_number_at(summary, "flops", "mfu"),
            energy_j=_number_at(summary, "energy", "total_j"),
        )


def count_samples(timeline: dict[str, Any] | None) -> int:
    """Number of telemetry samples in a timeline dict (its ``samples`` list)."""
    if not timeline:
        return 0
    samples = timeline.get("samples")
    if isinstance(samples, list):
        return len(samples)
    return 0


def process_alive(record: RunRecord, hostname: str) -> bool | None:
    """Whether the process that began ``record`` still runs; None when it cannot be told.

    Only answerable on the host that wrote the run. A reused pid can make a dead
    writer look alive, so a True answer means "probably still running".
    """
    if record.writer_pid is None or record.writer_host != hostname:
        return None
    try:
        os.kill(record.writer_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def checked_step_times(step_times_s: Sequence[float]) -> list[float]:
    """Step times as floats, refusing non-durations (NaN, infinite, negative, bool).

    Raises ValueError: a bad step time is a bug in the caller, not user input.
    ``-0.0`` becomes ``0.0``; SQLite would drop the sign anyway.
    """
    times: list[float] = []
    for i, value in enumerate(step_times_s):
        if isinstance(value, bool):
            raise ValueError(f"step time #{i} is a bool, not seconds")
        t = float(value)
        if not math.isfinite(t) or t < 0:
            raise ValueError(f"step time #{i} is {t!r}; step times are durations >= 0 s")
        times.append(t + 0.0)
    return times


def record_from_row(row: Mapping[str, Any]) -> RunRecord:
    """Build a RunRecord from a ``runs`` row (sqlite3.Row or dict keyed by column)."""
    return RunRecord(
        run_id=row["run_id"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        status=row["status"],
        workload=row["workload"],
        size=row["size"],
        device=row["device"],
        dtype=row["dtype"],
        label=row["label"],
        config=loads(row["config_json"]),
        metadata=loads(row["metadata_json"]),
        summary=loads(row["summary_json"]),
        error=row["error"],
        n_steps=int(row["n_steps"]),
        n_samples=int(row["n_samples"]),
        writer_pid=row["writer_pid"],
        writer_host=row["writer_host"],
    )
