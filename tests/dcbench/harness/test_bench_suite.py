"""``dcbench bench`` with several workloads: one child process each, and what happens when one
dies, runs out of memory or the user presses Ctrl-C. Real children, real SQLite, real signals."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from dcbench.cli.main import main
from dcbench.store import ResultsStore
from workloads.images import write_image_folder

QUICK = ["--steps", "3", "--warmup", "1", "--sample-hz", "20"]
# Far more than any address space (x86-64 user space is 2**47 bytes): allocating the
# first batch fails in the allocator on every machine, whatever its overcommit policy.
BATCH_THAT_CANNOT_FIT = str(10**14)


def _dcbench(*args: str) -> list[str]:
    return [sys.executable, "-m", "dcbench", *args]


def _statuses(store: Path) -> list[str]:
    if not store.exists():
        return []
    with sqlite3.connect(store) as conn:
        return sorted(row[0] for row in conn.execute("select status from runs"))


def _wait_for(predicate, timeout_s: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached in time")


def test_a_killed_child_loses_nothing_else(tmp_path: Path) -> None:
    """SIGKILL (what the kernel's OOM killer sends) ends one workload; the next still runs and is stored."""
    store = tmp_path / "kill.db"
    parent = subprocess.Popen(
        _dcbench("bench", "mlp", "gpt", *QUICK, "--store", str(store), "--json"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    me = psutil.Process(parent.pid)
    _wait_for(lambda: bool(me.children()))
    first_child = me.children()[0]
    first_child.kill()  # during its start-up, long before it could store anything
    out, err = parent.communicate(timeout=300)
    assert parent.returncode == 1, err
    killed, survived = (json.loads(line) for line in out.strip().splitlines())
    assert killed["workload"] == "mlp" and killed["status"] == "failed" and killed["run_id"] is None
    assert "killed by SIGKILL" in killed["error"]
    assert survived["workload"] == "gpt" and survived["status"] == "ok"
    assert killed["device"] == survived["device"]  # the resolved device, not "auto"
    assert _statuses(store) == ["ok"]
    with ResultsStore.open(store) as db:
        record = db.get_run(survived["run_id"])
    # The run records what the user typed, and separately the child's own argv.
    assert record.metadata["command_line"][1:] == ["bench", "mlp", "gpt", *QUICK, "--store", str(store), "--json"]
    assert "--in-process" in record.metadata["child_command_line"]


def _read_all(fd: int, sink: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO once the last writer closed the terminal
            return
        if not chunk:
            return
        sink.append(chunk)


def test_out_of_memory_is_recorded_and_the_suite_goes_on(tmp_path: Path) -> None:
    """Both workloads fail to allocate their first batch: both stored as 'oom', exit 1, one table;
    stderr is a terminal here, so the suite's progress bar is drawn there and only there."""
    store = tmp_path / "oom.db"
    master, slave = os.openpty()
    chunks: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(master, chunks), daemon=True)
    reader.start()
    proc = subprocess.Popen(
        _dcbench("bench", "gpt", "mlp", *QUICK, "--batch-size", BATCH_THAT_CANNOT_FIT, "--store", str(store)),
        stdout=subprocess.PIPE, stderr=slave, text=True,
    )
    os.close(slave)
    out, _ = proc.communicate(timeout=300)
    reader.join(timeout=10)
    os.close(master)
    terminal = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 1
    assert _statuses(store) == ["oom", "oom"]
    with ResultsStore.open(store) as db:
        for record in db.list_runs():
            assert record.error is not None and "use a smaller --batch-size" in record.error
            assert db.step_times(record.run_id) == []
    rows = [line.split() for line in out.splitlines()]
    gpt_row = next(r for r in rows if r[:1] == ["gpt"])
    assert gpt_row[:3] == ["gpt", "oom", BATCH_THAT_CANNOT_FIT]
    assert any(r[:2] == ["mlp", "oom"] for r in rows)
    assert "stored 2 runs" in out
    assert "bench gpt" in terminal and "━" in terminal  # the suite's progress bar
    assert "Traceback" not in terminal


def test_ctrl_c_stops_the_suite_and_keeps_the_partial_run(tmp_path: Path) -> None:
    """SIGINT to the suite reaches the running child once; it stores its partial run as 'interrupted'
    and the workloads after it never start."""
    store = tmp_path / "int.db"
    parent = subprocess.Popen(
        _dcbench("bench", "mlp", "gpt", "--steps", "10000000", "--warmup", "1", "--store", str(store), "--json"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    _wait_for(lambda: _statuses(store) == ["running"])
    time.sleep(1.0)  # usually some measured steps (the first step imports lazily for ~1 s)
    parent.send_signal(signal.SIGINT)  # to the parent alone, as a terminal's Ctrl-C now is
    out, err = parent.communicate(timeout=180)
    assert parent.returncode == 130, err
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert [s["workload"] for s in lines] == ["mlp"]
    assert lines[0]["status"] == "interrupted"
    assert lines[0]["error"].startswith("interrupted (Ctrl-C) after")
    assert _statuses(store) == ["interrupted"]
    with ResultsStore.open(store) as db:
        assert len(db.step_times(lines[0]["run_id"])) == lines[0]["steps"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--channels-last"], "drop --channels-last"),
        (["--data-dir", "IMAGES"], "drop --data-dir"),
        (["--batch-size", "0"], "--batch-size"),
        (["--sample-hz", "5000"], "--sample-hz"),
    ],
)
def test_bad_input_for_any_workload_stops_the_suite_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    images = tmp_path / "images"
    write_image_folder(str(images), count=4, size=16, seed=0)
    store = tmp_path / "bad.db"
    argv = ["bench", "all", *QUICK, *[str(images) if a == "IMAGES" else a for a in extra], "--store", str(store)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert _statuses(store) == []  # cnn, first in 'all', never ran
