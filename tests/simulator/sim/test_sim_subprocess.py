"""``dcbench simulate`` as a user runs it: a real process, its exit code, stderr and terminal.

Bad input (issue 4, §6) gives a non-zero exit and one line naming the problem and
the fix, never a traceback; an unreachable or silent Dask scheduler fails within
the connection timeout; the progress bar is drawn on a terminal's stderr and never
with ``--json``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from simtest_helpers import MINIMAL


def _dcbench(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dcbench", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, check=False)


def _one_line_error(proc: subprocess.CompletedProcess[str], needle: str, code: int = 2) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("dcbench: error: "), proc.stderr
    assert needle in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        # unknown key: named, with the closest valid one
        (("restart_s: 600", "restrat_s: 600"), "unknown key 'restrat_s'; did you mean 'restart_s'?"),
        (("{interval_s: 3600,", "{intervall_s: 3600,"), "unknown key 'checkpoint.intervall_s'; did you mean 'interval_s'?"),
        # wrong units and wrong types
        (("mtbf_s: 36000", "mtbf_s: 10 fortnights"), "failures.mtbf_s: cannot read '10 fortnights' as a duration"),
        (("write_s: 300", "write_s: 5GB"), "checkpoint.write_s: cannot read '5GB' as a duration"),
        (("gpus: 1024", "gpus: many"), "gpus: Input should be a valid integer"),
        # negative rates and times
        (("failures: {mtbf_s: 36000}", "failures: {causes: {nic: {per_node_day: -0.1}}}"),
         "failures.causes.nic.per_node_day: input should be greater than or equal to 0 (got -0.1); negative"),
        (("restart_s: 600", "restart_s: -600"), "restart_s: input should be greater than or equal to 0"),
        # impossible layouts
        (("gpus: 1024", "gpus: 1024\nlayout: {tp: 3}"), "layout tp x pp x cp = 3 does not divide gpus 1024"),
    ],
)
def test_bad_scenarios_exit_non_zero_with_one_line(tmp_path: Path, change: tuple[str, str], needle: str) -> None:
    old, new = change
    assert old in MINIMAL
    (tmp_path / "bad.yaml").write_text(MINIMAL.replace(old, new))
    _one_line_error(_dcbench("simulate", "bad.yaml", "--replicas", "2", cwd=tmp_path), needle)


def test_a_layout_the_planner_cannot_place_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(MINIMAL + "layout: {tp: 16}\n")  # beyond an 8-GPU node
    proc = _dcbench("simulate", "bad.yaml", cwd=tmp_path)
    assert proc.returncode != 0 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "tp" in proc.stderr


def test_loading_never_runs_code_and_a_failed_run_keeps_the_old_timeline(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (tmp_path / "evil.yaml").write_text(
        f"kind: !!python/object/apply:os.system ['touch {marker}']\ntokens: 1\n"
    )
    timeline = tmp_path / "timeline.json"
    timeline.write_text('{"kept": true}')
    proc = _dcbench("simulate", "evil.yaml", "--timeline", str(timeline), cwd=tmp_path)
    _one_line_error(proc, "YAML tag dcbench does not load")
    assert not marker.exists()
    assert json.loads(timeline.read_text()) == {"kept": True}


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers (like an HTTP port)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for conn in accepted:
        conn.close()
    server.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_or_silent_dask_scheduler_fails_within_the_timeout(tmp_path: Path, silent_server: str) -> None:
    for address in (f"tcp://127.0.0.1:{_free_port()}", silent_server):
        started = time.monotonic()
        proc = _dcbench("simulate", "--preset", "minimal-8b", "--scheduler", address,
                        "--connect-timeout", "2", cwd=tmp_path, timeout=60)
        elapsed = time.monotonic() - started
        _one_line_error(proc, f"cannot reach the Dask scheduler at {address} within 2 s", code=1)
        # 2 s to connect plus the start-up of Python and the planner; without the hard
        # deadline a silent server hangs the client for good
        assert elapsed < 30, elapsed


def _read_all(fd: int, sink: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return
        sink.append(chunk)


def _on_a_terminal(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run with stderr on a pseudo-terminal; returns the process and what the terminal got."""
    master, slave = os.openpty()
    chunks: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(master, chunks), daemon=True)
    reader.start()
    proc = subprocess.Popen([sys.executable, "-m", "dcbench", *args], stdout=subprocess.PIPE, stderr=slave,
                            text=True, cwd=tmp_path)
    os.close(slave)
    out, _ = proc.communicate(timeout=120)
    reader.join(timeout=10)
    os.close(master)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, ""), b"".join(chunks).decode(errors="replace")


def test_the_progress_bar_is_on_the_terminal_and_never_in_json(tmp_path: Path) -> None:
    args = ("simulate", "--preset", "minimal-8b", "--replicas", "40", "--workers", "2")
    proc, terminal = _on_a_terminal(tmp_path, *args)
    assert proc.returncode == 0
    assert "simulate" in terminal and "━" in terminal and "40/40" in terminal
    assert "effective training time" in proc.stdout and "40/40" not in proc.stdout  # the bar is not on stdout
    proc, terminal = _on_a_terminal(tmp_path, *args, "--json")
    assert proc.returncode == 0
    assert terminal == ""  # nothing on stderr at all
    assert json.loads(proc.stdout)["replicas"] == 40
