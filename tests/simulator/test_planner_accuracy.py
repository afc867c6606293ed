"""Accuracy against published results (the validation table of docs/planner.md).

Each published figure and its source lives in planner_reference.py or below. The pinned
errors are today's values: a change that makes any of them worse by more than the slack fails.
"""

from __future__ import annotations

import pytest
from planner_reference import (
    LLAMA3_TABLE4,
    LLAMA3_TABLE4_LAYOUT,
    TABLE3,
    TABLE4_22B_MS,
    TABLE5,
    table3_model,
)

from simulator.catalog import load_hardware, load_model
from simulator.collectives import all_reduce_s
from simulator.flops import model_flops_per_token
from simulator.plan import PlanRequest, plan
from simulator.roofline import layer_times

SLACK = 0.01  # allowed worsening of a pinned relative error

# Korthikanti Table 5 relative errors of the roofline (predicted / published - 1), no override.
TABLE5_PINNED = {
    ("22B", "full"): -0.028,
    ("22B", "selective"): -0.094,
    ("175B", "full"): +0.019,
    ("175B", "selective"): -0.028,
    ("530B", "full"): +0.040,
    ("530B", "selective"): -0.006,
    ("1T", "full"): +0.002,
    ("1T", "selective"): -0.015,
}

TABLE4_PINNED = {
    "baseline_fwd": -0.053,
    "baseline_bwd": +0.091,
    "full_recompute_total": +0.014,
    "selective_total": +0.023,
    "selective_plus_sp_total": -0.035,
}


def _table5_step_time(name: str, column: str) -> float:
    _, _, _, tp, pp, gpus, batch, micro = TABLE3[name]
    selective = column == "selective"
    result = plan(
        PlanRequest(
            table3_model(name), tokens=1e9, gpu="a100-sxm4-80gb", gpus=gpus, tp=tp, pp=pp, dp=gpus // (tp * pp),
            cp=1, microbatch=micro, global_batch=batch, zero=0, virtual_stages=1, attention="unfused",
            recompute="selective" if selective else "full", sequence_parallel=selective,
        )
    )
    assert result.breakdown.source == "roofline"
    return result.throughput.step_time_s


@pytest.mark.parametrize(("name", "column"), list(TABLE5_PINNED))
def test_korthikanti_table5_iteration_times(name: str, column: str) -> None:
    published = TABLE5[name][0 if column == "full" else 1]
    error = _table5_step_time(name, column) / published - 1
    assert abs(error) <= 0.15, f"{name} {column}: {error:+.1%} (the issue's bound is 15%)"
    assert abs(error) <= abs(TABLE5_PINNED[(name, column)]) + SLACK, f"{name} {column} got worse: {error:+.1%}"


def test_korthikanti_table4_one_layer_times() -> None:
    # One 22B layer on 8 A100s (tp 8, b 4, s 2048): forward/backward with the two all-reduces each
    # pass needs (Megatron-LM tensor parallelism), recompute variants as in the table.
    hw = load_hardware("a100")
    m = table3_model("22B")
    eff = hw.efficiency
    busbw = hw.link_bytes_per_s_per_direction * eff.intra_node_collective_fraction
    ar = float(all_reduce_s(2 * 4 * 2048 * 6144, 8, busbw, eff.intra_node_latency_s)) * 1e3
    base = layer_times(m, hw, microbatch=4, seq_len=2048, kv_seq_len=2048, tp=8, sequence_parallel=False)
    sp = layer_times(m, hw, microbatch=4, seq_len=2048, kv_seq_len=2048, tp=8, sequence_parallel=True)
    f, b, c = (float(x) * 1e3 for x in (base.forward_s, base.backward_s, base.core_attention_forward_s))
    fs, bs, cs = (float(x) * 1e3 for x in (sp.forward_s, sp.backward_s, sp.core_attention_forward_s))
    predicted = {
        "baseline_fwd": f + 2 * ar,
        "baseline_bwd": b + 2 * ar,
        "full_recompute_total": 2 * f + b + 6 * ar,
        "selective_total": f + b + c + 4 * ar,
        "selective_plus_sp_total": fs + bs + cs + 4 * ar,
    }
    for key, published in TABLE4_22B_MS.items():
        error = predicted[key] / published - 1
        assert abs(error) <= abs(TABLE4_PINNED[key]) + SLACK, f"{key}: {error:+.1%}"


