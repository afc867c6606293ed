"""Bad input: one line naming the problem and, where there is one, the nearest feasible choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcbench.cli.main import main
from dcbench.errors import ConfigError, InfeasibleError, NotFoundError, UsageError
from simulator.plan import PlanRequest, plan


def _plan(**kwargs: object) -> None:
    base: dict[str, object] = {"model": "llama3-8b", "tokens": "1T", "gpu": "h100", "gpus": 64}
    base.update(kwargs)
    plan(PlanRequest(**base))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model": "llama3-8"}, NotFoundError, "did you mean 'llama3-8b'"),
        ({"gpu": "h10"}, NotFoundError, "did you mean 'h100'"),
        ({"model": "llama2-70b", "tp": 3}, InfeasibleError, "tp=3 does not divide the 64 heads of llama2-70b; try tp=2 or tp=4"),
        ({"tp": 16}, InfeasibleError, "tp=16 exceeds the 8 GPUs of one h100-sxm5-80gb node"),
        ({"pp": 5}, InfeasibleError, "pp=5 does not divide the 32 layers of llama3-8b; try pp=4 or pp=8"),
        ({"cp": 3}, InfeasibleError, "cp=3 cannot split the 8192-token sequence into 6 equal chunks; try cp=2 or cp=4"),
        ({"tp": 8, "pp": 4, "dp": 3}, InfeasibleError, "64 GPUs do not divide into tp=8 x pp=4 x dp=3 = 96"),
        ({"tp": 8, "gpus": 60}, InfeasibleError, "60 GPUs do not divide by tp=8; try --gpus 56 or --gpus 64"),
        ({"tp": 8, "pp": 4, "cp": 1, "dp": 1}, InfeasibleError, "= 32 GPUs, but --gpus is 64; set --gpus 32"),
        ({"zero": 3, "pp": 2}, InfeasibleError, "use --zero 1 or --pp 1"),
        ({"global_batch": 100, "dp": 8}, InfeasibleError, "try --global-batch 96 or --global-batch 104"),
        ({"tp": 1, "sequence_parallel": True}, InfeasibleError, "sequence parallelism needs tensor parallelism"),
        ({"virtual_stages": 2}, InfeasibleError, "needs pipeline parallelism"),
        ({"gpus": None}, UsageError, "give exactly one of --gpus N"),
        ({"days": 30.0}, UsageError, "give exactly one of --gpus N"),
        ({"tokens": "lots"}, UsageError, "cannot read 'lots' as a count"),
        ({"mfu": 45.0}, UsageError, "for 45% write 0.45"),
        ({"mfu": 0.4, "achieved_flops_per_gpu": 4e14}, UsageError, "not both"),
        ({"achieved_flops_per_gpu": 2e15}, UsageError, "exceeds the h100-sxm5-80gb bf16 peak"),
        ({"zero": 4}, UsageError, "--zero must be 0, 1, 2 or 3"),
        ({"recompute": "some"}, UsageError, "--recompute must be none, selective or full"),
        ({"objective": "speed"}, UsageError, "--objective must be one of time, cost, energy"),
        ({"gpus": 0}, UsageError, "--gpus must be a whole number >= 1"),
    ],
)
def test_bad_requests_fail_with_one_line(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error) as err:
        _plan(**kwargs)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_model_that_does_not_fit_names_the_smallest_gpu_count_that_does() -> None:
    with pytest.raises(InfeasibleError) as err:
        _plan(model="llama3-405b", tokens="15T", gpus=8)
    text = str(err.value)
    assert text.startswith("llama3-405b does not fit on 8 GPUs of 80 GB")
    smallest = int(text.rsplit("smallest that fits is ", 1)[1].split()[0])
    assert plan(PlanRequest("llama3-405b", tokens="15T", gpu="h100", gpus=smallest)).fits
    with pytest.raises(InfeasibleError, match="does not fit"):
        _plan(model="llama3-405b", tokens="15T", gpus=smallest - 8)


def test_a_fixed_layout_that_fits_nowhere() -> None:
    with pytest.raises(InfeasibleError, match="no GPU count up to 1048576 fits with these settings"):
        _plan(model="llama3-405b", tp=1, pp=1, zero=0)


def test_deadlines_no_gpu_count_can_meet() -> None:
    with pytest.raises(InfeasibleError, match=r"no GPU count meets 0.01 days \(that needs more than"):
        _plan(model="llama3-405b", tokens="15.6T", gpus=None, days=0.01)
    with pytest.raises(InfeasibleError, match="no GPU count meets 30 days: the fastest found is"):
        _plan(model="llama3-70b", tokens="15T", gpus=None, days=30.0)


def test_a_gpu_count_with_no_layout_names_nearby_counts() -> None:
    with pytest.raises(InfeasibleError, match="nearest GPU counts that work: 64 or 72"):
        _plan(gpus=68, global_batch=64 * 9, microbatch=1, tp=4)


def test_allow_no_fit_returns_the_leanest_layout() -> None:
    result = plan(PlanRequest("llama3-405b", tokens="15T", gpu="h100", gpus=8, allow_no_fit=True))
    assert not result.fits and result.memory_per_gpu_bytes.total > result.memory_per_gpu_bytes.usable
    assert any("no layout fits" in note for note in result.notes)


def test_bad_model_file_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nlayers: 4\nhidden: 100\nheads: 3\nvocab: 10\nseq_len: 8\n")
    code = main(["plan", "--model", str(path), "--tokens", "1B", "--gpu", "a100", "--gpus", "8"])
    err = capsys.readouterr().err
    assert code == ConfigError.exit_code == 2
    assert err.count("\n") == 1 and err.startswith("dcbench: error: ") and "heads=3 does not divide hidden=100" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--assume", "power.pu=1.3"], "did you mean power.pue?"),
        (["--assume", "powr.pue=1.3"], "did you mean 'power'?"),
        (["--assume", "pue=1.3"], "write SECTION.KEY=VALUE"),
        (["--assume", "power.pue=0.5"], "--assume power: pue must be >= 1"),
        (["--assume", "power.pue=abc"], "--assume power: pue must be a number (got 'abc')"),
    ],
)
def test_bad_assumptions_through_the_cli(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "--model", "llama3-8b", "--tokens", "1T", "--gpu", "h100", "--gpus", "64", *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err
