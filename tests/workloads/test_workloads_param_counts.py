"""Exact parameter counts against hand arithmetic and published figures."""

from __future__ import annotations

import pytest

from workloads.base import WorkloadConfig
from workloads.registry import create


def _params(name: str, size: str) -> int:
    return create(name, WorkloadConfig(size=size)).param_count


def test_cnn_at_150px_is_the_documents_network() -> None:
    # (in·3·3 + 1)·out per conv; 150 -> ... -> 7, so Flatten = 7·7·128 = 6272.
    convs = (3 * 9 + 1) * 32 + (32 * 9 + 1) * 64 + (64 * 9 + 1) * 128 + (128 * 9 + 1) * 128
    dense = (6272 + 1) * 512 + (512 + 1) * 1
    assert convs + dense == 3_453_121  # Chollet 2017 §5.2.3 model summary
    assert _params("cnn", "small") == 3_453_121
    assert _params("cnn", "medium") == 3_453_121


def test_cnn_tiny_keeps_the_architecture_at_48px() -> None:
    # 48 -> 46 -> 23 -> 21 -> 10 -> 8 -> 4 -> 2 -> 1: Flatten = 128.
    convs = (3 * 9 + 1) * 32 + (32 * 9 + 1) * 64 + (64 * 9 + 1) * 128 + (128 * 9 + 1) * 128
    assert _params("cnn", "tiny") == convs + (128 + 1) * 512 + 513


def test_mlp_tiny_is_3_4_2() -> None:
    assert _params("mlp", "tiny") == (3 * 4 + 4) + (4 * 2 + 2)


def test_mlp_presets() -> None:
    assert _params("mlp", "small") == (64 * 256 + 256) + (256 * 256 + 256) + (256 * 10 + 10)
    hidden = 4096
    assert _params("mlp", "medium") == (1024 * hidden + hidden) + 3 * (hidden * hidden + hidden) + (hidden * 1000 + 1000)


def _gpt_params(*, vocab: int, seq: int, layers: int, hidden: int) -> int:
    # Narayanan et al. 2021 §5.1: P = 12·l·h²·(1 + 13/(12h) + (V+s)/(12·l·h)), plus the final LayerNorm (2h).
    return 12 * layers * hidden**2 + 13 * layers * hidden + (vocab + seq) * hidden + 2 * hidden


@pytest.mark.parametrize(
    ("size", "vocab", "seq", "layers", "hidden"),
    [
        ("tiny", 256, 32, 2, 64),
        ("small", 8192, 256, 4, 256),
        ("medium", 50304, 1024, 12, 768),
        ("large", 50304, 1024, 24, 1024),
    ],
)
def test_gpt_params_follow_the_published_formula(size: str, vocab: int, seq: int, layers: int, hidden: int) -> None:
    assert _params("gpt", size) == _gpt_params(vocab=vocab, seq=seq, layers=layers, hidden=hidden)


def test_gpt_tiny_by_hand() -> None:
    # token 256·64, positions 32·64, 2 layers of (12·64² + 13·64), final LayerNorm 2·64
    assert _params("gpt", "tiny") == 16_384 + 2_048 + 2 * (49_152 + 832) + 128


def test_gpt_medium_and_large_are_gpt2_sized() -> None:
    # Radford et al. 2019 Table 2: 117M and 345M (with a 50257 vocabulary; ours is padded to 50304).
    assert 120e6 < _params("gpt", "medium") < 130e6
    assert 345e6 < _params("gpt", "large") < 360e6


def test_bert_tiny_by_hand() -> None:
    v, s, h = 256, 32, 64
    embeddings = v * h + s * h + 2 * h
    layers = 2 * (12 * h * h + 13 * h)
    head = (h * h + h) + 2 * h + v  # dense, LayerNorm, output bias (weight tied)
    assert _params("bert", "tiny") == embeddings + layers + head == 123_072


def test_bert_base_and_large_match_the_paper_within_the_dropped_parts() -> None:
    # Devlin et al. 2019 §3 gives rounded totals, BERT-base 110M and BERT-large 340M, which include
    # the segment embeddings, pooler and NSP head this MLM-only model leaves out (0.6M and 1.1M).
    assert 105e6 < _params("bert", "medium") < 110e6
    assert 330e6 < _params("bert", "large") < 340e6


def test_resnet_large_is_resnet50() -> None:
    # torchvision's published count for resnet50 (ImageNet, 1000 classes).
    assert _params("resnet", "large") == 25_557_032


def test_resnet_tiny_by_hand() -> None:
    def block(c_in: int, w: int) -> int:
        main = c_in * w + 9 * w * w + w * 4 * w + 2 * (w + w + 4 * w)  # three convs + their BatchNorms
        projection = c_in * 4 * w + 2 * 4 * w
        return main + projection

    stem = 3 * 49 * 8 + 2 * 8
    body = block(8, 8) + block(32, 16) + block(64, 32) + block(128, 64)
    fc = 256 * 10 + 10
    assert _params("resnet", "tiny") == stem + body + fc == 130_962
