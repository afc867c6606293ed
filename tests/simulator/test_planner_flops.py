"""Training FLOPs: Korthikanti/Megatron formulas exactly, GQA/SwiGLU terms, and 6ND side by side."""

from __future__ import annotations

import pytest
from planner_reference import TABLE3, TABLE5, table3_model

from simulator.catalog import load_model
from simulator.flops import (
    hardware_flops_per_token,
    layer_forward_flops_per_token,
    model_flops_per_token,
    six_nd_flops,
)


@pytest.mark.parametrize("name", list(TABLE3))
def test_model_flops_match_korthikanti(name: str) -> None:
    # Korthikanti et al. 2022 §6: model FLOPs per iteration 72 B L s h^2 (1 + s/(6h) + V/(12 h L)).
    m = table3_model(name)
    b, n_layers, s, h, v = TABLE3[name][6], m.layers, m.seq_len, m.hidden, m.vocab
    expected = 72 * b * n_layers * s * h**2 * (1 + s / (6 * h) + v / (12 * h * n_layers))
    assert model_flops_per_token(m) * b * s == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["gpt3-175b", "megatron-1t"])
def test_full_recompute_matches_megatron(name: str) -> None:
    # Narayanan et al. 2021 §5.1: F = 96 B s l h^2 (1 + s/(6h) + V/(16 l h)) with full recomputation.
    m = load_model(name)
    b, n_layers, s, h, v = 1, m.layers, m.seq_len, m.hidden, m.vocab
    expected = 96 * b * s * n_layers * h**2 * (1 + s / (6 * h) + v / (16 * n_layers * h))
    assert hardware_flops_per_token(m, "full") * b * s == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", list(TABLE5))
def test_selective_hardware_flops_reproduce_table5_hfu_over_mfu(name: str) -> None:
    # Hardware FLOPs under selective recompute use s/(3h) in place of s/(6h) (Korthikanti §6);
    # their ratio to model FLOPs equals HFU/MFU in Table 5 (to the paper's 3 printed digits).
    m = table3_model(name)
    _, _, mfu, hfu = TABLE5[name]
    ratio = hardware_flops_per_token(m, "selective") / model_flops_per_token(m)
    assert ratio == pytest.approx(hfu / mfu, abs=0.004)
    assert hardware_flops_per_token(m, "none") == model_flops_per_token(m)


def test_gqa_and_swiglu_terms() -> None:
    # Llama 3 8B: h 4096, kv width 8 x 128 = 1024, FFN 14336, s 8192 (Table 3 of arXiv:2407.21783).
    m = load_model("llama3-8b")
    h, kv, f, s = 4096, 1024, 14336, 8192
    expected = 2 * h * (h + 2 * kv) + 2 * h * h + 4 * s * h + 6 * h * f
    assert layer_forward_flops_per_token(m) == expected
    mha = m.model_copy(update={"kv_heads": m.heads})
    assert layer_forward_flops_per_token(mha) - expected == 2 * h * 2 * (h - kv)


def test_six_nd_matches_chinchilla_table3() -> None:
    # Hoffmann et al. 2022 (arXiv:2203.15556) Table 3: params, FLOPs, tokens. Tokens are printed
    # rounded (1.5T for 67B), so allow 5%.
    for params, flops, tokens in ((1e9, 1.21e20, 20.2e9), (10e9, 1.23e22, 205.1e9), (67e9, 5.76e23, 1.5e12),
                                  (175e9, 3.85e24, 3.7e12), (1e12, 1.27e26, 21.2e12)):
        assert six_nd_flops(params, tokens) == pytest.approx(flops, rel=0.05)


def test_six_nd_is_close_to_the_exact_count_for_short_sequences() -> None:
    # GPT-3 175B at s = 2048: exact/6N = 1 + s/(6h) + (logits and embedding terms) -> within 4%.
    m = load_model("gpt3-175b")
    exact = model_flops_per_token(m) * 300e9
    assert six_nd_flops(m.params, 300e9) == pytest.approx(exact, rel=0.04)
    assert exact > six_nd_flops(m.params, 300e9) * (1 + m.seq_len / (6 * m.hidden)) * 0.99
