"""Listing, filtering and finding runs."""

from __future__ import annotations

import pytest
from store_helpers import begin, bench_summary

from dcbench.errors import NotFoundError, UsageError
from dcbench.store import ResultsStore


def _fill(store: ResultsStore) -> list[str]:
    """Five runs, oldest first: gpt ok, mlp ok, gpt failed, bert running, mlp interrupted."""
    ids = []
    for workload, status in [("gpt", "ok"), ("mlp", "ok"), ("gpt", "failed"), ("bert", None),
                             ("mlp", "interrupted")]:
        run_id = begin(store, workload=workload)
        if status is not None:
            store.finish_run(run_id, status, summary=bench_summary(), step_times_s=[0.5])
        ids.append(run_id)
    return ids


def test_list_is_newest_first(store: ResultsStore) -> None:
    ids = _fill(store)
    listed = store.list_runs()
    assert [r.run_id for r in listed] == ids[::-1]
    created = [r.created_at for r in listed]
    assert created == sorted(created, reverse=True)


def test_list_filters_and_limit(store: ResultsStore) -> None:
    ids = _fill(store)
    assert [r.run_id for r in store.list_runs(workload="gpt")] == [ids[2], ids[0]]
    assert [r.run_id for r in store.list_runs(status="ok")] == [ids[1], ids[0]]
    assert [r.run_id for r in store.list_runs(workload="mlp", status="ok")] == [ids[1]]
    assert [r.run_id for r in store.list_runs(status="running")] == [ids[3]]
    assert [r.run_id for r in store.list_runs(limit=2)] == [ids[4], ids[3]]
    assert store.list_runs(workload="resnet") == []


def test_list_rejects_bad_filters(store: ResultsStore) -> None:
    with pytest.raises(NotFoundError, match="unknown run status 'fail'; did you mean 'failed'"):
        store.list_runs(status="fail")
    for bad in (0, -3):
        with pytest.raises(UsageError, match="--limit must be a positive number"):
            store.list_runs(limit=bad)


def test_get_run_by_unique_prefix(store: ResultsStore) -> None:
    ids = _fill(store)
    target = ids[2]
    # the shortest prefix no other id shares
    length = next(n for n in range(1, len(target) + 1)
                  if sum(i.startswith(target[:n]) for i in ids) == 1)
    assert store.get_run(target[:length]).run_id == target
    assert store.get_run(target).run_id == target


def test_ambiguous_and_unknown_prefixes_are_one_line_errors(store: ResultsStore) -> None:
    ids = _fill(store)
    with pytest.raises(NotFoundError) as ambiguous:
        store.get_run("r")
    text = str(ambiguous.value)
    assert "ambiguous" in text and "\n" not in text and ids[0] in text
    with pytest.raises(NotFoundError, match="no run 'x123'.*dcbench results list"):
        store.get_run("x123")
    with pytest.raises(NotFoundError):
        store.get_run("")


def test_prefix_lookup_treats_like_wildcards_literally(store: ResultsStore) -> None:
    _fill(store)
    for pattern in ("%", "_", "r%", "r________"):
        with pytest.raises(NotFoundError, match="no run"):
            store.get_run(pattern)


def test_latest_is_the_newest_run(store: ResultsStore) -> None:
    with pytest.raises(NotFoundError, match="no runs stored"):
        store.get_run("latest")
    ids = _fill(store)
    assert store.get_run("latest").run_id == ids[-1]


def test_indexed_columns_follow_the_summary(store: ResultsStore, store_path: object) -> None:
    """The flat columns used by `results list` hold the summary's numbers (or NULL)."""
    import sqlite3

    run_id = begin(store)
    summary = bench_summary(samples_per_s=400.0, mfu=None)
    store.finish_run(run_id, "ok", summary=summary, step_times_s=[0.02])
    with sqlite3.connect(str(store_path)) as conn:
        row = conn.execute(
            "SELECT median_step_time_s, samples_per_s, tokens_per_s, mfu, energy_j FROM runs"
        ).fetchone()
    assert row == (8 / 400.0, 400.0, 400.0 * 128, None, 12.5)