@pytest.mark.parametrize(
    ("model", "tokens", "gpus", "achieved", "days"),
    [
        # Narayanan et al. 2021 (arXiv:2104.04473) §5.1 worked examples: time ~ 8 T P / (n X).
        ("gpt3-175b", 300e9, 1024, 140e12, 34.0),
        ("megatron-1t", 450e9, 3072, 163e12, 84.0),
    ],
)
def test_megatron_worked_examples(model: str, tokens: float, gpus: int, achieved: float, days: float) -> None:
    result = plan(
        PlanRequest(model, tokens=tokens, gpu="a100", gpus=gpus, achieved_flops_per_gpu=achieved, recompute="full")
    )
    assert result.time_to_train_days == pytest.approx(days, rel=0.05)
    assert result.throughput.achieved_flops_per_gpu == pytest.approx(achieved, rel=1e-9)


# Llama 3 Table 4 MFU errors of the roofline (predicted / published - 1) on the published layout.
LLAMA3_PINNED = {8192: +0.014, 16384: -0.000}


def test_llama3_table4_is_self_consistent() -> None:
    # The published columns agree with each other: dp x sequences per group = 16M tokens / 8192,
    # tp x pp x dp = GPUs, and TFLOP/s over the 989.4 TFLOP/s H100 bf16 peak rounds to the MFU column.
    layout = LLAMA3_TABLE4_LAYOUT
    sequences = layout["batch_tokens"] // layout["seq_len"]
    assert sequences == 2048
    for gpus, (dp, per_group, tflops, mfu) in LLAMA3_TABLE4.items():
        assert dp * per_group == sequences
        assert layout["tp"] * layout["cp"] * layout["pp"] * dp == gpus
        assert abs(tflops / 989.4e12 - mfu) < 0.01


def _llama3_405b_mfu(gpus: int) -> float:
    """The roofline's MFU for Llama 3 405B on the Table 4 layout (H100, no override).

    Fixed as published: tp 8, cp 1, pp 16, dp, the 2048-sequence batch, no activation
    recomputation (§3.3.2). Not published, so fixed by convention or searched: microbatch 1
    (one sequence per microbatch, the batch column's unit), sequence parallelism on, ZeRO 0/1
    and the interleaving depth (fastest wins). 126 layers do not split into 16 equal stages;
    the paper gives the first and last stage one layer fewer, so the slowest stages carry 8
    layers: the step is timed on a 128-layer copy and MFU counts the real 126-layer model's
    FLOPs. The planner's memory model says this layout needs more than 80 GB on the first
    stage (see docs/planner.md), so it is evaluated with ``allow_no_fit``.
    """
    dp, per_group, _, _ = LLAMA3_TABLE4[gpus]
    real = load_model("llama3-405b")
    balanced = real.model_copy(update={"layers": 128})
    peak = load_hardware("h100").peak()
    step_s = min(
        plan(
            PlanRequest(
                balanced, tokens=1e12, gpu="h100", gpus=gpus, tp=8, pp=16, dp=dp, cp=1, microbatch=1,
                global_batch=dp * per_group, zero=zero, recompute="none", sequence_parallel=True,
                virtual_stages=v, allow_no_fit=True, top=1,
            )
        ).throughput.step_time_s
        for v in (1, 2, 4, 8)
        for zero in (0, 1)
    )
    tokens_per_step = dp * per_group * real.seq_len
    return model_flops_per_token(real) * tokens_per_step / step_s / gpus / peak


@pytest.mark.parametrize("gpus", list(LLAMA3_TABLE4))
def test_llama3_405b_table4_mfu_on_h100(gpus: int) -> None:
    published = LLAMA3_TABLE4[gpus][3]
    error = _llama3_405b_mfu(gpus) / published - 1
    assert abs(error) <= 0.10, f"{gpus} GPUs: {error:+.1%}"
    assert abs(error) <= abs(LLAMA3_PINNED[gpus]) + SLACK, f"{gpus} GPUs got worse: {error:+.1%}"


def test_llama3_scaling_from_8k_to_16k_gpus() -> None:
    # Doubling dp at a fixed batch halves the microbatches per pipeline flush: the published MFU
    # falls from 43% to 41% (ratio 0.953); the model must show a drop of similar size.
    ratio = _llama3_405b_mfu(16384) / _llama3_405b_mfu(8192)
    assert 0.90 <= ratio <= 1.0
