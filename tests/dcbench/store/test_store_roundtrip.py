"""Writing a run and reading it back gives exactly what was written."""

from __future__ import annotations

import math
import re
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store_helpers import begin, bench_summary, host_metadata

from dcbench.errors import NotFoundError
from dcbench.store import STATUSES, ResultsStore

# Doubles chosen to expose any decimal/float32 rounding: 0.1 + 0.2 is not 0.3 in binary,
# 5e-324 is the smallest subnormal, 2**-1074 * 3 another subnormal, 1/3 has no short form.
TRICKY_STEP_TIMES_S = [0.1 + 0.2, 5e-324, 3 * 2.0**-1074, 1 / 3, 1e300, 0.0, 123456.78901234567]


def test_round_trip_every_field(store: ResultsStore) -> None:
    before = datetime.now(UTC)
    run_id = begin(store, label="round trip")
    timeline = {
        "samples": [{"t_s": 0.0, "power_w": None, "cpu_percent": 12.5},
                    {"t_s": 0.1, "power_w": 301.25, "cpu_percent": 99.0}],
        "marks": [{"name": "warmup", "t_s": 0.0}, {"name": "measure", "t_s": 0.05}],
        "sources": {"nvml": {"available": False, "reason": "no NVIDIA driver"}},
    }
    store.finish_run(run_id, "ok", summary=bench_summary(), step_times_s=TRICKY_STEP_TIMES_S,
                     timeline=timeline, error=None)
    record = store.get_run(run_id)
    after = datetime.now(UTC)

    assert record.run_id == run_id
    assert record.status == "ok"
    assert (record.workload, record.size, record.device, record.dtype) == ("gpt", "tiny", "cpu", "fp32")
    assert record.label == "round trip"
    assert record.config == {"workload": "gpt", "seed": 0, "steps": 3}
    assert record.metadata == host_metadata()
    assert record.summary == bench_summary()
    assert record.error is None
    assert record.n_steps == len(TRICKY_STEP_TIMES_S)
    assert record.n_samples == 2
    created = datetime.fromisoformat(record.created_at)
    assert created.utcoffset() is not None and created.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert before <= created <= after
    assert record.finished_at is not None and created <= datetime.fromisoformat(record.finished_at) <= after
    # exact floats, compared bit for bit, in step order
    assert [t.hex() for t in store.step_times(run_id)] == [t.hex() for t in TRICKY_STEP_TIMES_S]
    assert store.timeline(run_id) == timeline


def test_run_ids_are_time_sortable_and_unique(store: ResultsStore) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    ids = [begin(store) for _ in range(200)]
    after = datetime.now(UTC)
    assert len(set(ids)) == 200
    for run_id in ids:
        match = re.fullmatch(r"r(\d{8}-\d{6})-[0-9a-f]{6}", run_id)
        assert match, run_id
        stamp = datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
        assert before <= stamp <= after
    # sorted by their time part, ids are in creation order
    stamps = [run_id[:16] for run_id in ids]
    assert stamps == sorted(stamps)


def test_a_begun_run_is_running_with_nothing_measured(store: ResultsStore) -> None:
    run_id = begin(store)
    record = store.get_run(run_id)
    assert record.status == "running" and record.summary is None and record.finished_at is None
    assert (record.n_steps, record.n_samples) == (0, 0)
    assert store.step_times(run_id) == [] and store.timeline(run_id) is None


def test_failed_run_keeps_its_error_and_null_numbers(store: ResultsStore) -> None:
    run_id = begin(store)
    message = "CUDA out of memory\nTraceback (most recent call last): ..."
    store.finish_run(run_id, "oom", summary=None, step_times_s=[], timeline=None, error=message)
    record = store.get_run(run_id)
    assert (record.status, record.error, record.summary, record.n_steps) == ("oom", message, None, 0)


def test_finishing_again_replaces_steps_and_timeline(store: ResultsStore) -> None:
    run_id = begin(store)
    store.finish_run(run_id, "ok", summary={"a": 1}, step_times_s=[1.0, 2.0, 3.0],
                     timeline={"samples": [{"t_s": 0.0}]})
    store.finish_run(run_id, "failed", summary={"a": 2}, step_times_s=[4.0], timeline=None,
                     error="boom")
    record = store.get_run(run_id)
    assert (record.status, record.summary, record.n_steps, record.n_samples) == ("failed", {"a": 2}, 1, 0)
    assert store.step_times(run_id) == [4.0] and store.timeline(run_id) is None


