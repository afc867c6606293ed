"""Memory per GPU: model states under ZeRO and activations per Korthikanti et al. 2022.

All functions take numpy arrays (or scalars) for the layout dimensions and
return bytes, so the search evaluates thousands of layouts in one call.

Model states (Rajbhandari et al. 2020, "ZeRO", arXiv:1910.02054 §3 and Figure 1):
mixed-precision Adam keeps 2 bytes of 16-bit weights, 2 bytes of 16-bit
gradients and K = 12 bytes of optimizer state (fp32 weights, momentum,
variance) per parameter. ZeRO stage 1 shards the optimizer state over the
``Nd`` data-parallel ranks, stage 2 also the gradients, stage 3 also the
weights.

Activations (Korthikanti et al. 2022, arXiv:2205.05198 §4, Table 2): bytes
stored per transformer layer for a microbatch of ``b`` sequences of ``s``
tokens with tensor-parallel size ``t``::

    no recompute             s b h (10 + 24/t + 5 a s/(h t))
    + sequence parallelism   s b h/t (34 + 5 a s/h)
    selective recompute      s b h (10 + 24/t)          (s b h 34/t with SP)
    full recompute           2 s b h                    (2 s b h/t with SP)

The functions below split those terms so they generalise to grouped-query
attention (key/value width ``kv``), SwiGLU and models without dropout; with
``kv = h``, ``f = 4h``, GeLU and dropout they are exactly the formulas above.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from simulator.catalog.specs import ModelSpec

Array = NDArray[np.float64]

WEIGHT_BYTES = 2.0  # 16-bit weights (ZeRO §3)
GRADIENT_BYTES = 2.0  # 16-bit gradients (ZeRO §3)
OPTIMIZER_BYTES = 12.0  # K = 12: fp32 master weights, Adam momentum and variance (ZeRO §3)

RECOMPUTE_CODES = {"none": 0, "selective": 1, "full": 2}


def model_state_bytes(params_per_gpu: ArrayLike, data_parallel: ArrayLike, zero_stage: ArrayLike) -> tuple[Array, Array, Array]:
    """Weights, gradients and optimizer bytes per GPU for ``params_per_gpu`` parameters.

    ``data_parallel`` is the ZeRO sharding group size Nd; ``zero_stage`` is 0-3.
    (ZeRO Figure 1: 7.5e9 parameters on 64 GPUs give 120, 31.4, 16.6 and 1.9 GB.)
    """
    params = np.asarray(params_per_gpu, dtype=np.float64)
    nd = np.asarray(data_parallel, dtype=np.float64)
    stage = np.asarray(zero_stage)
    weights = WEIGHT_BYTES * params / np.where(stage >= 3, nd, 1.0)
    gradients = GRADIENT_BYTES * params / np.where(stage >= 2, nd, 1.0)
    optimizer = OPTIMIZER_BYTES * params / np.where(stage >= 1, nd, 1.0)
    return weights, gradients, optimizer


def _replicated_per_token(model: ModelSpec) -> float:
    """Per-token-per-hidden bytes that tensor parallelism alone does not split (the "10")."""
    # two norm inputs (4), QKV input (2), MLP input (2), two dropout masks (2 x 1)
    return 8.0 + (2.0 if model.dropout else 0.0)


def _sharded_per_token(model: ModelSpec) -> float:
    """Per-token bytes (in units of h) that tensor parallelism splits (the "24")."""
    h, kv, f = float(model.hidden), float(model.kv_hidden), float(model.ffn_hidden)
    # Q (2h), K and V (2 kv each), output-projection input (2h)
    attention = 2 * h + 4 * kv + 2 * h
    # GeLU: its input and output (2f + 2f); SwiGLU: gate, up, silu(gate), product (4 x 2f)
    mlp = (8 if model.mlp == "swiglu" else 4) * f
    return (attention + mlp) / h


def _score_coefficient(model: ModelSpec) -> float:
    """Bytes per attention-score element: softmax output 2, plus dropout mask 1 and output 2."""
    return 5.0 if model.dropout else 2.0


FLASH_STATS_BYTES = 4.0  # fp32 log-sum-exp per query and head that FlashAttention keeps (Dao 2023 Alg. 1)


def _core_attention_bytes(model: ModelSpec, b: Array, s: Array, t: Array, attention: str) -> Array:
    """What core attention stores: the ``5 a s^2 b / t`` score tensors, or (fused) only softmax stats."""
    if attention == "flash":
        return FLASH_STATS_BYTES * model.heads * s * b / t
    return _score_coefficient(model) * model.heads * s * s * b / t


def activation_bytes_per_layer(
    model: ModelSpec,
    *,
    microbatch: ArrayLike,
    seq_len: ArrayLike,
    tp: ArrayLike,
    sequence_parallel: ArrayLike,
    recompute: ArrayLike,
    attention: str = "unfused",
) -> Array:
    """Activation bytes one layer stores for one microbatch (Korthikanti et al. 2022 Table 2).

    ``seq_len`` is the sequence length each GPU holds (``s / cp`` under context
    parallelism); ``recompute`` is a code from ``RECOMPUTE_CODES`` (0 none,
    1 selective, 2 full). ``attention="flash"`` (fused kernel) stores no score
    tensors, only fp32 softmax statistics; ``"unfused"`` is the paper's setting.
    """
    b = np.asarray(microbatch, dtype=np.float64)
    s = np.asarray(seq_len, dtype=np.float64)
    t = np.asarray(tp, dtype=np.float64)
    sp = np.asarray(sequence_parallel, dtype=bool)
    mode = np.asarray(recompute)
    sbh = s * b * model.hidden
    replicated_split = np.where(sp, t, 1.0)
    replicated = sbh * _replicated_per_token(model) / replicated_split
    sharded = sbh * _sharded_per_token(model) / t
    scores = _core_attention_bytes(model, b, s, t, attention)
    none = replicated + sharded + scores
    selective = replicated + sharded
    full = 2.0 * sbh / replicated_split
    return np.where(mode == 0, none, np.where(mode == 1, selective, full))


def stage_params(model: ModelSpec, pp: ArrayLike) -> Array:
    """Parameters held by the largest pipeline stage (before tensor-parallel splitting).

    The first stage holds the embedding, the last the output layer (a tied
    embedding keeps a copy there, as Megatron-LM does); with one stage it holds both.
    """
    p = np.asarray(pp, dtype=np.float64)
    layers = model.layers / p * model.layer_params
    output = float(model.output_params)
    if model.tied_embeddings:
        output += model.vocab * model.hidden
    first = layers + model.embedding_params
    last = layers + output
    single = layers + model.embedding_params + model.output_params
    return np.where(p > 1, np.maximum(first, last), single)


def activation_bytes_per_gpu(
    model: ModelSpec,
    *,
    microbatch: ArrayLike,
    seq_len: ArrayLike,
    tp: ArrayLike,
    pp: ArrayLike,
    sequence_parallel: ArrayLike,
    recompute: ArrayLike,
    microbatches: ArrayLike,
    virtual_stages: ArrayLike = 1,
    attention: str = "unfused",
) -> Array:
    """Activation bytes on the first pipeline stage, the fullest under 1F1B.

    It holds ``min(p, m)`` microbatches of its ``L/p`` layers in flight
    (Korthikanti et al. 2022 §4.2.3: first stage total ``s b h L/t (34 + 5as/h)``
    with TP+SP), times ``1 + (p-1)/(p v)`` for the interleaved schedule with
    ``v`` model chunks per GPU. Added on top: the embedding dropout mask
    (``s b h`` per microbatch, §4.3); with one stage, the output layer (final
    norm and projection inputs ``4 s b h``, fp32 logits ``4 s b V / t``); and, under
    recomputation, the working set of the one layer being recomputed.
    """
    b = np.asarray(microbatch, dtype=np.float64)
    s = np.asarray(seq_len, dtype=np.float64)
    t = np.asarray(tp, dtype=np.float64)
    p = np.asarray(pp, dtype=np.float64)
    v = np.asarray(virtual_stages, dtype=np.float64)
    m = np.asarray(microbatches, dtype=np.float64)
    sp = np.asarray(sequence_parallel, dtype=bool)
    mode = np.asarray(recompute)
    def layer(recompute_code: ArrayLike) -> Array:
        return activation_bytes_per_layer(
            model, microbatch=b, seq_len=s, tp=t, sequence_parallel=sp, recompute=recompute_code,
            attention=attention,
        )

    per_layer = layer(mode)
    in_flight = np.minimum(p, m)
    interleave = np.where(v > 1, 1.0 + (p - 1) / (p * v), 1.0)
    layers = model.layers / p * in_flight * interleave * per_layer
    sbh = s * b * model.hidden
    replicated_split = np.where(sp, t, 1.0)
    embedding = (sbh / replicated_split * in_flight) if model.dropout else np.zeros_like(layers)
    output = np.where(p > 1, 0.0, 4.0 * sbh / replicated_split + 4.0 * s * b * model.vocab / t)
    # Recomputing a layer rebuilds what "none" (full) or the score terms (selective) would store.
    working = np.where(
        mode == 0,
        0.0,
        layer(np.zeros_like(mode)) - np.where(mode == 1, layer(np.ones_like(mode)), 0.0),
    )
    return layers + embedding + output + working


def zero3_buffer_bytes(model: ModelSpec, tp: ArrayLike, zero_stage: ArrayLike) -> Array:
    """Gathered 16-bit weights ZeRO-3 keeps live: the layer in use and the one prefetched."""
    layer = WEIGHT_BYTES * model.layer_params / np.asarray(tp, dtype=np.float64)
    return np.where(np.asarray(zero_stage) >= 3, 2.0 * layer, 0.0)
