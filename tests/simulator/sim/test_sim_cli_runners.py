"""``dcbench simulate`` end to end, and the local-process and Dask runners."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from dcbench.cli.main import main
from dcbench.errors import DcbenchError
from simulator.sim import runners
from simulator.sim.campaign import prepare, run_campaign
from simulator.sim.loading import load_preset
from simulator.sim.runners import DaskRunner, InlineRunner, LocalRunner

SCENARIO = """\
kind: training
tokens: 2e9
gpus: 256
job: {step_time_s: 2.0, tokens_per_step: 1e6}
failures: {mtbf_s: 7200}
checkpoint: {interval_s: 600, write_s: 30}
restart_s: 300
maintenance: {per_day: 2, duration_s: 900}
stragglers: {cv: 0.02}
"""


def _scenario(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SCENARIO)
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_json_output_has_the_stable_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, ["simulate", str(_scenario(tmp_path)), "--replicas", "20", "--seed", "3",
                         "--workers", "1", "--json"])
    assert doc["replicas"] == 20 and doc["seed"] == 3 and doc["kind"] == "training"
    stat_keys = {"mean", "p5", "p50", "p95"}
    for key in ("time_to_train_s", "effective_training_time_fraction"):
        assert stat_keys <= set(doc[key])
    assert stat_keys <= set(doc["interruptions"]["unexpected"])
    assert "mean" in doc["interruptions"]["planned"]
    assert set(doc["interruptions"]["by_cause"]) == {"failure"}
    for key in ("lost_work_s", "checkpoint_overhead_s", "restart_overhead_s"):
        assert "mean" in doc[key]
    assert doc["checkpoint_interval_s"] == 600
    assert doc["young_daly_interval_s"] > 0
    s = doc["time_to_train_s"]
    assert s["p5"] <= s["p50"] <= s["p95"]
    # healthy compute is 2000 steps x 2 s, inflated by stragglers: training takes longer
    assert s["p5"] > 4000.0


def test_sweeps_give_points_with_their_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, ["simulate", str(_scenario(tmp_path)), "--replicas", "8", "--workers", "1",
                         "--sweep", "gpus=128,256", "--sweep", "checkpoint.interval_s=300,1200", "--json"])
    assert doc["sweep"] == {"gpus": [128, 256], "checkpoint.interval_s": [300, 1200]}
    assert [p["values"] for p in doc["points"]] == [
        {"gpus": 128, "checkpoint.interval_s": 300}, {"gpus": 128, "checkpoint.interval_s": 1200},
        {"gpus": 256, "checkpoint.interval_s": 300}, {"gpus": 256, "checkpoint.interval_s": 1200},
    ]
    assert [p["checkpoint_interval_s"] for p in doc["points"]] == [300, 1200, 300, 1200]


def test_timeline_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "timeline.json"
    _json(capsys, ["simulate", str(_scenario(tmp_path)), "--replicas", "2", "--workers", "1",
                   "--timeline", str(path), "--json"])
    doc = json.loads(path.read_text())
    assert doc["replica"] == 0 and doc["kind"] == "training"
    events = [e["event"] for e in doc["events"]]
    assert events[0] == "start" and events[-1] == "complete" and "checkpoint" in events


def test_the_timeline_adds_up_to_the_replicas_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # without maintenance every down phase is a failure's restart, and every safe
    # checkpoint a 30 s blocking write: a report can rebuild the phases from the events
    path = tmp_path / "nomaint.yaml"
    path.write_text(SCENARIO.replace("maintenance: {per_day: 2, duration_s: 900}", "maintenance: off")
                    .replace("mtbf_s: 7200", "mtbf_s: 2400"))
    timeline = tmp_path / "timeline.json"
    _json(capsys, ["simulate", str(path), "--replicas", "1", "--workers", "1", "--timeline", str(timeline),
                   "--json"])
    doc = json.loads(timeline.read_text())
    events, summary = doc["events"], doc["summary"]
    assert doc["checkpoint"] == {"interval_s": 600, "blocking_s": 30, "write_s": 30, "mode": "blocking"}
    failures = [e for e in events if e["event"] == "failure"]
    assert len(failures) == summary["interruptions"]["unexpected"] > 0
    assert sum(e["lost_work_s"] for e in failures) == pytest.approx(summary["lost_work_s"])
    assert sum(e["down_s"] for e in events if e["event"] == "resume") == pytest.approx(
        summary["restart_overhead_s"])
    checkpoints = [e for e in events if e["event"] == "checkpoint"]
    assert len(checkpoints) == summary["checkpoints"]
    assert all(e["t_s"] - e["started_s"] == pytest.approx(30.0) for e in checkpoints)
    assert events[-1]["event"] == "complete" and events[-1]["t_s"] == pytest.approx(summary["wall_s"])


def test_presets_and_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    listed = _json(capsys, ["simulate", "presets", "--json"])
    assert {"name": "llama3-405b-16k", "kind": "training"} in [
        {"name": p["name"], "kind": p["kind"]} for p in listed
    ]
    assert main(["simulate", "--preset", "pipeline-16x64"]) == 0
    out = capsys.readouterr().out
    assert "bubble" in out and "19.0%" in out  # 15/79


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["simulate"], "give a scenario file or --preset"),
        (["simulate", "--preset", "nope"], "unknown preset"),
        (["simulate", "--preset", "minimal-8b", "--replicas", "0"], "--replicas must be >= 1"),
        (["simulate", "--preset", "minimal-8b", "--sweep", "gpu=x"], "unknown GPU"),
        (["simulate", "--preset", "minimal-8b", "--scheduler", "nowhere"], "tcp://HOST:PORT"),
        (["simulate", "--preset", "minimal-8b", "--scheduler", "xyz://h:1"], "unknown address scheme 'xyz'"),
        (["simulate", "--preset", "minimal-8b", "--connect-timeout", "5"], "--connect-timeout is for --scheduler"),
        (["simulate", "--preset", "minimal-8b", "--scheduler", "tcp://h:1", "--connect-timeout", "0"],
         "--connect-timeout must be > 0"),
    ],
)
def test_bad_usage_is_one_line(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("dcbench: error:") and needle in err
    assert "Traceback" not in err


def test_unreachable_dask_scheduler_fails_within_the_timeout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runners, "DASK_CONNECT_TIMEOUT_S", 2.0)
    started = time.monotonic()
    code = main(["simulate", "--preset", "minimal-8b", "--scheduler", "tcp://127.0.0.1:9", "--replicas", "2"])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 2 s" in err
    assert err.count("\n") == 1
    assert elapsed < 30  # generous: the connection attempt gives up after its timeout


def test_local_processes_and_dask_give_the_same_numbers_as_inline(capsys: pytest.CaptureFixture[str]) -> None:
    raw, _ = load_preset("minimal-8b")
    campaign = prepare(raw, sweeps=[("checkpoint.interval_s", [1800, 3600])])
    inline = run_campaign(campaign, replicas=12, seed=5, runner=InlineRunner())
    local = run_campaign(campaign, replicas=12, seed=5, runner=LocalRunner(2))
    assert local == inline
    from distributed import LocalCluster

    sweep = ["simulate", "--preset", "minimal-8b", "--replicas", "12", "--seed", "5",
             "--sweep", "gpus=1024,2048", "--sweep", "checkpoint.interval_s=1800,3600", "--json"]
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        dask = DaskRunner(cluster.scheduler_address)
        try:
            assert dask.workers == 2
            remote = run_campaign(campaign, replicas=12, seed=5, runner=dask)
        finally:
            dask.close()
        # the CLI's --scheduler on the same cluster: a 2 x 2 sweep, as on local processes
        on_dask = _json(capsys, [*sweep, "--scheduler", cluster.scheduler_address])
    assert remote == inline
    assert on_dask == _json(capsys, [*sweep, "--workers", "2"])
    assert len(on_dask["points"]) == 4


def test_a_scheduler_without_workers_fails_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        code = main(["simulate", "--preset", "minimal-8b", "--replicas", "2",
                     "--scheduler", cluster.scheduler_address, "--connect-timeout", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "has no workers (none joined within 1 s)" in err
    assert err.count("\n") == 1


def test_a_chunk_failing_on_a_dask_worker_is_one_line() -> None:
    from distributed import LocalCluster

    from simulator.sim.runners import Chunk

    broken = Chunk(point=0, setup=None, seed=0, start=0, stop=1)  # type: ignore[arg-type]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        dask = DaskRunner(cluster.scheduler_address)
        try:
            with pytest.raises(DcbenchError, match=r"failed while simulating \(AttributeError") as info:
                list(dask.run([broken]))
        finally:
            dask.close()
    assert "\n" not in str(info.value)


def test_dask_runner_rejects_addresses_without_a_scheme() -> None:
    with pytest.raises(DcbenchError, match="tcp://HOST:PORT"):
        DaskRunner("localhost:8786")
