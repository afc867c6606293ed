"""The workloads on a real NVIDIA GPU (``make gpu-test``); skipped on machines without one."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from workloads.base import WorkloadConfig
from workloads.images import write_image_folder
from workloads.registry import WORKLOAD_NAMES, create
from workloads.training import TorchWorkload

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU"),
]


def _build(name: str, **config: object) -> TorchWorkload:
    workload = create(name, WorkloadConfig(device="cuda", **config))  # type: ignore[arg-type]
    assert isinstance(workload, TorchWorkload)
    return workload


@pytest.mark.parametrize("dtype", ["fp32", "bf16", "fp16"])
@pytest.mark.parametrize("name", WORKLOAD_NAMES)
def test_steps_run_on_the_gpu(name: str, dtype: str) -> None:
    workload = _build(name, dtype=dtype)
    losses = [workload.train_step() for _ in range(3)]
    assert all(loss.device.type == "cuda" for loss in losses)
    assert all(math.isfinite(float(loss)) for loss in losses)
    assert (workload.grad_scaler is not None) == (dtype == "fp16")


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize("name", WORKLOAD_NAMES)
def test_counter_agrees_with_analytic_on_the_gpu(name: str, dtype: str) -> None:
    """The CUDA SDPA kernels have counter formulas, so attention is counted here."""
    workload = _build(name, dtype=dtype, size="small", batch_size=2)
    analytic, counted = workload.analytic_flops(), workload.counted_flops()
    if analytic.attention_flops > 0:
        assert counted.attention_counted, counted.by_op
    assert abs(counted.total_flops - analytic.total_flops) <= 0.02 * analytic.total_flops


@pytest.mark.parametrize("name", ["cnn", "resnet"])
def test_channels_last_on_the_gpu(name: str) -> None:
    workload = _build(name, channels_last=True, dtype="bf16")
    assert math.isfinite(float(workload.train_step()))


def test_image_folder_feeds_the_gpu(tmp_path: Path) -> None:
    root = tmp_path / "pets"
    write_image_folder(str(root), count=16, size=48, seed=0)
    workload = _build("cnn", data_dir=str(root), num_workers=2, batch_size=8)
    try:
        losses = [float(workload.train_step()) for _ in range(3)]
        stats = workload.input_pipeline_stats()
    finally:
        workload.close()
    assert all(math.isfinite(x) for x in losses)
    assert stats is not None and stats.samples == 24
