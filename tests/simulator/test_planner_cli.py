"""dcbench plan | models | hw through main() and one real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dcbench.cli.main import main

STABLE_KEYS = [
    "model.name", "model.params", "tokens", "gpus",
    *(f"parallelism.{k}" for k in ("tp", "pp", "dp", "cp", "microbatch", "global_batch", "zero_stage", "recompute", "sequence_parallel")),
    "flops.model_flops_per_token", "flops.training_flops", "flops.hardware_flops",
    "throughput.step_time_s", "throughput.tokens_per_s", "throughput.achieved_flops_per_gpu", "throughput.mfu",
    "time_to_train_s", "time_to_train_days", "gpu_hours",
    *(f"memory_per_gpu_bytes.{k}" for k in ("weights", "gradients", "optimizer", "activations", "total")),
    "fits",
    *(f"storage.{k}" for k in ("dataset_bytes", "checkpoint_bytes", "checkpoint_write_bytes_per_s", "capacity_bytes")),
    "power.it_w", "power.facility_w", "power.energy_j", "cost.total_usd", "network.switches", "candidates",
]


def _json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> object:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def _get(doc: object, dotted: str) -> object:
    for part in dotted.split("."):
        assert isinstance(doc, dict) and part in doc, dotted
        doc = doc[part]
    return doc


def test_plan_json_has_the_stable_keys(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(["plan", "--model", "gpt3-175b", "--tokens", "300B", "--gpu", "a100", "--gpus", "1024", "--top", "3",
                 "--json"], capsys)
    for key in STABLE_KEYS:
        _get(doc, key)
    assert _get(doc, "tokens") == 300e9 and _get(doc, "gpus") == 1024
    candidates = _get(doc, "candidates")
    assert isinstance(candidates, list) and len(candidates) == 3
    assert {"parallelism", "breakdown", "explanation", "memory_per_gpu_bytes"} <= set(candidates[0])


def test_plan_json_fixed_layout_and_assumptions(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(["plan", "--model", "llama3-8b", "--tokens", "15.6T", "--gpu", "h100", "--gpus", "64", "--tp", "2",
                 "--pp", "2", "--zero", "1", "--recompute", "selective", "--sequence-parallel", "--achieved-tflops",
                 "400", "--assume", "power.pue=1.5", "--assume", "cost.pricing=cloud", "--json"], capsys)
    par = _get(doc, "parallelism")
    assert isinstance(par, dict)
    assert (par["tp"], par["pp"], par["dp"], par["zero_stage"], par["recompute"], par["sequence_parallel"]) == (
        2, 2, 16, 1, "selective", True,
    )
    assert _get(doc, "throughput.achieved_flops_per_gpu") == pytest.approx(400e12)
    assert _get(doc, "power.pue") == 1.5 and _get(doc, "cost.pricing") == "cloud"


def test_plan_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--model", "llama2-7b", "--tokens", "2T", "--gpu", "a100", "--days", "40"]) == 0
    out = capsys.readouterr().out
    for text in ("llama2-7b", "fewest GPUs", "memory per GPU", "step time (roofline)", "sizing", "top "):
        assert text in out


def test_models_and_hw(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    listed_models = _json(["models", "list", "--json"], capsys)
    assert isinstance(listed_models, list)
    names = [m["name"] for m in listed_models]
    assert "llama3-405b" in names
    shown = _json(["models", "show", "llama3-8b", "--json"], capsys)
    assert _get(shown, "params") == 8_030_261_248
    hw = _json(["hw", "show", "h100", "--json"], capsys)
    assert _get(hw, "name") == "h100-sxm5-80gb" and _get(hw, "dense_flops_per_s.bf16") == 989.4e12
    assert "hbm_bytes_per_s" in _get(hw, "unverified")  # type: ignore[operator]
    listed = _json(["hw", "--json"], capsys)
    assert len(listed) == 5  # type: ignore[arg-type]
    assert main(["models"]) == 0 and "dcbench model catalog" in capsys.readouterr().out
    assert main(["hw", "show", "mi300x"]) == 0 and "unverified" in capsys.readouterr().out
    assert main(["models", "show", "nope"]) == 2 and "unknown model 'nope'" in capsys.readouterr().err


def test_real_subprocess() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "dcbench", "plan", "--model", "llama3-8b", "--tokens", "1T", "--gpu", "h100",
         "--gpus", "64", "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["gpus"] == 64
    bad = subprocess.run(
        [sys.executable, "-m", "dcbench", "plan", "--model", "llama2-70b", "--tokens", "1T", "--gpu", "h100",
         "--gpus", "64", "--tp", "3"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert bad.returncode != 0 and bad.stdout == ""
    assert bad.stderr == "dcbench: error: tp=3 does not divide the 64 heads of llama2-70b; try tp=2 or tp=4\n"
