"""Export tables and documents: flattening, and CSV/JSON/Parquet files that read back."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from store_helpers import begin, bench_summary

from dcbench.errors import UsageError
from dcbench.store import ResultsStore, RunRecord
from dcbench.store.export import (
    RUN_COLUMNS,
    STEP_COLUMNS,
    check_format,
    flatten,
    json_records,
    runs_table,
    steps_table,
    write_csv,
    write_json,
    write_parquet,
)


def test_flatten_uses_dotted_names() -> None:
    nested = {"throughput": {"samples_per_s": 10.5, "tokens_per_s": None},
              "energy": {}, "warnings": ["a", "b"], "steps": 3}
    assert flatten(nested) == {
        "throughput.samples_per_s": 10.5,
        "throughput.tokens_per_s": None,
        "warnings": '["a","b"]',
        "steps": 3,
    }


def test_check_format() -> None:
    assert [check_format(f) for f in ("csv", "json", "parquet")] == ["csv", "json", "parquet"]
    with pytest.raises(UsageError, match="unknown export format 'parquett'; did you mean 'parquet'"):
        check_format("parquett")


def _two_runs(store: ResultsStore) -> list[RunRecord]:
    first = begin(store, workload="gpt")
    store.finish_run(first, "ok", summary=bench_summary(samples_per_s=812.25),
                     step_times_s=[0.1 + 0.2, 1 / 3])
    second = begin(store, workload="mlp", label=None)
    store.finish_run(second, "failed", summary={"extra": {"only_here": True}, "status": "stale"},
                     step_times_s=[], error='bad, "quoted"\nline two')
    return store.list_runs()


def test_runs_table_columns(store: ResultsStore) -> None:
    table = runs_table(_two_runs(store))
    assert table.columns[: len(RUN_COLUMNS)] == RUN_COLUMNS
    extra = table.columns[len(RUN_COLUMNS):]
    assert list(extra) == sorted(extra)
    assert {"throughput.samples_per_s", "flops.mfu", "extra.only_here"} <= set(extra)
    assert "status" not in extra  # the run's own status column wins over a summary key
    failed, ok = table.rows
    assert failed["status"] == "failed" and "throughput.samples_per_s" not in failed
    assert ok["throughput.samples_per_s"] == 812.25


def test_csv_reads_back_with_exact_floats(store: ResultsStore) -> None:
    runs = _two_runs(store)
    buffer = io.StringIO()
    write_csv(runs_table(runs), buffer)
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert [r["run_id"] for r in rows] == [r.run_id for r in runs]
    failed, ok = rows
    assert float(ok["throughput.samples_per_s"]) == 812.25
    assert float(ok["step_time_s.median"]) == 8 / 812.25  # repr round-trips the double exactly
    assert float(ok["step_time_s.p95"]) == 0.1 + 0.2
    assert ok["memory.peak_device_bytes"] == "" and ok["label"] == "baseline"
    assert json.loads(ok["warnings"]) == ["step times vary"]
    assert failed["extra.only_here"] == "true" and failed["label"] == ""
    assert failed["error"] == 'bad, "quoted"\nline two'
    assert ok["n_steps"] == "2" and failed["n_steps"] == "0"


def test_steps_table_has_one_row_per_step(store: ResultsStore) -> None:
    runs = _two_runs(store)
    table = steps_table((r.run_id, store.step_times(r.run_id)) for r in runs)
    assert table.columns == STEP_COLUMNS
    assert table.rows == [
        {"run_id": runs[1].run_id, "step_index": 0, "step_time_s": 0.1 + 0.2},
        {"run_id": runs[1].run_id, "step_index": 1, "step_time_s": 1 / 3},
    ]


def test_json_records_are_strict_and_complete(store: ResultsStore) -> None:
    run_id = begin(store)
    store.finish_run(run_id, "ok", summary={"flops": {"mfu": float("nan")}}, step_times_s=[0.5])
    runs = store.list_runs()
    buffer = io.StringIO()
    write_json(json_records(runs, {run_id: [0.5]}), buffer)
    text = buffer.getvalue()
    assert "NaN" not in text
    (doc,) = json.loads(text)
    assert doc["summary"] == {"flops": {"mfu": None}}
    assert doc["step_times_s"] == [0.5]
    assert doc["metadata"] == runs[0].metadata and doc["config"] == runs[0].config
    assert set(doc) >= {"run_id", "created_at", "status", "workload", "n_steps", "n_samples"}


def test_parquet_reads_back_typed(store: ResultsStore, tmp_path: Path) -> None:
    runs = _two_runs(store)
    out = tmp_path / "runs.parquet"
    write_parquet(runs_table(runs), out)
    table = pq.read_table(out)
    assert table.column_names == list(runs_table(runs).columns)
    assert str(table.schema.field("throughput.samples_per_s").type) == "double"
    assert str(table.schema.field("n_steps").type) == "int64"
    assert str(table.schema.field("extra.only_here").type) == "bool"
    assert str(table.schema.field("workload").type) == "string"
    rows = table.to_pylist()
    assert rows[1]["throughput.samples_per_s"] == 812.25
    assert rows[1]["step_time_s.p95"] == 0.1 + 0.2
    assert rows[0]["throughput.samples_per_s"] is None
    assert [r["run_id"] for r in rows] == [r.run_id for r in runs]


def test_parquet_mixed_int_and_float_column_is_float(tmp_path: Path) -> None:
    from dcbench.store.export import Table

    out = tmp_path / "mixed.parquet"
    rows = [{"x": 1, "y": {"a": 1}, "big": 2**64}, {"x": 2.5, "y": "s", "big": 3}]
    write_parquet(Table(columns=("x", "y", "big"), rows=rows), out)
    table = pq.read_table(out)
    assert table.column("x").to_pylist() == [1.0, 2.5]
    assert table.column("big").to_pylist() == [2.0**64, 3.0]
    assert table.column("y").to_pylist() == ['{"a": 1}', "s"]
