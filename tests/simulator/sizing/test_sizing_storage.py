"""Storage sizing: checkpoint bytes against ZeRO's accounting, token widths, capacity."""

from __future__ import annotations

import pytest

from dcbench.errors import UsageError
from simulator.sizing.storage import (
    StorageAssumptions,
    StorageInputs,
    size_storage,
    token_id_bytes,
)


def test_checkpoint_is_zero_model_states_without_gradients() -> None:
    # ZeRO (arXiv:1910.02054) Figure 1: 7.5e9 params take (2 + 2 + K=12) * P = 120 GB of
    # model states. A checkpoint keeps everything but the 2-byte gradients: 120 - 15 = 105 GB.
    sizing = size_storage(StorageInputs(params=7.5e9, dataset_tokens=1e9))
    assert sizing.checkpoint_bytes_per_param == 14.0
    assert sizing.checkpoint_bytes == pytest.approx(120e9 - 2 * 7.5e9)


def test_write_bandwidth_for_target_time() -> None:
    # 70e9 params * 14 B = 980 GB; in 60 s that is 16.33 GB/s, over 128 nodes 127.6 MB/s.
    sizing = size_storage(StorageInputs(params=70e9, dataset_tokens=1e9, nodes=128))
    assert sizing.checkpoint_bytes == pytest.approx(980e9)
    assert sizing.checkpoint_write_bytes_per_s == pytest.approx(980e9 / 60)
    assert sizing.checkpoint_write_bytes_per_s_per_node == pytest.approx(980e9 / 60 / 128)
    faster = size_storage(
        StorageInputs(params=70e9, dataset_tokens=1e9), StorageAssumptions(checkpoint_write_s=30.0)
    )
    assert faster.checkpoint_write_bytes_per_s == pytest.approx(
        2 * sizing.checkpoint_write_bytes_per_s
    )


@pytest.mark.parametrize(
    ("vocab", "width"),
    [
        (50_257, 2),  # GPT-2 ids fit uint16 (nanoGPT prepare.py stores them so)
        (65_536, 2),  # ids 0..65535: the largest uint16 vocabulary
        (65_537, 4),
        (128_256, 4),  # Llama 3 vocabulary
        (None, 4),  # unknown: assume the wider id
    ],
)
def test_token_id_width_follows_vocabulary(vocab: int | None, width: int) -> None:
    assert token_id_bytes(vocab) == width


def test_dataset_and_read_bandwidth_from_tokens() -> None:
    # 15e12 tokens with a 128,256 vocabulary at 4 B = 60 TB; 2e6 tokens/s read 8 MB/s.
    sizing = size_storage(
        StorageInputs(params=8e9, dataset_tokens=15e12, vocab_size=128_256, tokens_per_s=2e6)
    )
    assert sizing.bytes_per_token == 4 and sizing.bytes_per_token_source == "vocab"
    assert sizing.dataset_bytes == pytest.approx(60e12)
    assert sizing.read_bytes_per_s == pytest.approx(8e6)
    assert sizing.read_source == "tokens"


def test_measured_run_overrides_token_width_and_read_rate() -> None:
    # A bench run read 8,200-byte samples of 2,048 tokens at 500 samples/s.
    sizing = size_storage(
        StorageInputs(
            params=1e9,
            dataset_tokens=2_048e6,
            vocab_size=50_257,
            tokens_per_s=1e6,
            bytes_per_sample=8_200.0,
            tokens_per_sample=2_048,
            samples_per_s=500.0,
        )
    )
    assert sizing.bytes_per_token_source == "measured"
    assert sizing.bytes_per_token == pytest.approx(8_200 / 2_048)
    assert sizing.dataset_bytes == pytest.approx(1e6 * 8_200)  # 1e6 samples of 8,200 B
    assert sizing.read_bytes_per_s == pytest.approx(500 * 8_200)
    assert sizing.read_source == "measured"


def test_explicit_bytes_per_token_wins() -> None:
    sizing = size_storage(
        StorageInputs(params=1e9, dataset_tokens=1e9, vocab_size=50_257),
        StorageAssumptions(bytes_per_token=4.5),
    )
    assert sizing.bytes_per_token == 4.5 and sizing.bytes_per_token_source == "assumption"


def test_no_throughput_means_no_read_rate() -> None:
    sizing = size_storage(StorageInputs(params=1e9, dataset_tokens=1e9))
    assert sizing.read_bytes_per_s is None and sizing.read_source == "none"


def test_capacity_by_hand() -> None:
    # 1e9 params -> 14 GB checkpoints; 2 retained + 1 being written = 42 GB.
    # 1e10 tokens * 2 B = 20 GB. (20 + 42) * 3 copies = 186 GB; + 50% headroom = 279 GB.
    sizing = size_storage(
        StorageInputs(params=1e9, dataset_tokens=1e10, vocab_size=32_000),
        StorageAssumptions(checkpoints_retained=2, replication_factor=3.0, headroom_fraction=0.5),
    )
    assert sizing.retained_checkpoint_bytes == pytest.approx(42e9)
    assert sizing.stored_bytes == pytest.approx(186e9)
    assert sizing.capacity_bytes == pytest.approx(279e9)


def test_weights_only_checkpoint() -> None:
    sizing = size_storage(
        StorageInputs(params=1e9, dataset_tokens=1e9),
        StorageAssumptions(master_bytes_per_param=0.0, optimizer_bytes_per_param=0.0),
    )
    assert sizing.checkpoint_bytes == pytest.approx(2e9)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"params": 0}, "params"),
        ({"dataset_tokens": -1.0}, "dataset_tokens"),
        ({"vocab_size": 0}, "vocab_size"),
        ({"tokens_per_s": float("inf")}, "tokens_per_s"),
        ({"samples_per_s": 10.0}, "bytes_per_sample"),
        ({"tokens_per_sample": 2.5}, "tokens_per_sample"),
        ({"params": "7e9"}, "params"),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"params": 1e9, "dataset_tokens": 1e9}
    values.update(kwargs)
    with pytest.raises(UsageError, match=field):
        StorageInputs(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"checkpoint_write_s": 0.0}, "checkpoint_write_s"),
        ({"replication_factor": 0.5}, "replication_factor"),
        ({"checkpoints_retained": -1}, "checkpoints_retained"),
        ({"headroom_fraction": -0.1}, "headroom_fraction"),
        ({"bytes_per_token": 0.0}, "bytes_per_token"),
    ],
)
def test_bad_assumptions_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(UsageError, match=field):
        StorageAssumptions(**kwargs)  # type: ignore[arg-type]
