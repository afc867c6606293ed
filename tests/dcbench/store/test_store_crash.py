"""Real processes: SIGKILL mid-write, Ctrl-C mid-run, and concurrent writers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from store_helpers import WRITER, load_writer

from dcbench.store import ResultsStore

WRITER_MODULE = load_writer()
COMMITTED_BEFORE_KILL = 3  # runs the child must report committed before it is killed
KILL_DELAYS_S = (0.0, 0.0007, 0.0015, 0.0026, 0.004, 0.0065)  # spread over a run's few ms
TIMEOUT_S = 120


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _read_line(stream: IO[str] | None) -> str:
    assert stream is not None
    line = stream.readline()
    assert line, "the writer exited early"
    return line.strip()


def _assert_intact(store: ResultsStore, index: int, run_id: str) -> None:
    """Run ``index`` reads back exactly as the writer wrote it."""
    w = WRITER_MODULE
    record = store.get_run(run_id)
    assert record.status == "ok"
    assert record.config == w.config(index)
    assert record.summary == w.summary(index)
    assert record.label == f"run {index}"
    assert (record.n_steps, record.n_samples) == (w.N_STEPS, w.N_SAMPLES)
    assert store.step_times(run_id) == w.step_times(index)
    assert store.timeline(run_id) == w.timeline(index)


def test_sigkill_inside_an_open_transaction_rolls_that_run_back(tmp_path: Path) -> None:
    """Deterministic: the child stalls inside finish_run's transaction and is killed there."""
    path = tmp_path / "stall.db"
    child = _spawn(str(path), "stall", "3")
    try:
        committed = [_read_line(child.stdout).split()[2] for _ in range(3)]
        word, stalled = _read_line(child.stdout).split()
        assert word == "stalled"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    with ResultsStore.open(path) as store:
        assert store.integrity_check() == "ok"
        for index, run_id in enumerate(committed):
            _assert_intact(store, index, run_id)
        record = store.get_run(stalled)  # begun in its own, committed transaction
        assert record.status == "running" and record.summary is None and record.n_steps == 0
        assert store.step_times(stalled) == [] and store.timeline(stalled) is None


def test_sigkill_while_writing_leaves_every_committed_run_intact(tmp_path: Path) -> None:
    """Kill a writer looping over runs, several times, at different moments of its loop.

    A run takes a few milliseconds, mostly inside its two transactions, so the kills
    land in or between transactions; whatever the moment, every run the child reported
    committed reads back exactly and the file passes SQLite's integrity check.
    """
    path = tmp_path / "kill.db"
    committed: dict[str, int] = {}
    for delay_s in KILL_DELAYS_S:
        child = _spawn(str(path), "loop")
        try:
            for _ in range(COMMITTED_BEFORE_KILL):
                _, index_text, run_id = _read_line(child.stdout).split()
                committed[run_id] = int(index_text)
            time.sleep(delay_s)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=TIMEOUT_S)
        finally:
            if child.poll() is None:
                child.kill()
            child.communicate()
        assert child.returncode == -signal.SIGKILL

    with ResultsStore.open(path) as store:
        assert store.integrity_check() == "ok"
        for run_id, index in committed.items():
            _assert_intact(store, index, run_id)
        # A run committed but not reported yet is whole too; one caught between begin
        # and finish is 'running' with nothing measured. Nothing is half-written.
        for record in store.list_runs():
            if record.run_id in committed:
                continue
            if record.status == "running":
                assert record.summary is None and store.step_times(record.run_id) == []
                assert store.timeline(record.run_id) is None
            else:
                _assert_intact(store, record.config["index"], record.run_id)
        # the store still takes new runs
        fresh = store.begin_run(workload="mlp", size="tiny", device="cpu", dtype="fp32",
                                config={}, metadata={})
        store.finish_run(fresh, "ok", summary=None, step_times_s=[1.5])
        assert store.step_times(fresh) == [1.5]


def test_ctrl_c_keeps_the_partial_run_marked_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "int.db"
    child = _spawn(str(path), "interrupt")
    try:
        earlier = [_read_line(child.stdout).split()[2] for _ in range(2)]
        word, partial = _read_line(child.stdout).split()
        assert word == "measuring"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    word, run_id, n = out.split()
    assert (word, run_id) == ("interrupted", partial)
    n_steps = int(n)

    with ResultsStore.open(path) as store:
        record = store.get_run(partial)
        assert record.status == "interrupted" and record.n_steps == n_steps
        assert store.step_times(partial) == [0.25 + k / 1024.0 for k in range(n_steps)]
        for index, run_id in enumerate(earlier):
            _assert_intact(store, index, run_id)


def test_concurrent_writers_all_succeed(tmp_path: Path) -> None:
    """`dcbench bench all` runs one process per workload against one store."""
    path = tmp_path / "shared.db"
    workloads = ["mlp", "gpt", "bert", "cnn"]
    per_writer = 4
    children = [_spawn(str(path), "count", str(per_writer), w) for w in workloads]
    for child in children:
        _, err = child.communicate(timeout=TIMEOUT_S)
        assert child.returncode == 0, err
    with ResultsStore.open(path) as store:
        runs = store.list_runs()
        assert len(runs) == per_writer * len(workloads)
        for workload in workloads:
            mine = store.list_runs(workload=workload)
            assert sorted(r.config["index"] for r in mine) == list(range(per_writer))
            for record in mine:
                _assert_intact(store, record.config["index"], record.run_id)
        assert store.integrity_check() == "ok"
