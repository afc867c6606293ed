"""Turn stored runs into export tables (CSV, Parquet) and JSON documents.

Table exports have one row per run: the fixed run columns, then every summary
key flattened to a dotted name (``throughput.samples_per_s``), sorted. Lists
inside a summary (warnings, for instance) become JSON text in one cell. With
step times requested, the table is instead one row per measured step. The JSON
export holds the full records. The column sets are a public contract
(docs/store.md). pyarrow is imported only when a Parquet file is written.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dcbench.errors import unknown
from dcbench.store.records import RunRecord, finite_or_none

FORMATS: tuple[str, ...] = ("csv", "json", "parquet")

# The run's own columns, first in every per-run table, in this order.
RUN_COLUMNS: tuple[str, ...] = (
    "run_id",
    "created_at",
    "finished_at",
    "status",
    "workload",
    "size",
    "device",
    "dtype",
    "label",
    "n_steps",
    "n_samples",
    "error",
)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # Parquet INT64 range; larger ints become doubles

# Columns of the per-step table (``--steps``); step_time_s in seconds.
STEP_COLUMNS: tuple[str, ...] = ("run_id", "step_index", "step_time_s")


@dataclass(frozen=True, kw_only=True, slots=True)
class Table:
    """Rows to export: ``columns`` in order, each row a dict over them (missing = None)."""

    columns: tuple[str, ...]
    rows: list[dict[str, Any]]


def check_format(name: str) -> str:
    """Return ``name`` if it is an export format, else raise a one-line 'unknown' UsageError."""
    if name not in FORMATS:
        raise unknown("export format", name, FORMATS)
    return name


def flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts to dotted keys; lists become JSON text; empty dicts add nothing."""
    flat: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list | tuple):
            flat[name] = json.dumps(finite_or_none(list(value)), separators=(",", ":"))
        else:
            flat[name] = value
    return flat


def runs_table(records: Sequence[RunRecord]) -> Table:
    """One row per run: RUN_COLUMNS, then the sorted union of flattened summary keys."""
    rows: list[dict[str, Any]] = []
    extra: set[str] = set()
    for record in records:
        row = {name: getattr(record, name) for name in RUN_COLUMNS}
        for key, value in flatten(record.summary or {}).items():
            if key not in RUN_COLUMNS:  # the run's own column is authoritative
                row[key] = value
                extra.add(key)
        rows.append(row)
    return Table(columns=RUN_COLUMNS + tuple(sorted(extra)), rows=rows)


def steps_table(step_times: Iterable[tuple[str, Sequence[float]]]) -> Table:
    """One row per measured step from (run_id, step times in seconds) pairs."""
    rows = [
        {"run_id": run_id, "step_index": i, "step_time_s": t}
        for run_id, times in step_times
        for i, t in enumerate(times)
    ]
    return Table(columns=STEP_COLUMNS, rows=rows)


def json_records(
    records: Sequence[RunRecord], step_times: dict[str, list[float]] | None = None
) -> list[dict[str, Any]]:
    """Full records for the JSON export (strict JSON: NaN/infinity become null).

    With ``step_times`` each record gains ``step_times_s`` (seconds, in step order).
    """
    out = []
    for record in records:
        doc = record.to_dict()
        if step_times is not None:
            doc["step_times_s"] = step_times.get(record.run_id, [])
        out.append(finite_or_none(doc))
    return out


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, dict | list):
        return json.dumps(finite_or_none(value), separators=(",", ":"))
    return value


def write_csv(table: Table, stream: IO[str]) -> None:
    """Write ``table`` as CSV with a header; None and non-finite floats are empty cells.

    Floats are written with ``repr`` so they read back to the same double;
    booleans as ``true``/``false``.
    """
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_csv_cell(row.get(name)) for name in table.columns])


def write_json(doc: Any, stream: IO[str]) -> None:
    """Write ``doc`` as strict, indented JSON followed by a newline."""
    json.dump(finite_or_none(doc), stream, indent=2, allow_nan=False)
    stream.write("\n")


def _arrow_column(values: list[Any]) -> Any:
    """A pyarrow array with one type per column: bool, int64, float64 or string (else JSON text)."""
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if not present:
        return pa.array(values, type=pa.null())
    if all(isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.bool_())
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
    if numbers and all(isinstance(v, int) and INT64_MIN <= v <= INT64_MAX for v in present):
        return pa.array(values, type=pa.int64())
    if numbers:
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    if all(isinstance(v, str) for v in present):
        return pa.array(values, type=pa.string())
    text = [None if v is None else v if isinstance(v, str) else json.dumps(v) for v in values]
    return pa.array(text, type=pa.string())


def write_parquet(table: Table, path: Path) -> None:
    """Write ``table`` to a Parquet file at ``path`` (columns typed as in :func:`_arrow_column`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [_arrow_column([row.get(name) for row in table.rows]) for name in table.columns]
    pq.write_table(pa.Table.from_arrays(arrays, names=list(table.columns)), str(path))
