"""Scenario loading: the minimal form, presets, sweeps and one-line errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from simtest_helpers import MINIMAL

from dcbench.errors import ConfigError, NotFoundError
from simulator.sim.campaign import prepare
from simulator.sim.loading import list_presets, load_preset, load_scenario, parse_sweep, validate
from simulator.sim.scenario import TrainingScenario
from simulator.sim.setup import TrainingSetup


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def test_the_minimal_form_loads_verbatim(tmp_path: Path) -> None:
    raw, scn = load_scenario(_write(tmp_path, MINIMAL))
    assert isinstance(scn, TrainingScenario)
    assert scn.tokens == 1e12 and scn.restart_s == 600
    assert scn.stragglers is None and scn.maintenance is None
    setup = prepare(raw).points[0].setup
    assert isinstance(setup, TrainingSetup)
    assert setup.mtbf_s == pytest.approx(36_000)
    assert setup.mean_downtime_s == 600  # restart_s is the whole downtime
    ck = setup.checkpoint
    assert ck is not None and ck.interval_s == 3600 and ck.write_s == 300 and ck.blocking_s == 300
    assert setup.job.source == "planner" and setup.job.gpus == 1024


def test_every_preset_loads_and_resolves() -> None:
    names = [p.name for p in list_presets()]
    assert "llama3-405b-16k" in names
    for name in names:
        raw, _ = load_preset(name)
        assert prepare(raw, origin=name).points


def test_durations_accept_units() -> None:
    scn = validate({"kind": "training", "tokens": "1B", "gpus": 8,
                    "job": {"step_time_s": 1, "tokens_per_step": "1M"},
                    "checkpoint": {"interval_s": "2h", "write_s": "90s", "load_s": "1.5min"},
                    "window_days": 3})
    assert isinstance(scn, TrainingScenario) and scn.checkpoint is not None
    assert scn.checkpoint.interval_s == 7200 and scn.checkpoint.write_s == 90 and scn.checkpoint.load_s == 90


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL.replace("restart_s: 600", "restrat_s: 600"), "unknown key 'restrat_s'; did you mean 'restart_s'?"),
        (MINIMAL.replace("{mtbf_s: 36000}", "{mtbf: 36000}"), "unknown key 'failures.mtbf'; did you mean 'mtbf_s'?"),
        (MINIMAL.replace("interval_s: 3600", "interval_s: 1 fortnight"), "checkpoint.interval_s: cannot read '1 fortnight'"),
        (MINIMAL.replace("mtbf_s: 36000", "mtbf_s: -5"), "failures.mtbf_s: input should be greater than 0 (got -5)"),
        (MINIMAL.replace("gpus: 1024", "gpus: many"), "gpus: Input should be a valid integer"),
        (MINIMAL.replace("tokens: 1e12", "tokens: lots"), "tokens: cannot read 'lots' as a count"),
        (MINIMAL.replace("kind: training", "kind: trainin"), "did you mean 'training'?"),
        (MINIMAL.replace("model: llama3-8b\n", ""), "'model' and 'gpu' go together; add 'model'"),
        (MINIMAL + "spares: {nodes: -1}\n", "spares.nodes: input should be greater than or equal to 0"),
        ("kind: !!python/object/apply:os.system ['echo unsafe']\n", "YAML tag dcbench does not load"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("kind: training\ntokens: [1\n", "not valid YAML at line"),
    ],
)
def test_bad_scenarios_give_one_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        raw, _ = load_scenario(_write(tmp_path, text))
        prepare(raw)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_impossible_layouts_and_hopeless_jobs_are_refused(tmp_path: Path) -> None:
    raw, _ = load_scenario(_write(tmp_path, MINIMAL + "layout: {tp: 3}\n"))
    with pytest.raises(ConfigError, match="does not divide gpus 1024"):
        prepare(raw)
    from dcbench.errors import InfeasibleError

    raw, _ = load_scenario(_write(tmp_path, MINIMAL.replace("mtbf_s: 36000", "mtbf_s: 60")))
    with pytest.raises(InfeasibleError, match="1000x its healthy compute"):
        prepare(raw)


def test_unknown_names_suggest_the_closest() -> None:
    with pytest.raises(NotFoundError, match="did you mean 'llama3-405b-16k'"):
        load_preset("llama3-405b")
    with pytest.raises(NotFoundError, match="not found"):
        load_scenario("/no/such/file.yaml")


def test_sweeps_parse_and_validate(tmp_path: Path) -> None:
    assert parse_sweep("gpus=512,1024") == ("gpus", [512, 1024])
    assert parse_sweep("checkpoint.interval_s=auto,600") == ("checkpoint.interval_s", ["auto", 600])
    with pytest.raises(ConfigError, match="KEY=V1,V2"):
        parse_sweep("gpus")
    raw, _ = load_scenario(_write(tmp_path, MINIMAL))
    campaign = prepare(raw, sweeps=[("gpus", [512, 1024]), ("checkpoint.interval_s", [600, 1800, 3600])])
    assert len(campaign.points) == 6
    assert campaign.points[-1].values == {"gpus": 1024, "checkpoint.interval_s": 3600}
    with pytest.raises(ConfigError, match="did you mean 'interval_s'"):
        prepare(raw, sweeps=[("checkpoint.intervl_s", [1])])
    with pytest.raises(ConfigError, match="'stragglers' is off"):
        prepare(raw, sweeps=[("stragglers.cv", [0.01])])


def test_hardware_files_are_found_next_to_the_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "my-gpu.yaml").write_text("base: h100-sxm5-80gb\nname: h100-4way\ngpus_per_node: 4\n")
    (folder / "job.yaml").write_text(MINIMAL.replace("gpu: h100-sxm5-80gb", "gpu: my-gpu.yaml"))
    monkeypatch.chdir(tmp_path)  # not the scenario's folder
    raw, _ = load_scenario("scenarios/job.yaml")
    assert raw["gpu"] == str(folder / "my-gpu.yaml")
    setup = prepare(raw).points[0].setup
    assert isinstance(setup, TrainingSetup) and setup.job.gpus_per_node == 4
