"""Real training steps at ``tiny``: learning, determinism, precision, memory format, compile."""

from __future__ import annotations

import math

import pytest
import torch

from workloads.base import WorkloadConfig
from workloads.registry import WORKLOAD_NAMES, create
from workloads.training import TorchWorkload

LEARNING_STEPS = 30


def _build(name: str, **config: object) -> TorchWorkload:
    workload = create(name, WorkloadConfig(**config))  # type: ignore[arg-type]
    assert isinstance(workload, TorchWorkload)
    return workload


def _losses(name: str, steps: int, **config: object) -> list[float]:
    workload = create(name, WorkloadConfig(**config))  # type: ignore[arg-type]
    try:
        return [float(workload.train_step()) for _ in range(steps)]
    finally:
        workload.close()


@pytest.mark.parametrize("name", WORKLOAD_NAMES)
def test_loss_falls_over_a_short_run(name: str) -> None:
    losses = _losses(name, LEARNING_STEPS, seed=0)
    assert all(math.isfinite(x) for x in losses)
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.9 * first


@pytest.mark.parametrize("name", WORKLOAD_NAMES)
def test_same_seed_same_losses_other_seed_other_losses(name: str) -> None:
    a = _losses(name, 3, seed=7)
    b = _losses(name, 3, seed=7)
    c = _losses(name, 3, seed=8)
    assert a == b
    assert a != c


@pytest.mark.parametrize("name", WORKLOAD_NAMES)
def test_train_step_returns_a_detached_scalar(name: str) -> None:
    workload = create(name, WorkloadConfig())
    loss = workload.train_step()
    assert loss.dim() == 0
    assert not loss.requires_grad
    assert loss.dtype == torch.float32


@pytest.mark.parametrize("name", WORKLOAD_NAMES)
def test_bf16_autocast_step_runs_on_cpu_without_a_scaler(name: str) -> None:
    workload = _build(name, dtype="bf16")
    losses = [float(workload.train_step()) for _ in range(2)]
    assert all(math.isfinite(x) for x in losses)
    assert workload.grad_scaler is None


def test_bf16_really_runs_matmuls_in_bf16() -> None:
    workload = _build("gpt", dtype="bf16")
    workload.train_step()
    seen: list[torch.dtype] = []
    qkv = workload.model.get_submodule("layers.0.attn.qkv")
    qkv.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    workload.train_step()
    assert seen == [torch.bfloat16]


@pytest.mark.parametrize("name", ["mlp", "gpt", "resnet"])
def test_fp16_uses_a_grad_scaler(name: str) -> None:
    # fp16 autocast and the CPU GradScaler exist on CPU in torch >= 2.3; fp16 convs
    # are slow there, so the cnn is left to the GPU checks.
    workload = _build(name, dtype="fp16")
    loss = workload.train_step()
    scaler = workload.grad_scaler
    assert isinstance(scaler, torch.amp.GradScaler)
    assert scaler.get_scale() > 0
    assert math.isfinite(float(loss))


@pytest.mark.parametrize("name", ["cnn", "resnet"])
def test_channels_last_trains_and_matches_nchw(name: str) -> None:
    workload = _build(name, channels_last=True)
    nhwc = [float(workload.train_step()) for _ in range(2)]
    conv = next(m for m in workload.model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    nchw = _losses(name, 2)
    assert nhwc == pytest.approx(nchw, rel=1e-4)


def test_counting_flops_does_not_disturb_training() -> None:
    """BatchNorm statistics, gradients and the data stream are left as they were."""
    counted = create("resnet", WorkloadConfig())
    plain = create("resnet", WorkloadConfig())
    first = [float(counted.train_step())]
    counted.counted_flops_per_step()
    first.append(float(counted.train_step()))
    assert first == [float(plain.train_step()), float(plain.train_step())]


def test_token_workloads_report_tokens_per_step() -> None:
    gpt = create("gpt", WorkloadConfig(batch_size=4))
    assert gpt.tokens_per_step == 4 * 32
    assert create("bert", WorkloadConfig()).tokens_per_step == 8 * 32
    assert create("cnn", WorkloadConfig()).tokens_per_step is None
    assert gpt.input_pipeline_stats() is None


@pytest.mark.slow
def test_compile_trains_like_eager() -> None:
    """torch.compile (inductor; ~20 s cold on CPU) gives the eager losses."""
    compiled = _losses("mlp", 3, compile=True)
    assert compiled == pytest.approx(_losses("mlp", 3), rel=1e-4)
