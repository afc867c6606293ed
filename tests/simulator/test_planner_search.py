"""Layout grids, ranking, collectives and the deadline search."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dcbench.errors import InfeasibleError
from simulator.catalog import load_hardware, load_model
from simulator.collectives import all_gather_s, all_reduce_s, reduce_scatter_s, spans_nodes
from simulator.layouts import build_grid, default_space
from simulator.plan import PlanRequest, plan
from simulator.roofline import gemm_s, matmul_efficiency


def test_grid_matches_a_brute_force_enumeration() -> None:
    model = load_model("llama2-13b")  # 40 layers, 40 heads, FFN 13824
    space = default_space(model, gpus_per_node=8, max_gpus=64)
    grid = build_grid(model, space, gpus=[64], gpus_per_node=8, global_batch=128, batch_is_fixed=True)
    expected = set()
    for tp, cp, pp, v, b, z, rc, sp in itertools.product(
        space.tp, space.cp, space.pp, space.virtual_stages, space.microbatch, space.zero_stage,
        space.recompute, space.sequence_parallel,
    ):
        if 40 % tp or 13824 % tp or 40 % pp or 64 % (tp * cp * pp) or (40 // pp) % v:
            continue
        dp = 64 // (tp * cp * pp)
        m = 128 // (dp * b) if 128 % (dp * b) == 0 else 0
        if not m or (z >= 2 and pp > 1) or (sp and tp == 1) or (v > 1 and (pp == 1 or m % pp)):
            continue
        expected.add((tp, cp, pp, v, dp, b, z, rc, sp))
    got = set(zip(grid.tp.tolist(), grid.cp.tolist(), grid.pp.tolist(), grid.virtual_stages.tolist(),
                  grid.dp.tolist(), grid.microbatch.tolist(), grid.zero_stage.tolist(), grid.recompute.tolist(),
                  grid.sequence_parallel.tolist(), strict=True))
    assert got == expected and len(got) == len(grid)


def test_target_batch_rounds_to_the_nearest_multiple() -> None:
    model = load_model("gpt3-175b")
    space = default_space(model, gpus_per_node=8, max_gpus=96)
    grid = build_grid(model, space, gpus=[96], gpus_per_node=8, global_batch=100, batch_is_fixed=False)
    unit = grid.dp * grid.microbatch
    assert (grid.global_batch % unit == 0).all() and (unit <= 100).all()
    assert (np.abs(grid.global_batch - 100) <= unit / 2).all()


def test_collectives_follow_bus_bandwidth_semantics() -> None:
    # nccl-tests doc/PERFORMANCE.md: time = size * factor / busbw, factor 2(n-1)/n or (n-1)/n.
    size, n, bw = 1e9, 8, 100e9
    assert float(all_reduce_s(size, n, bw)) == pytest.approx(size * 2 * 7 / 8 / bw)
    assert float(reduce_scatter_s(size, n, bw)) == pytest.approx(size * 7 / 8 / bw)
    assert float(all_gather_s(size, n, bw, alpha_s=1e-5)) == pytest.approx(size * 7 / 8 / bw + 7 * 1e-5)
    assert float(all_reduce_s(size, 1, bw, alpha_s=1.0)) == 0.0
    assert spans_nodes(1, 8, 8) == np.False_ and spans_nodes(8, 2, 8) == np.True_ and spans_nodes(4, 2, 8) == np.False_


def test_roofline_efficiency_grows_with_gemm_size() -> None:
    hw = load_hardware("a100")
    small, large = matmul_efficiency(hw, 128, 128, 128), matmul_efficiency(hw, 8192, 8192, 8192)
    assert small < large <= hw.efficiency.matmul_peak_fraction
    # A large square GEMM is compute-bound: its time is FLOPs over the achievable rate.
    n = 8192
    assert float(gemm_s(hw, n, n, n)) == pytest.approx(2 * n**3 / (hw.peak() * float(large)))
    # A matrix-vector product is memory-bound: bytes over the achievable bandwidth.
    moved = 2 * (n * n + n + n)
    assert float(gemm_s(hw, n, 1, n)) == pytest.approx(moved / (hw.hbm_bytes_per_s * hw.efficiency.memory_fraction))


def test_candidates_are_ranked_by_time_and_fit() -> None:
    result = plan(PlanRequest("llama2-13b", tokens="2T", gpu="a100", gpus=64, top=8))
    times = [c.time_to_train_s for c in result.candidates]
    assert times == sorted(times) and result.time_to_train_s == times[0]
    assert all(c.fits and c.memory_per_gpu_bytes.total <= c.memory_per_gpu_bytes.usable for c in result.candidates)
    p = result.parallelism
    assert p.tp * p.pp * p.dp * p.cp == result.gpus == 64
    assert p.global_batch == p.dp * p.microbatch * p.microbatches


def test_step_breakdown_adds_up_to_the_step_time() -> None:
    result = plan(PlanRequest("llama3-70b", tokens="15T", gpu="h100", gpus=512))
    b = result.breakdown
    parts = b.compute_s + b.bubble_s + b.tp_comm_s + b.cp_comm_s + b.pp_comm_s + b.dp_comm_s + b.optimizer_s
    assert parts == pytest.approx(result.throughput.step_time_s, rel=1e-9)
    assert result.throughput.tokens_per_s == pytest.approx(
        result.throughput.tokens_per_step / result.throughput.step_time_s
    )


def test_deadline_finds_the_fewest_whole_nodes() -> None:
    days = 40.0
    result = plan(PlanRequest("llama2-7b", tokens="2T", gpu="a100", days=days))
    assert result.gpus % 8 == 0 and result.time_to_train_days <= days
    try:
        smaller = plan(PlanRequest("llama2-7b", tokens="2T", gpu="a100", gpus=result.gpus - 8))
    except InfeasibleError:
        return
    assert smaller.time_to_train_days > days


def test_cost_objective_is_never_dearer_than_time() -> None:
    by_time = plan(PlanRequest("llama2-7b", tokens="2T", gpu="a100", days=40))
    by_cost = plan(PlanRequest("llama2-7b", tokens="2T", gpu="a100", days=40, objective="cost"))
    assert by_cost.cost.total_usd <= by_time.cost.total_usd
    assert by_cost.time_to_train_days <= 40 and by_cost.gpus >= by_time.gpus


def test_sizing_is_fed_from_the_plan() -> None:
    result = plan(PlanRequest("gpt3-175b", tokens="300B", gpu="h100", gpus=1024))
    assert result.storage.checkpoint_bytes == pytest.approx(result.model.params * 14)
    assert result.storage.dataset_bytes == pytest.approx(300e9 * 2)  # ids below 65536 fit in uint16
    assert result.power.gpu_w == pytest.approx(1024 * 700)
    assert result.network.gpus == 1024 and result.network.nic_bits_per_s == 400e9
    assert result.cost.gpu_hours == pytest.approx(result.gpu_hours)
