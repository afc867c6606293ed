"""Properties (hypothesis): memory is never negative, more GPUs are never slower in the
ideal-scaling limit, and fixing the search's winner reproduces its numbers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.catalog import load_hardware
from simulator.catalog.specs import ModelSpec
from simulator.layouts import build_grid, default_space
from simulator.plan import PlanRequest, plan
from simulator.search import MemoryAssumptions, evaluate
from simulator.step_time import Fabric

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def models(draw: st.DrawFn) -> ModelSpec:
    heads = draw(st.sampled_from([4, 8, 16, 32]))
    head_dim = draw(st.sampled_from([32, 64, 128]))
    kv = draw(st.sampled_from([h for h in (1, 2, 4, 8, 16, 32) if heads % h == 0]))
    return ModelSpec(
        name="random", layers=draw(st.integers(1, 48)), hidden=heads * head_dim, heads=heads, kv_heads=kv,
        vocab=draw(st.integers(1000, 130000)), seq_len=draw(st.sampled_from([512, 2048, 8192, 32768])),
        mlp=draw(st.sampled_from(["gelu", "swiglu"])), tied_embeddings=draw(st.booleans()),
    )


IDEAL = Fabric(
    gpus_per_node=8, intra_busbw_bytes_per_s=1e30, inter_busbw_bytes_per_s=1e30, intra_latency_s=0.0,
    inter_latency_s=0.0,
)


@FAST
@given(model=models(), gpus=st.sampled_from([8, 16, 64, 96]), attention=st.sampled_from(["flash", "unfused"]))
def test_memory_and_time_are_never_negative(model: ModelSpec, gpus: int, attention: str) -> None:
    hw = load_hardware("h100")
    space = default_space(model, 8, gpus)
    grid = build_grid(model, space, gpus=[gpus], gpus_per_node=8, global_batch=256, batch_is_fixed=False)
    if len(grid) == 0:
        return
    ev = evaluate(model, hw, grid, IDEAL, MemoryAssumptions(), attention=attention)  # type: ignore[arg-type]
    for part in (ev.weights_bytes, ev.gradients_bytes, ev.optimizer_bytes, ev.activations_bytes, ev.total_bytes):
        assert (part >= 0).all()
    assert (ev.step_time_s > 0).all() and np.isfinite(ev.step_time_s).all()


@FAST
@given(model=models(), dp=st.sampled_from([1, 2, 4, 16]), zero=st.sampled_from([0, 1, 2, 3]))
def test_doubling_data_parallelism_never_less_than_doubles_throughput_when_communication_is_free(
    model: ModelSpec, dp: int, zero: int
) -> None:
    # Same per-replica work (tp 1, microbatch 1, 4 microbatches per replica), twice the replicas.
    # ZeRO 1-3 also shard the optimizer step over dp, so it can do better than 2x; ZeRO 0 is exactly 2x.
    hw = load_hardware("a100")
    space = replace(
        default_space(model, 8, 1 << 20), tp=[1], pp=[1], cp=[1], microbatch=[1], zero_stage=[zero],
        recompute=[1], sequence_parallel=[False], virtual_stages=[1],
    )
    rates = []
    for d in (dp, 2 * dp):
        grid = build_grid(model, replace(space, dp=[d]), gpus=[d], gpus_per_node=8, global_batch=4 * d, batch_is_fixed=True)
        rates.append(float(evaluate(model, hw, grid, IDEAL, MemoryAssumptions()).tokens_per_s[0]))
    assert rates[1] >= 2 * rates[0] * (1 - 1e-12)
    if zero == 0:
        assert rates[1] == pytest.approx(2 * rates[0], rel=1e-12)


@settings(max_examples=15, deadline=None)
@given(model=st.sampled_from(["llama2-7b", "llama3-8b", "gpt3-175b"]), nodes=st.integers(8, 64))
def test_more_gpus_are_never_slower_at_a_fixed_utilisation(model: str, nodes: int) -> None:
    # Ideal scaling: at a fixed MFU the time to train falls as 1/N.
    times = []
    for n in (nodes, nodes + 8):
        times.append(plan(PlanRequest(model, tokens="1T", gpu="a100", gpus=8 * n, mfu=0.4)).time_to_train_s)
    assert times[1] <= times[0]
    assert times[1] == pytest.approx(times[0] * nodes / (nodes + 8), rel=1e-9)


@settings(max_examples=12, deadline=None)
@given(
    model=st.sampled_from(["llama2-7b", "llama2-70b", "llama3-8b", "gpt3-175b", "megatron-22b"]),
    gpu=st.sampled_from(["a100", "h100", "mi300x"]),
    nodes=st.sampled_from([4, 8, 16, 32, 64]),
)
def test_fixing_the_winner_reproduces_its_numbers(model: str, gpu: str, nodes: int) -> None:
    try:
        best = plan(PlanRequest(model, tokens="1T", gpu=gpu, gpus=8 * nodes))
    except Exception as err:  # noqa: BLE001 - a model too large for the count is a valid outcome
        assert "does not fit" in str(err) or "no layout" in str(err)
        return
    p = best.parallelism
    fixed = plan(
        PlanRequest(
            model, tokens="1T", gpu=gpu, gpus=best.gpus, tp=p.tp, pp=p.pp, dp=p.dp, cp=p.cp, microbatch=p.microbatch,
            zero=p.zero_stage, recompute=p.recompute, sequence_parallel=p.sequence_parallel,
            virtual_stages=p.virtual_stages, global_batch=p.global_batch,
        )
    )
    assert fixed.parallelism == p
    assert fixed.throughput == best.throughput
    assert fixed.memory_per_gpu_bytes == best.memory_per_gpu_bytes
    assert fixed.to_dict()["cost"] == best.to_dict()["cost"]
