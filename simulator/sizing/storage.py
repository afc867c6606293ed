"""Storage sizing: tokenised dataset, checkpoints, write and read bandwidth, capacity.

Formulas (bytes, bytes/s, seconds):

* dataset_bytes = dataset_tokens * bytes_per_token. Token ids are stored as
  the narrowest unsigned integer that holds ``vocab_size - 1``: 2 bytes
  (uint16) up to a 65,536-token vocabulary, else 4 (uint32/int32). nanoGPT's
  ``data/openwebtext/prepare.py`` writes GPT-2 ids (vocab 50,257) as uint16;
  Megatron-LM's indexed dataset picks uint16 below 65,500 and int32 above.
  A measured bench run (bytes per sample / tokens per sample) overrides this.
* checkpoint_bytes = params * (weight + master + optimizer bytes per param).
  Default mixed-precision Adam as Megatron-LM/DeepSpeed write it: 2 B bf16
  weights + 12 B fp32 master copy, momentum and variance (the K = 12 of
  Rajbhandari et al., ZeRO, arXiv:1910.02054 §3.1) = 14 B/param.
* checkpoint_write_bytes_per_s = checkpoint_bytes / checkpoint_write_s.
* read_bytes_per_s = tokens_per_s * bytes_per_token, or samples_per_s *
  bytes_per_sample when a measured run supplies them.
* capacity_bytes = (dataset_bytes + (checkpoints_retained + 1) *
  checkpoint_bytes) * replication_factor * (1 + headroom_fraction); the +1
  is the checkpoint being written before the oldest is deleted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from dcbench.errors import UsageError
from simulator.sizing import checks

#: Largest vocabulary whose ids (0 .. vocab-1) fit in an unsigned 16-bit integer.
UINT16_VOCAB_LIMIT = 2**16

BytesPerTokenSource = Literal["assumption", "measured", "vocab"]
ReadSource = Literal["measured", "tokens", "none"]


@dataclass(frozen=True, kw_only=True, slots=True)
class StorageAssumptions:
    """Named storage inputs; defaults are sourced or marked illustrative (2025)."""

    # None: 2 bytes for vocab <= 65,536 (uint16), else 4; or from a measured run.
    bytes_per_token: float | None = None
    weight_bytes_per_param: float = 2.0  # bf16 model weights as written
    master_bytes_per_param: float = 4.0  # fp32 master weights (ZeRO §3.1)
    optimizer_bytes_per_param: float = 8.0  # Adam momentum + variance in fp32 (ZeRO §3.1)
    # Target time to write one checkpoint. Illustrative: a 60 s pause is ~1.7% of
    # a one-hour checkpoint interval.
    checkpoint_write_s: float = 60.0
    checkpoints_retained: int = 3  # complete checkpoints kept (illustrative)
    replication_factor: float = 1.0  # stored copies (3 = triple replication)
    headroom_fraction: float = 0.2  # free space kept on top of what is stored (illustrative)

    def __post_init__(self) -> None:
        checks.optional_positive("bytes_per_token", self.bytes_per_token)
        checks.positive("weight_bytes_per_param", self.weight_bytes_per_param)
        checks.non_negative("master_bytes_per_param", self.master_bytes_per_param)
        checks.non_negative("optimizer_bytes_per_param", self.optimizer_bytes_per_param)
        checks.positive("checkpoint_write_s", self.checkpoint_write_s)
        checks.non_negative_int("checkpoints_retained", self.checkpoints_retained)
        checks.at_least("replication_factor", self.replication_factor, 1.0)
        checks.non_negative("headroom_fraction", self.headroom_fraction)

    @property
    def checkpoint_bytes_per_param(self) -> float:
        """Bytes one parameter takes in a checkpoint (weights + master + optimizer state)."""
        return (
            self.weight_bytes_per_param
            + self.master_bytes_per_param
            + self.optimizer_bytes_per_param
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class StorageInputs:
    """What the planner (or a measured bench run) supplies."""

    params: float  # model parameters
    dataset_tokens: float  # tokens in the tokenised training set
    vocab_size: int | None = None  # picks 2- or 4-byte token ids
    tokens_per_s: float | None = None  # global training throughput
    nodes: int | None = None  # for the per-node checkpoint write rate
    bytes_per_sample: float | None = None  # measured: bytes read per training sample
    tokens_per_sample: int | None = None  # measured: tokens per sample (sequence length)
    samples_per_s: float | None = None  # measured: samples read per second

    def __post_init__(self) -> None:
        checks.positive("params", self.params)
        checks.positive("dataset_tokens", self.dataset_tokens)
        if self.vocab_size is not None:
            checks.positive_int("vocab_size", self.vocab_size)
        checks.optional_positive("tokens_per_s", self.tokens_per_s)
        if self.nodes is not None:
            checks.positive_int("nodes", self.nodes)
        checks.optional_positive("bytes_per_sample", self.bytes_per_sample)
        if self.tokens_per_sample is not None:
            checks.positive_int("tokens_per_sample", self.tokens_per_sample)
        checks.optional_positive("samples_per_s", self.samples_per_s)
        if self.samples_per_s is not None and self.bytes_per_sample is None:
            raise UsageError(
                "samples_per_s needs bytes_per_sample; pass both from the measured run"
            )


@dataclass(frozen=True, kw_only=True, slots=True)
class StorageSizing:
    """Storage sizing result (bytes, bytes/s)."""

    bytes_per_token: float
    bytes_per_token_source: BytesPerTokenSource
    dataset_bytes: float
    checkpoint_bytes_per_param: float
    checkpoint_bytes: float
    checkpoint_write_s: float
    checkpoint_write_bytes_per_s: float
    checkpoint_write_bytes_per_s_per_node: float | None  # None when nodes is not given
    read_bytes_per_s: float | None  # None when no throughput is given
    read_source: ReadSource
    retained_checkpoint_bytes: float  # (retained + 1 in flight) checkpoints
    stored_bytes: float  # (dataset + checkpoints) * replication
    capacity_bytes: float  # stored_bytes * (1 + headroom)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field."""
        return asdict(self)


