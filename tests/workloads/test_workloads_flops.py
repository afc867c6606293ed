"""Analytic FLOPs: against published formulas, hand arithmetic, and FlopCounterMode (within 2%).

Presets above ``tiny`` are counted on the ``meta`` device (shapes only, no
memory, no arithmetic). There, ``scaled_dot_product_attention`` runs its math
fallback, whose ``bmm`` ops the counter sees. On CPU the fused SDPA kernel has
no counter formula and counts 0; the tests then compare without attention and
require that the count says so (``CountedFlops.note``).
"""

from __future__ import annotations

import pytest

from workloads.base import SIZES, WorkloadConfig
from workloads.flops import AnalyticFlops, CountedFlops
from workloads.gpt import GptWorkload
from workloads.registry import WORKLOAD_NAMES, create
from workloads.training import TorchWorkload

TOLERANCE = 0.02  # the agreement bound between analytic and counted FLOPs


def _build(name: str, **config: object) -> TorchWorkload:
    workload = create(name, WorkloadConfig(**config))  # type: ignore[arg-type]
    assert isinstance(workload, TorchWorkload)
    return workload


def _within(actual: float, expected: float, tolerance: float = TOLERANCE) -> bool:
    return abs(actual - expected) <= tolerance * expected


def _check_agreement(analytic: AnalyticFlops, counted: CountedFlops) -> None:
    assert _within(counted.dense_flops, analytic.dense_flops)
    if analytic.attention_flops == 0:
        assert counted.attention_flops == 0
        assert counted.note(analytic) is None
    elif counted.attention_counted:
        assert _within(counted.attention_flops, analytic.attention_flops)
        assert counted.note(analytic) is None
    else:  # the counter saw no attention op: recorded, and compared without attention
        note = counted.note(analytic)
        assert note is not None and "counted attention as 0" in note
    assert abs(counted.relative_error(analytic)) <= TOLERANCE


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", WORKLOAD_NAMES)
def test_counter_agrees_with_analytic_on_meta(name: str, size: str) -> None:
    workload = _build(name, size=size, device="meta")
    analytic, counted = workload.analytic_flops(), workload.counted_flops()
    _check_agreement(analytic, counted)
    assert _within(counted.total_flops, analytic.total_flops)


@pytest.mark.parametrize("name", WORKLOAD_NAMES)
def test_counter_agrees_with_analytic_on_cpu_tiny(name: str) -> None:
    workload = _build(name, size="tiny", device="cpu")
    analytic, counted = workload.analytic_flops(), workload.counted_flops()
    _check_agreement(analytic, counted)
    assert workload.counted_flops_note() is None  # not counted yet
    assert workload.counted_flops_per_step() == counted.total_flops
    assert workload.counted_flops_note() == counted.note(analytic)


@pytest.mark.parametrize("name", ["gpt", "bert"])
def test_attention_is_seen_on_meta_and_its_formula_checked(name: str) -> None:
    workload = _build(name, size="small", device="meta")
    counted = workload.counted_flops()
    assert counted.attention_counted
    assert _within(counted.attention_flops, workload.analytic_flops().attention_flops)


@pytest.mark.parametrize("name", ["gpt", "bert"])
def test_cpu_attention_count_is_either_right_or_flagged(name: str) -> None:
    """Records which case this torch is in; never a silent mismatch."""
    workload = _build(name, size="tiny", device="cpu")
    analytic, counted = workload.analytic_flops(), workload.counted_flops()
    if counted.attention_counted:
        assert _within(counted.total_flops, analytic.total_flops)
    else:
        assert counted.total_flops == counted.dense_flops
        assert counted.note(analytic) is not None
        assert not _within(counted.total_flops, analytic.total_flops, tolerance=0.01)


@pytest.mark.parametrize("size", SIZES)
def test_gpt_matches_korthikanti_model_flops(size: str) -> None:
    workload = create("gpt", WorkloadConfig(size=size))
    assert isinstance(workload, GptWorkload)
    shape, b = workload.shape, workload.batch_size
    layers, s, h, v = shape.layers, shape.seq_len, shape.hidden, shape.vocab_size
    # Korthikanti et al. 2022 §5: 72·B·L·s·h²·(1 + s/(6h) + V/(12·h·L)), expanded to integers.
    expected = 72 * b * layers * s * h * h + 12 * b * layers * s * s * h + 6 * b * s * h * v
    assert workload.analytic_flops_per_step() == expected


def test_bert_tiny_by_hand() -> None:
    b, s, h, layers, v, masked = 8, 32, 64, 2, 256, 5  # masked = round(0.15 · 32)
    per_layer = 24 * b * s * h * h + 4 * b * s * s * h
    head = 2 * b * masked * h * h + 2 * b * masked * h * v
    assert create("bert", WorkloadConfig()).analytic_flops_per_step() == 3 * (layers * per_layer + head)


def test_cnn_at_150px_by_hand() -> None:
    # Multiply-accumulates per image of each layer: out_h · out_w · out_c · in_c · 9 for the convs.
    conv1 = 148 * 148 * 32 * 3 * 9
    rest = 72 * 72 * 64 * 32 * 9 + 34 * 34 * 128 * 64 * 9 + 15 * 15 * 128 * 128 * 9 + 6272 * 512 + 512
    batch = 32
    # 2 FLOPs per MAC; step = 3x forward, except the first conv (no input gradient): 2x.
    expected = 2 * batch * (2 * conv1 + 3 * rest)
    assert create("cnn", WorkloadConfig(size="small")).analytic_flops_per_step() == expected


def test_resnet50_matches_torchvision_published_gmacs() -> None:
    # torchvision lists ResNet-50 (v1.5) at 4.09 GMAC ("GFLOPS") per 224x224 image, forward.
    batch = 256
    stem_macs = 112 * 112 * 64 * 3 * 49  # the stem conv gets no input gradient
    expected = 2 * batch * (3 * 4.09e9 - stem_macs)
    actual = create("resnet", WorkloadConfig(size="large")).analytic_flops_per_step()
    assert abs(actual - expected) <= 0.005 * expected


def test_mlp_tiny_by_hand() -> None:
    b = 64
    expected = 2 * b * 3 * 4 * 2 + 2 * b * 4 * 2 * 3  # first layer 2x (no input gradient), last 3x
    assert create("mlp", WorkloadConfig()).analytic_flops_per_step() == expected


@pytest.mark.parametrize("name", WORKLOAD_NAMES)
def test_analytic_flops_are_linear_in_batch(name: str) -> None:
    one = create(name, WorkloadConfig(batch_size=3)).analytic_flops_per_step()
    two = create(name, WorkloadConfig(batch_size=6)).analytic_flops_per_step()
    assert two == 2 * one > 0
