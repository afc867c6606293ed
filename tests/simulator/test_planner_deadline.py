"""Sizing from a deadline (--days) and the GPU counts the search may use."""

from __future__ import annotations

import re

import pytest

from dcbench.errors import InfeasibleError
from simulator.counts import divisors, feasible_counts
from simulator.layouts import build_grid
from simulator.plan import PlanRequest, plan
from simulator.request import prepare


def test_divisors_match_a_brute_force() -> None:
    for value in (1, 2, 12, 97, 360, 2048, 5120):
        assert divisors(value) == [d for d in range(1, value + 1) if value % d == 0]


@pytest.mark.parametrize(("global_batch", "dp"), [(None, None), (128, None), (None, 4)])
def test_feasible_counts_never_miss_a_count_that_has_layouts(global_batch: int | None, dp: int | None) -> None:
    # Brute force: every count up to 512 whose layout grid is not empty must be listed.
    setup = prepare(PlanRequest("llama2-13b", tokens="1T", gpu="a100", gpus=8, global_batch=global_batch, dp=dp))
    listed = set(feasible_counts(setup, whole_nodes=False, limit=512).tolist())
    for count in range(1, 513):
        grid = build_grid(
            setup.model, setup.space, gpus=[count], gpus_per_node=8, global_batch=setup.batch,
            batch_is_fixed=setup.batch_fixed,
        )
        if len(grid):
            assert count in listed, count
    whole = feasible_counts(setup, whole_nodes=True, limit=512)
    assert all(n % 8 == 0 for n in whole.tolist()) and set(whole.tolist()) <= listed


def test_deadline_with_a_fixed_batch_finds_the_fewest_whole_nodes() -> None:
    # A fixed batch of 512 sequences makes dp a divisor of 512: with tp and pp powers of two too,
    # only powers of two of GPUs have layouts. The answer must be one, and every smaller power of
    # two (in whole nodes) must miss the deadline.
    days = 10.0
    result = plan(PlanRequest("llama3-8b", tokens="15T", gpu="h100", days=days, global_batch=512))
    assert result.time_to_train_days <= days and result.parallelism.global_batch == 512
    assert result.gpus & (result.gpus - 1) == 0 and result.gpus % 8 == 0
    smaller = 8
    while smaller < result.gpus:
        try:
            slower = plan(PlanRequest("llama3-8b", tokens="15T", gpu="h100", gpus=smaller, global_batch=512))
        except InfeasibleError:
            smaller *= 2
            continue
        assert slower.time_to_train_days > days, smaller
        smaller *= 2


def test_deadline_with_every_dimension_fixed_uses_their_product() -> None:
    fixed = {"tp": 8, "pp": 8, "dp": 4, "cp": 1}
    result = plan(PlanRequest("gpt3-175b", tokens="300B", gpu="a100", days=365.0, **fixed))  # type: ignore[arg-type]
    assert result.gpus == 8 * 8 * 4
    with pytest.raises(InfeasibleError) as err:
        plan(PlanRequest("gpt3-175b", tokens="300B", gpu="a100", days=result.time_to_train_days / 2, **fixed))  # type: ignore[arg-type]
    text = str(err.value)
    assert "the fastest found is" in text and "on 256 GPUs" in text and "fix fewer layout dimensions" in text


def test_unreachable_deadline_names_a_batch_that_meets_it() -> None:
    # 8B at the default 2**22-token batch (512 sequences) cannot use more than 512-way data
    # parallelism; the error must name a larger batch, and that batch must really meet the deadline.
    days = 1.0
    with pytest.raises(InfeasibleError) as err:
        plan(PlanRequest("llama3-8b", tokens="15T", gpu="h100", days=days))
    text = str(err.value)
    assert "\n" not in text and text.startswith("no GPU count meets 1 day:")
    fastest = float(re.search(r"the fastest found is ([0-9.]+) days", text).group(1))  # type: ignore[union-attr]
    assert fastest > days
    match = re.search(r"--global-batch (\d+)\) meets it on ([0-9,]+) GPUs", text)
    assert match is not None, text
    batch, gpus = int(match.group(1)), int(match.group(2).replace(",", ""))
    assert batch > 512
    check = plan(PlanRequest("llama3-8b", tokens="15T", gpu="h100", gpus=gpus, global_batch=batch))
    assert check.time_to_train_days <= days


def test_a_deadline_beyond_any_batch_says_so() -> None:
    with pytest.raises(InfeasibleError) as err:
        plan(PlanRequest("llama3-405b", tokens="15.6T", gpu="h100", days=0.5))
    text = str(err.value)
    assert "the fastest found is" in text and "allow more days" in text and "\n" not in text


def test_cost_objective_with_sparse_counts() -> None:
    by_time = plan(PlanRequest("llama3-8b", tokens="15T", gpu="h100", days=20, global_batch=512))
    by_cost = plan(PlanRequest("llama3-8b", tokens="15T", gpu="h100", days=20, global_batch=512, objective="cost"))
    assert by_cost.time_to_train_days <= 20 and by_cost.cost.total_usd <= by_time.cost.total_usd
