"""``dcbench bench`` end to end on the CPU: real training, real SQLite, real child processes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dcbench.cli.main import main
from dcbench.store import ResultsStore

QUICK = ["--steps", "3", "--warmup", "1", "--sample-hz", "20"]
REQUIRED_KEYS = [
    "run_id", "workload", "size", "device", "dtype", "status",
    "throughput.samples_per_s", "throughput.tokens_per_s",
    "step_time_s.median", "step_time_s.p95",
    "flops.per_step_analytic", "flops.per_step_counted", "flops.achieved_per_s", "flops.mfu",
    "memory.peak_host_rss_bytes", "memory.peak_device_bytes",
    "energy.total_j", "telemetry.samples",
]


def _get(obj: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj[part]
    return obj


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dcbench", *args],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )


def _run_count(store: Path) -> int:
    with sqlite3.connect(store) as conn:
        return int(conn.execute("select count(*) from runs").fetchone()[0])


def test_single_run_json_has_the_contract_keys_and_is_stored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "r.db"
    code = main(["bench", "gpt", *QUICK, "--store", str(store), "--json", "--label", "t1"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and len(out) == 1
    summary = json.loads(out[0])
    for key in REQUIRED_KEYS:
        _get(summary, key)  # raises KeyError if missing
    assert summary["status"] == "ok" and summary["device"] == "cpu"
    median = summary["step_time_s"]["median"]
    # throughput follows from the batch, tokens per step and median step time
    assert summary["throughput"]["samples_per_s"] == pytest.approx(summary["batch_size"] / median)
    assert summary["throughput"]["tokens_per_s"] == pytest.approx(summary["tokens_per_step"] / median)
    assert summary["flops"]["achieved_per_s"] == pytest.approx(summary["flops"]["per_step_analytic"] / median)
    assert 0 < summary["flops"]["mfu"] < 1.5
    assert summary["flops"]["peak_source"].startswith("measured:matmul")
    assert summary["memory"]["peak_device_bytes"] is None  # CPU run
    assert summary["memory"]["peak_host_rss_bytes"] > 10 * 2**20
    assert summary["energy"]["total_j"] is not None or summary["energy"]["null_reason"]
    assert summary["telemetry"]["samples"] >= 1

    with ResultsStore.open(store) as db:
        record = db.get_run(summary["run_id"])
        assert record.status == "ok" and record.label == "t1"
        assert record.summary == summary
        assert len(db.step_times(summary["run_id"])) == 3
        timeline = db.timeline(summary["run_id"])
        assert timeline is not None
        assert record.metadata["python_version"] == sys.version.split()[0]
        assert record.metadata["cpu_logical_cores"] == os.cpu_count()


def test_image_workload_has_no_tokens_per_second(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "mlp", *QUICK, "--store", str(tmp_path / "r.db"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["throughput"]["tokens_per_s"] is None
    assert summary["step_time_s"]["n"] == 3


def test_bench_all_runs_every_workload_in_its_own_process(tmp_path: Path) -> None:
    store = tmp_path / "all.db"
    proc = _cli("bench", "all", "--size", "tiny", *QUICK, "--store", str(store), "--json")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [s["workload"] for s in lines] == ["cnn", "mlp", "gpt", "bert", "resnet"]
    assert all(s["status"] == "ok" for s in lines)
    assert len({s["run_id"] for s in lines}) == 5
    assert _run_count(store) == 5


def test_auto_batch_records_its_search(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "mlp", *QUICK, "--batch-size", "auto", "--store", str(tmp_path / "r.db"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    search = summary["auto_batch"]
    assert search["batch_size"] == summary["batch_size"]
    assert all(trial["fits"] for trial in search["tried"] if trial["batch_size"] <= summary["batch_size"])


BAD_INPUTS = [
    (["bench", "transformer"], "unknown workload"),
    (["bench", "mlp", "--size", "huge"], "unknown size"),
    (["bench", "mlp", "--dtype", "fp8"], "unknown dtype"),
    (["bench", "mlp", "--device", "tpu"], "unknown device"),
    (["bench", "mlp", "--device", "cuda:3"], "cuda"),
    (["bench", "mlp", "--steps", "0"], "--steps"),
    (["bench", "mlp", "--batch-size", "-4"], "--batch-size"),
    (["bench", "all", "--dtype", "int4"], "unknown dtype"),
]


@pytest.mark.parametrize(("argv", "needle"), BAD_INPUTS)
def test_bad_input_is_one_line_and_loses_nothing(tmp_path: Path, argv: list[str], needle: str) -> None:
    store = tmp_path / "keep.db"
    assert main(["bench", "mlp", *QUICK, "--store", str(store)]) == 0
    before = _run_count(store)
    proc = _cli(*argv[:2], *QUICK, *argv[2:], "--store", str(store))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert _run_count(store) == before


def test_unreadable_image_folder_is_one_line(tmp_path: Path) -> None:
    proc = _cli("bench", "cnn", *QUICK, "--data-dir", str(tmp_path / "missing"), "--store", str(tmp_path / "r.db"))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_unwritable_store_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = _cli("bench", "mlp", *QUICK, "--store", str(blocker / "results.db"))
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_ctrl_c_keeps_the_partial_run_marked_interrupted(tmp_path: Path) -> None:
    store = tmp_path / "int.db"
    assert main(["bench", "mlp", *QUICK, "--store", str(store)]) == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "dcbench", "bench", "gpt", "--steps", "100000", "--warmup", "0",
         "--store", str(store), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with sqlite3.connect(store) as conn:
            if conn.execute("select count(*) from runs where status='running'").fetchone()[0]:
                break
        time.sleep(0.2)
    time.sleep(1.0)  # let a few steps complete
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["status"] == "interrupted"
    with ResultsStore.open(store) as db:
        statuses = sorted(r.status for r in db.list_runs())
        assert statuses == ["interrupted", "ok"]
        assert len(db.step_times(summary["run_id"])) == summary["steps"]
