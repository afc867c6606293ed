"""Op-level roofline of one transformer layer on one GPU (vectorised over layouts).

Each operator is timed against the two ceilings of the hardware (Williams et al.
2009, "Roofline", CACM 52(4)): ``time = max(FLOPs / (peak * e_mm), bytes / (bw * e_mem))``.
The achievable fractions come from the hardware spec (``EfficiencySpec``) and,
for matmuls, from the shape: each GEMM dimension ``d`` scales the large-GEMM
fraction by ``d / (d + d_half)``, so thin GEMMs (a 96-wide attention head, a
microbatch of one short sequence) run further below peak than square ones. This
is a smooth stand-in for tile and wave quantisation (NVIDIA, "Matrix
Multiplication Background User's Guide", Deep Learning Performance docs).

The operators of one layer, per GPU, for ``T = b s`` tokens and tensor-parallel
size ``t`` follow Megatron-LM (Shoeybi et al. 2019 §3; Korthikanti et al. 2022
§3): QKV projection, scores, softmax, dropout, attention over values, output
projection, bias-dropout-add, two norms, MLP up, activation, MLP down,
bias-dropout-add. With ``attention="flash"`` the scores, softmax, dropout and
attention over values run as one fused kernel (Dao 2023, "FlashAttention-2",
arXiv:2307.08691): no ``s x s`` tensor touches HBM, the causal mask lets it
skip half of the score blocks (§3.1.1), and its backward runs five GEMMs to
the forward's two (Algorithm 2), i.e. 2.5x the forward work. Backward GEMMs are the input-gradient GEMM ``(m, k, n)`` and
the weight-gradient GEMM ``(k, n, m)`` of each forward ``(m, n, k)``;
element-wise backward moves twice the forward bytes (reads the saved input and
the output gradient, writes the input gradient).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from simulator.catalog.specs import HardwareSpec, ModelSpec

Array = NDArray[np.float64]

Attention = Literal["flash", "unfused"]
ATTENTION_KINDS: tuple[Attention, ...] = ("flash", "unfused")
FLASH_CAUSAL_FRACTION = 0.5  # causal FlashAttention skips masked blocks (Dao 2023 §3.1.1)
FLASH_BACKWARD_RATIO = 2.5  # five backward GEMMs over two forward ones (Dao 2023 Algorithm 2)
BACKWARD_ELEMENTWISE_FACTOR = 2.0  # backward pointwise traffic over forward (see module docstring)
CROSS_ENTROPY_BYTES_PER_LOGIT = 16.0  # fp32 cast, max, exp-sum, loss: ~4 passes of 4 bytes (assumption)


@dataclass(frozen=True, kw_only=True, slots=True)
class LayerTimes:
    """Seconds per microbatch on one GPU (compute only; collectives are timed elsewhere)."""

    forward_s: Array  # one layer, forward
    backward_s: Array  # one layer, input and weight gradients
    core_attention_forward_s: Array  # scores, softmax, dropout, attention over values
    logits_forward_s: Array  # final norm, output projection and cross-entropy
    logits_backward_s: Array

    def recompute_s(self, recompute: ArrayLike) -> Array:
        """Extra forward work per layer: the whole layer (full) or core attention (selective)."""
        mode = np.asarray(recompute)
        return np.where(mode == 2, self.forward_s, np.where(mode == 1, self.core_attention_forward_s, 0.0))


def matmul_efficiency(hardware: HardwareSpec, m: ArrayLike, n: ArrayLike, k: ArrayLike) -> Array:
    """Achievable fraction of peak for an (m x k) @ (k x n) GEMM (see module docstring)."""
    eff = hardware.efficiency
    d0 = eff.matmul_half_dim
    shape: Array = np.ones(())
    for dim in (m, n, k):
        d = np.asarray(dim, dtype=np.float64)
        shape = shape * d / (d + d0)
    return np.asarray(eff.matmul_peak_fraction * shape, dtype=np.float64)


def gemm_s(hardware: HardwareSpec, m: ArrayLike, n: ArrayLike, k: ArrayLike, count: ArrayLike = 1.0, dtype: str = "bf16") -> Array:
    """Seconds for ``count`` GEMMs of (m x k) @ (k x n) in 16-bit: the slower of the two ceilings."""
    mf, nf, kf = (np.asarray(x, dtype=np.float64) for x in (m, n, k))
    flops = 2.0 * mf * nf * kf
    moved = 2.0 * (mf * kf + kf * nf + mf * nf)
    compute = flops / (hardware.peak(dtype) * matmul_efficiency(hardware, mf, nf, kf))
    memory = moved / (hardware.hbm_bytes_per_s * hardware.efficiency.memory_fraction)
    return np.asarray(count, dtype=np.float64) * np.maximum(compute, memory)


def gemm_fwd_bwd_s(hardware: HardwareSpec, m: ArrayLike, n: ArrayLike, k: ArrayLike, count: ArrayLike = 1.0) -> tuple[Array, Array]:
    """Forward GEMM seconds and its backward (input gradient + weight gradient) seconds."""
    forward = gemm_s(hardware, m, n, k, count)
    backward = gemm_s(hardware, m, k, n, count) + gemm_s(hardware, k, n, m, count)
    return forward, backward


def memory_bound_s(hardware: HardwareSpec, moved_bytes: ArrayLike) -> Array:
    """Seconds to stream ``moved_bytes`` through HBM at the achievable fraction of its bandwidth."""
    rate = hardware.hbm_bytes_per_s * hardware.efficiency.memory_fraction
    return np.asarray(moved_bytes, dtype=np.float64) / rate


def layer_times(
    model: ModelSpec,
    hardware: HardwareSpec,
    *,
    microbatch: ArrayLike,
    seq_len: ArrayLike,
    kv_seq_len: ArrayLike,
    tp: ArrayLike,
    sequence_parallel: ArrayLike,
    attention: Attention = "unfused",
) -> LayerTimes:
    """Per-layer forward/backward seconds of one microbatch on one GPU.

    ``seq_len`` is the query length each GPU holds (``s / cp``); ``kv_seq_len`` the
    key length its queries attend to over a step (``s``, also under context parallelism).
    ``attention`` is ``"unfused"`` (Megatron-LM as Korthikanti et al. 2022 ran it) or
    ``"flash"`` (fused FlashAttention-2, see the module docstring).
    """
    b = np.asarray(microbatch, dtype=np.float64)
    s = np.asarray(seq_len, dtype=np.float64)
    skv = np.asarray(kv_seq_len, dtype=np.float64)
    t = np.asarray(tp, dtype=np.float64)
    sp = np.asarray(sequence_parallel, dtype=bool)
    h, kv, f, d = float(model.hidden), float(model.kv_hidden), float(model.ffn_hidden), float(model.head_dim)
    tokens = b * s
    tokens_sp = tokens / np.where(sp, t, 1.0)  # tokens per GPU in the replicated (or SP-split) region
    heads_local = model.heads / t
    mlp_up_width = (2.0 if model.mlp == "swiglu" else 1.0) * f

    gemms = [
        gemm_fwd_bwd_s(hardware, tokens, (h + 2 * kv) / t, h),  # QKV projection
        gemm_fwd_bwd_s(hardware, tokens, h, h / t),  # output projection
        gemm_fwd_bwd_s(hardware, tokens, mlp_up_width / t, h),  # MLP up (and gate)
        gemm_fwd_bwd_s(hardware, tokens, h, f / t),  # MLP down
    ]
    if attention == "flash":
        pairs = b * heads_local * FLASH_CAUSAL_FRACTION
        flops = 2.0 * s * skv * d * pairs
        flash = flops / (hardware.peak() * matmul_efficiency(hardware, s, skv, d)) + flops / (
            hardware.peak() * matmul_efficiency(hardware, s, d, skv)
        )
        io_bytes = 2.0 * tokens * (2 * h + 2 * kv) / t  # read Q, K, V; write O
        core_forward = flash + memory_bound_s(hardware, io_bytes)
        core_backward = FLASH_BACKWARD_RATIO * flash + memory_bound_s(hardware, 2 * io_bytes)
    else:
        scores = gemm_fwd_bwd_s(hardware, s, skv, d, b * heads_local)  # Q K^T per head
        context = gemm_fwd_bwd_s(hardware, s, d, skv, b * heads_local)  # probabilities @ V per head
        score_elements = b * heads_local * s * skv
        softmax_bytes = (4.0 + (5.0 if model.dropout else 0.0)) * score_elements
        core_forward = scores[0] + context[0] + memory_bound_s(hardware, softmax_bytes)
        core_backward = (
            scores[1] + context[1] + memory_bound_s(hardware, BACKWARD_ELEMENTWISE_FACTOR * softmax_bytes)
        )
    residual_bytes = (7.0 if model.dropout else 6.0) * tokens_sp * h  # bias-dropout-add (or add)
    rope_bytes = 4.0 * tokens * (h + kv) / t if model.position_embedding == "rope" else 0.0
    activation_bytes = (6.0 if model.mlp == "swiglu" else 4.0) * tokens * f / t
    rest_bytes = 2 * 4.0 * tokens_sp * h + 2 * residual_bytes + rope_bytes + activation_bytes

    forward = sum((g[0] for g in gemms), core_forward) + memory_bound_s(hardware, rest_bytes)
    backward = sum((g[1] for g in gemms), core_backward) + memory_bound_s(
        hardware, BACKWARD_ELEMENTWISE_FACTOR * rest_bytes
    )

    vocab_local = model.vocab / t
    logits_gemm = gemm_fwd_bwd_s(hardware, tokens, vocab_local, h)
    loss_bytes = CROSS_ENTROPY_BYTES_PER_LOGIT * tokens * vocab_local
    norm_bytes = 4.0 * tokens_sp * h
    logits_forward = logits_gemm[0] + memory_bound_s(hardware, loss_bytes + norm_bytes)
    logits_backward = logits_gemm[1] + memory_bound_s(
        hardware, BACKWARD_ELEMENTWISE_FACTOR * norm_bytes + loss_bytes / 2
    )
    return LayerTimes(
        forward_s=np.asarray(forward, dtype=np.float64),
        backward_s=np.asarray(backward, dtype=np.float64),
        core_attention_forward_s=np.asarray(core_forward, dtype=np.float64),
        logits_forward_s=np.asarray(logits_forward, dtype=np.float64),
        logits_backward_s=np.asarray(logits_backward, dtype=np.float64),
    )