def token_id_bytes(vocab_size: int | None) -> int:
    """Bytes per stored token id: 2 (uint16) when ids fit below 2**16, else 4; 4 when unknown."""
    if vocab_size is None:
        return 4
    return 2 if checks.positive_int("vocab_size", vocab_size) <= UINT16_VOCAB_LIMIT else 4


def size_storage(
    inputs: StorageInputs, assumptions: StorageAssumptions | None = None
) -> StorageSizing:
    """Size dataset, checkpoint, bandwidth and capacity for ``inputs`` (pure)."""
    a = assumptions or StorageAssumptions()
    bytes_per_token: float
    source: BytesPerTokenSource
    if a.bytes_per_token is not None:
        bytes_per_token, source = a.bytes_per_token, "assumption"
    elif inputs.bytes_per_sample is not None and inputs.tokens_per_sample is not None:
        bytes_per_token, source = inputs.bytes_per_sample / inputs.tokens_per_sample, "measured"
    else:
        bytes_per_token, source = float(token_id_bytes(inputs.vocab_size)), "vocab"

    read: float | None
    read_source: ReadSource
    if inputs.samples_per_s is not None and inputs.bytes_per_sample is not None:
        read, read_source = inputs.samples_per_s * inputs.bytes_per_sample, "measured"
    elif inputs.tokens_per_s is not None:
        read, read_source = inputs.tokens_per_s * bytes_per_token, "tokens"
    else:
        read, read_source = None, "none"

    dataset = inputs.dataset_tokens * bytes_per_token
    per_param = a.checkpoint_bytes_per_param
    checkpoint = inputs.params * per_param
    write_rate = checkpoint / a.checkpoint_write_s
    retained = (a.checkpoints_retained + 1) * checkpoint
    stored = (dataset + retained) * a.replication_factor
    return StorageSizing(
        bytes_per_token=bytes_per_token,
        bytes_per_token_source=source,
        dataset_bytes=dataset,
        checkpoint_bytes_per_param=per_param,
        checkpoint_bytes=checkpoint,
        checkpoint_write_s=a.checkpoint_write_s,
        checkpoint_write_bytes_per_s=write_rate,
        checkpoint_write_bytes_per_s_per_node=None
        if inputs.nodes is None
        else write_rate / inputs.nodes,
        read_bytes_per_s=read,
        read_source=read_source,
        retained_checkpoint_bytes=retained,
        stored_bytes=stored,
        capacity_bytes=stored * (1.0 + a.headroom_fraction),
    )
