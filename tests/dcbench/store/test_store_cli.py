"""`dcbench results list | show | export` and the shared --store/--json options."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from store_helpers import begin, bench_summary

from dcbench.cli.main import main
from dcbench.cli.options import (
    DEFAULT_STORE,
    STORE_ENV,
    add_json_option,
    add_store_option,
    print_json,
    resolve_store_path,
)
from dcbench.store import ResultsStore


@pytest.fixture
def filled(tmp_path: Path) -> tuple[Path, list[str]]:
    """A store with an ok gpt run, a failed mlp run and a still-running bert run (oldest first)."""
    path = tmp_path / "cli.db"
    with ResultsStore.open(path) as store:
        ok = begin(store, workload="gpt", label="fast one")
        store.finish_run(ok, "ok", summary=bench_summary(samples_per_s=812.25, mfu=0.4375),
                         step_times_s=[0.25, 0.5, 0.75], timeline={"samples": [{"t_s": 0.0}]})
        failed = begin(store, workload="mlp")
        store.finish_run(failed, "failed", summary=None, step_times_s=[], error="boom")
        running = begin(store, workload="bert")
    return path, [ok, failed, running]


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dcbench: error: ")
    assert "Traceback" not in err
    return lines[0]


# ---- options -------------------------------------------------------------------------
def _parsed(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_store_option(parser)
    add_json_option(parser)
    return parser.parse_args(argv)


def test_store_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(STORE_ENV, raising=False)
    assert resolve_store_path(_parsed([])) == tmp_path / ".dcbench" / "results.db"
    assert Path(".dcbench/results.db") == DEFAULT_STORE
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "env.db"))
    assert resolve_store_path(_parsed([])) == tmp_path / "env.db"
    assert resolve_store_path(_parsed(["--store", "flag.db"])) == tmp_path / "flag.db"
    monkeypatch.setenv(STORE_ENV, "")  # empty means unset
    assert resolve_store_path(_parsed([])) == tmp_path / ".dcbench" / "results.db"
    assert _parsed(["--json"]).json is True and _parsed([]).json is False


def test_print_json_is_strict(capsys: pytest.CaptureFixture[str]) -> None:
    print_json({"a": float("nan"), "b": [float("inf"), 1.5], "c": None})
    assert json.loads(capsys.readouterr().out) == {"a": None, "b": [None, 1.5], "c": None}


# ---- list ------------------------------------------------------------------------------
def test_list_table(filled: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    path, ids = filled
    assert main(["results", "list", "--store", str(path)]) == 0
    out = capsys.readouterr().out
    for run_id in ids:
        assert run_id in out
    assert out.index(ids[2]) < out.index(ids[1]) < out.index(ids[0])  # newest first
    assert "43.8%" in out  # MFU 0.4375
    assert "812.2" in out  # samples/s (rounded to one decimal)
    assert "fast one" in out and "running" in out and "failed" in out


def test_list_json_and_filters(filled: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    path, ids = filled
    assert main(["results", "list", "--store", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in rows] == ids[::-1]
    ok = rows[2]
    assert ok["samples_per_s"] == 812.25 and ok["mfu"] == 0.4375
    assert ok["median_step_time_s"] == 8 / 812.25 and ok["n_steps"] == 3 and ok["n_samples"] == 1
    assert main(["results", "list", "--store", str(path), "--json", "--status", "failed"]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == [ids[1]]
    assert main(["results", "list", "--store", str(path), "--json", "--workload", "gpt", "--limit", "1"]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == [ids[0]]


def test_list_of_a_missing_store_is_friendly_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "none" / "results.db"
    assert main(["results", "list", "--store", str(path)]) == 0
    assert "No runs stored" in capsys.readouterr().out
    assert not path.parent.exists()
    assert main(["results", "list", "--store", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_list_of_an_empty_store_is_friendly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.db"
    ResultsStore.open(path).close()
    assert main(["results", "list", "--store", str(path)]) == 0
    assert "No runs stored" in capsys.readouterr().out


def test_list_uses_the_environment_store(
    filled: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path, ids = filled
    monkeypatch.setenv("DCBENCH_STORE", str(path))
    assert main(["results", "list", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == len(ids)


def test_bad_status_and_limit_are_usage_errors(
    filled: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = filled
    assert main(["results", "list", "--store", str(path), "--status", "okay"]) == 2
    assert "unknown run status 'okay'" in _one_line_error(capsys.readouterr().err)
    assert main(["results", "list", "--store", str(path), "--limit", "0"]) == 2
    assert "--limit must be a positive number" in _one_line_error(capsys.readouterr().err)


def test_a_foreign_database_is_one_line_and_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    before = other.read_bytes()
    assert main(["results", "list", "--store", str(other)]) == 1
    assert "not a dcbench results store" in _one_line_error(capsys.readouterr().err)
    assert other.read_bytes() == before


# ---- show ------------------------------------------------------------------------------
def test_show_human(filled: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    path, ids = filled
    assert main(["results", "show", ids[0][:-2], "--store", str(path)]) == 0
    out = capsys.readouterr().out
    assert ids[0] in out and "ok" in out
    assert "throughput.samples_per_s" in out and "812.25" in out
    assert "Step time (s)" in out and "median" in out
    assert "node-17" in out  # metadata hostname
    assert main(["results", "show", ids[1], "--store", str(path)]) == 0
    assert "boom" in capsys.readouterr().out


def test_show_json(filled: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    path, ids = filled
    assert main(["results", "show", ids[0], "--store", str(path), "--json", "--timeline"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["run_id"] == ids[0] and doc["status"] == "ok"
    assert doc["step_times_s"] == [0.25, 0.5, 0.75]
    stats = doc["step_time_stats_s"]
    assert (stats["n"], stats["median"], stats["min"], stats["max"]) == (3, 0.5, 0.25, 0.75)
    assert stats["mean"] == pytest.approx(0.5)
    assert doc["timeline"] == {"samples": [{"t_s": 0.0}]}
    assert doc["summary"]["throughput"]["samples_per_s"] == 812.25
    assert main(["results", "show", "latest", "--store", str(path), "--json"]) == 0
    latest = json.loads(capsys.readouterr().out)
    assert latest["run_id"] == ids[2] and latest["step_time_stats_s"] is None
    assert "timeline" not in latest


def test_show_notes_a_dead_writer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "dead.db"
    code = "import sys; from dcbench.store import ResultsStore; s = ResultsStore.open(sys.argv[1]); " \
           "print(s.begin_run(workload='gpt', size='tiny', device='cpu', dtype='fp32', config={}, metadata={}))"
    run_id = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert main(["results", "show", run_id, "--store", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "running" and "not alive" in doc["note"]


def test_show_unknown_and_ambiguous_runs(filled: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = filled
    assert main(["results", "show", "rnope", "--store", str(path)]) == 2
    assert "no run 'rnope'" in _one_line_error(capsys.readouterr().err)
    assert main(["results", "show", "r", "--store", str(path)]) == 2
    assert "ambiguous" in _one_line_error(capsys.readouterr().err)
    assert main(["results", "show", "r1", "--store", str(path / "x.db")]) == 2
    assert "no results store at" in _one_line_error(capsys.readouterr().err)


# ---- export ----------------------------------------------------------------------------
def test_export_csv_to_stdout(filled: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    path, ids = filled
    assert main(["results", "export", "--store", str(path)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["run_id"] for r in rows] == ids[::-1]
    assert float(rows[2]["throughput.samples_per_s"]) == 812.25
    assert float(rows[2]["step_time_s.median"]) == 8 / 812.25


def test_export_files_read_back(filled: tuple[Path, list[str]], tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    path, ids = filled
    out_csv, out_json, out_pq = tmp_path / "r.csv", tmp_path / "r.json", tmp_path / "r.parquet"
    for fmt, out in (("csv", out_csv), ("json", out_json), ("parquet", out_pq)):
        assert main(["results", "export", "--store", str(path), "--format", fmt, "--out", str(out)]) == 0
        assert f"exported 3 run(s) to {out}" in capsys.readouterr().err
    with open(out_csv, newline="") as f:
        assert [r["run_id"] for r in csv.DictReader(f)] == ids[::-1]
    docs = json.loads(out_json.read_text())
    assert [d["run_id"] for d in docs] == ids[::-1]
    assert docs[2]["summary"] == bench_summary(samples_per_s=812.25, mfu=0.4375)
    assert docs[2]["config"]["workload"] == "gpt"
    table = pq.read_table(out_pq).to_pylist()
    assert [r["run_id"] for r in table] == ids[::-1]
    assert table[2]["flops.mfu"] == 0.4375
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]  # no temporary files left


def test_export_steps(filled: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, ids = filled
    assert main(["results", "export", "--store", str(path), "--steps", "--workload", "gpt"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["run_id"], int(r["step_index"]), float(r["step_time_s"])) for r in rows] == [
        (ids[0], 0, 0.25), (ids[0], 1, 0.5), (ids[0], 2, 0.75)]
    assert main(["results", "export", "--store", str(path), "--steps", "--format", "json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert {d["run_id"]: d["step_times_s"] for d in docs} == {ids[0]: [0.25, 0.5, 0.75], ids[1]: [], ids[2]: []}
    out = tmp_path / "steps.parquet"
    assert main(["results", "export", "--store", str(path), "--steps", "--format", "parquet", "--out", str(out)]) == 0
    assert pq.read_table(out).column("step_time_s").to_pylist() == [0.25, 0.5, 0.75]


def test_export_bad_input_is_one_line(filled: tuple[Path, list[str]], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = filled
    assert main(["results", "export", "--store", str(path), "--format", "xlsx"]) == 2
    assert "unknown export format 'xlsx'" in _one_line_error(capsys.readouterr().err)
    assert main(["results", "export", "--store", str(path), "--format", "parquet"]) == 2
    assert "pass --out FILE.parquet" in _one_line_error(capsys.readouterr().err)
    blocker = tmp_path / "file"
    blocker.write_text("keep")
    assert main(["results", "export", "--store", str(path), "--out", str(blocker / "x.csv")]) == 2
    assert "cannot write --out" in _one_line_error(capsys.readouterr().err)
    assert blocker.read_text() == "keep"


def test_export_of_an_empty_store_is_valid_and_friendly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "missing.db"
    assert main(["results", "export", "--store", str(path), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [] and "No runs stored" in captured.err
    assert main(["results", "export", "--store", str(path)]) == 0
    assert capsys.readouterr().out.startswith("run_id,created_at,")


# ---- a real process --------------------------------------------------------------------
def test_results_list_in_a_real_process(filled: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, ids = filled
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "dcbench", "results", "list", "--store", str(path), "--json"],
                          capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [r["run_id"] for r in json.loads(done.stdout)] == ids[::-1]
    empty = tmp_path / "empty.db"
    empty.write_text("")
    bad = subprocess.run([sys.executable, "-m", "dcbench", "results", "show", "latest", "--store",
                          str(empty)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert bad.returncode == 2 and "no results store at" in _one_line_error(bad.stderr)
    assert empty.read_bytes() == b""  # reading never writes a schema into the file
    notdb = tmp_path / "notes.txt"
    notdb.write_text("not a database " * 100)
    bad = subprocess.run([sys.executable, "-m", "dcbench", "results", "list", "--store", str(notdb)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert bad.returncode == 1 and "is not an SQLite database" in _one_line_error(bad.stderr)