def test_ctrl_c_path_marks_a_run_interrupted_and_keeps_its_steps(store: ResultsStore) -> None:
    run_id = begin(store)
    store.finish_run(run_id, "interrupted", summary=None, step_times_s=[0.5, 0.25])
    other = begin(store)
    store.mark_status(other, "interrupted")
    assert store.get_run(run_id).status == "interrupted"
    assert store.step_times(run_id) == [0.5, 0.25]
    marked = store.get_run(other)
    assert marked.status == "interrupted" and marked.finished_at is not None


def test_statuses_are_validated(store: ResultsStore) -> None:
    run_id = begin(store)
    with pytest.raises(NotFoundError, match=r"unknown run status 'okk'; did you mean 'ok'\?"):
        store.finish_run(run_id, "okk", summary=None, step_times_s=[])
    with pytest.raises(NotFoundError, match="unknown run status 'running'"):
        store.finish_run(run_id, "running", summary=None, step_times_s=[])  # not a final status
    with pytest.raises(NotFoundError, match="unknown run status 'done'"):
        store.mark_status(run_id, "done")
    assert store.get_run(run_id).status == "running"
    assert set(STATUSES) == {"running", "ok", "failed", "oom", "interrupted"}


def test_the_database_itself_rejects_unknown_statuses(store: ResultsStore, store_path: Path) -> None:
    """The CHECK constraint guards the file even against writers that skip the API."""
    run_id = begin(store)
    with sqlite3.connect(store_path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE runs SET status = 'weird' WHERE run_id = ?", (run_id,))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1e-9])
def test_bad_step_times_are_refused_and_nothing_is_written(store: ResultsStore, bad: float) -> None:
    run_id = begin(store)
    with pytest.raises(ValueError, match="step time #1"):
        store.finish_run(run_id, "ok", summary={"x": 1}, step_times_s=[0.5, bad])
    record = store.get_run(run_id)
    assert record.status == "running" and record.summary is None and store.step_times(run_id) == []


def test_unknown_runs_are_not_found(store: ResultsStore) -> None:
    for call in (
        lambda: store.finish_run("r-nope", "ok", summary=None, step_times_s=[1.0]),
        lambda: store.mark_status("r-nope", "failed"),
        lambda: store.step_times("r-nope"),
        lambda: store.timeline("r-nope"),
    ):
        with pytest.raises(NotFoundError, match="no run 'r-nope'"):
            call()
    assert store.list_runs() == []  # the failed finish left no row and no steps behind


def test_summary_numbers_nan_and_numpy_scalars_survive(store: ResultsStore) -> None:
    import numpy as np

    run_id = begin(store, config={"lr": np.float32(0.5), "batch": np.int64(8)})
    store.finish_run(run_id, "ok", summary={"flops": {"mfu": float("nan")}, "x": float("inf")},
                     step_times_s=[np.float64(0.125)])
    record = store.get_run(run_id)
    assert record.config == {"lr": 0.5, "batch": 8}
    assert record.summary is not None and math.isnan(record.summary["flops"]["mfu"])
    assert record.summary["x"] == math.inf
    assert store.step_times(run_id) == [0.125]


finite_floats = st.floats(min_value=0.0, allow_nan=False, allow_infinity=False)


def test_negative_zero_is_stored_as_zero(store: ResultsStore) -> None:
    """SQLite keeps no sign on a zero REAL; a duration of -0.0 s is 0 s."""
    run_id = begin(store)
    store.finish_run(run_id, "ok", summary=None, step_times_s=[-0.0])
    assert [t.hex() for t in store.step_times(run_id)] == ["0x0.0p+0"]
json_leaf = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=8)
json_tree = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=40, deadline=None)
@given(times=st.lists(finite_floats, max_size=50), summary=st.dictionaries(st.text(max_size=6), json_tree, max_size=5))
def test_any_step_times_and_json_summary_round_trip(times: list[float], summary: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as folder, ResultsStore.open(Path(folder) / "p.db") as store:
        run_id = begin(store)
        store.finish_run(run_id, "ok", summary=summary, step_times_s=times)
        assert [t.hex() for t in store.step_times(run_id)] == [t.hex() for t in times]
        assert store.get_run(run_id).summary == summary
