"""dcbench plan | models | hw through main() and one real subprocess."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from dcbench.cli.main import main
from dcbench.cli.plan_view import WIDE, pct, print_plan
from simulator.plan import PlanRequest, plan

# The stable keys of `dcbench plan --json` the issue lists (network.*, cost.* with the keys a
# capacity planner reads first); docs/planner.md and docs/sizing.md document every one.
STABLE_KEYS = [
    "model.name", "model.params", "tokens", "gpus",
    *(f"parallelism.{k}" for k in ("tp", "pp", "dp", "cp", "microbatch", "global_batch", "zero_stage", "recompute", "sequence_parallel")),
    "flops.model_flops_per_token", "flops.training_flops", "flops.hardware_flops",
    "throughput.step_time_s", "throughput.tokens_per_s", "throughput.achieved_flops_per_gpu", "throughput.mfu",
    "time_to_train_s", "time_to_train_days", "gpu_hours",
    *(f"memory_per_gpu_bytes.{k}" for k in ("weights", "gradients", "optimizer", "activations", "total")),
    "fits",
    *(f"network.{k}" for k in ("nics", "nic_bits_per_s", "required_bisection_bytes_per_s", "bound", "bottleneck", "switches", "links")),
    *(f"storage.{k}" for k in ("dataset_bytes", "checkpoint_bytes", "checkpoint_write_bytes_per_s", "capacity_bytes")),
    "power.it_w", "power.facility_w", "power.energy_j",
    *(f"cost.{k}" for k in ("total_usd", "capex_usd", "cloud_total_usd", "usd_per_gpu_hour", "pricing")),
    "candidates",
]
CANDIDATE_KEYS = {
    "rank", "gpus", "parallelism", "throughput", "time_to_train_s", "time_to_train_days", "memory_per_gpu_bytes",
    "fits", "breakdown", "traffic", "explanation",
}
DOCS = Path(__file__).resolve().parents[2] / "docs"


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
    assert all(set(c) >= CANDIDATE_KEYS for c in candidates)
    assert [c["rank"] for c in candidates] == [1, 2, 3]


def _documented(key: str, rows: list[str]) -> bool:
    """A docs table row names ``key`` as `a.b`, or its section as `a.{...}` together with the leaf."""
    if "." not in key:
        return any(f"`{key}`" in row for row in rows)
    section, leaf = key.split(".", 1)
    return any(
        f"`{key}`" in row or (f"`{section}.{{" in row and re.search(rf"\b{leaf}\b", row)) for row in rows
    )


def test_every_stable_key_is_documented() -> None:
    rows = [
        line for name in ("planner.md", "sizing.md") for line in (DOCS / name).read_text().splitlines()
        if line.startswith("|")
    ]
    missing = [key for key in STABLE_KEYS if not _documented(key, rows)]
    assert not missing, f"undocumented JSON keys: {missing}"
    candidates_row = next(row for row in rows if row.startswith("| `candidates`"))
    assert all(re.search(rf"\b{key}\b", candidates_row) for key in CANDIDATE_KEYS)


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
    for text in ("llama2-7b", "fewest GPUs", "memory per GPU", "step time", "(roofline)", "network", "power",
                 "cost", "top "):
        assert text in out


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"model": "llama3-8b", "tokens": "15T", "gpu": "h100", "gpus": 64},  # no pipeline: bubble exactly 0
        {"model": "gpt3-175b", "tokens": "300B", "gpu": "a100", "days": 3.0, "tp": 8},
        {"model": "llama3-405b", "tokens": "15.6T", "gpu": "mi300x", "gpus": 4096},
    ],
)
def test_plan_human_output_fits_the_terminal(width: int, request_kwargs: dict[str, object]) -> None:
    result = plan(PlanRequest(**request_kwargs))  # type: ignore[arg-type]
    buffer = io.StringIO()
    print_plan(result, Console(file=buffer, width=width, highlight=False, color_system=None))
    lines = buffer.getvalue().splitlines()
    assert max(len(line) for line in lines) <= width
    text = "\n".join(lines)
    assert "…" not in text  # nothing truncated
    assert "-0.0" not in text
    assert all(line == line.rstrip() for line in lines)
    assert f"top {len(result.candidates)} layouts" in text and "usable" in text
    assert ("breakdown" in text) == (width >= WIDE)


def test_percentages_never_show_negative_zero() -> None:
    assert pct(-1e-17) == "0.0%" and pct(-0.0) == "0.0%" and pct(0.1234) == "12.3%"
    assert pct(-0.02) == "-2.0%"  # a real negative value still shows its sign


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
    assert main(["hw", "show", "mi300x"]) == 0
    shown_text = capsys.readouterr().out
    assert "unverified" in shown_text and "NOT calibrated on this GPU" in shown_text
    assert main(["hw", "show", "h100"]) == 0 and "roofline efficiency: calibrated on this GPU" in capsys.readouterr().out
    assert _get(_json(["hw", "show", "b200", "--json"], capsys), "efficiency.calibrated") is False
    assert main(["hw"]) == 0 and "calibrated" in capsys.readouterr().out
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


@pytest.mark.parametrize(("gpu", "flagged"), [("a100", False), ("h100", False), ("h200", True), ("b200", True), ("mi300x", True)])
def test_plans_on_uncalibrated_gpus_say_so(gpu: str, flagged: bool) -> None:
    result = plan(PlanRequest("llama3-8b", tokens="1T", gpu=gpu, gpus=64))
    assert any("not calibrated on this GPU" in note for note in result.notes) is flagged
    # An efficiency override replaces the roofline, so the caveat no longer applies.
    overridden = plan(PlanRequest("llama3-8b", tokens="1T", gpu=gpu, gpus=64, mfu=0.4))
    assert not any("not calibrated" in note for note in overridden.notes)
