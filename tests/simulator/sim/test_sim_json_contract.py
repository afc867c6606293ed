"""The stable JSON of ``dcbench simulate --json`` (issue 4, §3), for single runs and sweeps.

Every key the issue names must be in the output of a single run and inside every
sweep point, and every top-level key of every kind must be documented in
docs/simulate.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from dcbench.cli.main import main

DOCS = Path(__file__).resolve().parents[3] / "docs" / "simulate.md"
STATS = ("mean", "p5", "p50", "p95")

# issue 4, §3, verbatim: (dotted path, the statistics it must carry or None for a plain value)
ISSUE_KEYS: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("time_to_train_s", STATS),
    ("effective_training_time_fraction", STATS),
    ("interruptions.unexpected", STATS),
    ("interruptions.planned", ("mean",)),
    ("interruptions.by_cause", None),
    ("lost_work_s", ("mean",)),
    ("checkpoint_overhead_s", ("mean",)),
    ("restart_overhead_s", ("mean",)),
    ("checkpoint_interval_s", None),
    ("young_daly_interval_s", None),
)

SCENARIO = """\
kind: training
tokens: 5e9
gpus: 512
job: {step_time_s: 2.0, tokens_per_step: 2e6}
failures: {mtbf_s: 5h}
checkpoint: {interval_s: 1800, write_s: 60}
restart_s: 600
maintenance: {per_day: 1, duration_s: 10min}
stragglers: {cv: 0.01}
"""


def _simulate(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["simulate", *argv, "--workers", "1", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _get(doc: dict[str, Any], dotted: str) -> Any:
    node: Any = doc
    for part in dotted.split("."):
        assert isinstance(node, dict) and part in node, f"missing {dotted!r}"
        node = node[part]
    return node


def _check_issue_keys(doc: dict[str, Any]) -> None:
    for dotted, stats in ISSUE_KEYS:
        value = _get(doc, dotted)
        if stats is not None:
            assert set(stats) <= set(value), (dotted, value)
            assert all(isinstance(value[s], float | int) for s in stats), (dotted, value)
    for dotted in ("time_to_train_s", "effective_training_time_fraction", "interruptions.unexpected"):
        s = _get(doc, dotted)
        assert s["p5"] <= s["p50"] <= s["p95"], (dotted, s)
    ettr = doc["effective_training_time_fraction"]
    assert ettr["p5"] > 0.0 and ettr["p95"] <= 1.0
    assert set(doc["interruptions"]["by_cause"]) == {"failure"}


def test_a_single_run_has_every_key_of_the_issue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    doc = _simulate(capsys, str(path), "--replicas", "16", "--seed", "2")
    assert doc["replicas"] == 16 and doc["schema"] == "dcbench.simulate/1"
    _check_issue_keys(doc)
    assert doc["checkpoint_interval_s"] == 1800
    # Young/Daly for C = 60 s, M = 5 h = 18,000 s: sqrt(2 C M) = sqrt(2,160,000) = 1469.69 s;
    # Daly: x (1 + sqrt(C/2M)/3 + (C/2M)/9) - C, C/2M = 1/600: 1469.69 x 1.013793 - 60 = 1429.97 s
    assert doc["young_interval_s"] == pytest.approx(1469.69, rel=1e-4)
    assert doc["young_daly_interval_s"] == pytest.approx(1429.97, rel=1e-4)
    assert "points" not in doc


def test_every_sweep_point_has_every_key_of_the_issue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    doc = _simulate(capsys, str(path), "--replicas", "6", "--sweep", "gpus=256,512",
                    "--sweep", "checkpoint.interval_s=600,auto")
    assert doc["replicas"] == 6
    assert doc["sweep"] == {"gpus": [256, 512], "checkpoint.interval_s": [600, "auto"]}
    assert len(doc["points"]) == 4
    for point in doc["points"]:
        assert set(point["values"]) == {"gpus", "checkpoint.interval_s"}
        _check_issue_keys(point)
        if point["values"]["checkpoint.interval_s"] == "auto":
            assert point["checkpoint_interval_s"] == pytest.approx(point["young_daly_interval_s"])
        else:
            assert point["checkpoint_interval_s"] == 600
        assert point["job"]["gpus"] == point["values"]["gpus"]


def _documented(doc_keys: set[str], text: str) -> list[str]:
    return [key for key in sorted(doc_keys) if f"`{key}`" not in text and not re.search(rf"\b{key}\b", text)]


def test_every_output_key_is_documented(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = DOCS.read_text(encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    training = _simulate(capsys, str(path), "--replicas", "3")
    cluster = _simulate(capsys, "--preset", "cluster-mixed", "--replicas", "2")
    pipeline = _simulate(capsys, "--preset", "pipeline-interleaved-comm")
    for doc in (training, cluster, pipeline):
        assert _documented(set(doc), text) == [], doc["kind"]
    assert _documented(set(training["interruptions"]) | set(training["job"]), text) == []
    assert _documented(set(cluster["interruptions"]) | set(cluster["goodput_over_time"]), text) == []
    assert _documented(set(pipeline["closed_form"]), text) == []
    # cluster outputs the issue asks for: utilisation, queue waits, completed jobs, goodput over time
    assert set(STATS) <= set(cluster["utilisation"])
    assert set(cluster["queue_wait_s"]) >= {"p50", "p95", "mean"}
    assert "mean" in cluster["completed_jobs"]
    assert len(cluster["goodput_over_time"]["mean"]) == 14  # 14 days in daily buckets
    assert pipeline["notes"] and "underestimates" in pipeline["notes"][0]
