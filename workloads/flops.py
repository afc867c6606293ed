"""Analytic FLOP formulas and the FlopCounterMode cross-check.

Conventions (the same for every workload, see docs/workloads.md):

- A multiply-accumulate is 2 FLOPs (Kaplan et al. 2020, arXiv:2001.08361, §2.1).
- Only matmuls, convolutions and the two attention matmuls (Q·Kᵀ and P·V) are
  counted. Elementwise work (activations, normalisation, softmax, losses, bias
  adds, the optimizer step, embedding look-ups) is excluded, because
  ``torch.utils.flop_counter.FlopCounterMode`` excludes it too.
- Backward costs 2x forward for a matmul or convolution (one product for the
  gradient of the input, one for the gradient of the weight; Kaplan et al.
  2020 §2.1), so a training step is 3x forward. The exception is a layer whose
  input is the data (the first convolution of an image network, the first
  linear layer of an MLP): autograd computes no input gradient there, so its
  backward is 1x forward and its step 2x forward.
- Causal attention is counted over the full s x s score matrix, as in
  Korthikanti et al. 2022 (arXiv:2205.05198) §5 and as the kernels compute it.

Attention and FlopCounterMode: the counter has formulas for the CUDA
flash/efficient/cuDNN ``scaled_dot_product_attention`` kernels and sees the
``bmm`` ops of the math fallback (used e.g. on the ``meta`` device), but it has
no formula for the fused CPU kernel (``_scaled_dot_product_flash_attention_for_cpu``
in torch 2.1-2.13), which it therefore counts as 0. :class:`CountedFlops`
splits the count into dense and attention parts and says whether attention was
seen, so a comparison can use the analytic total without attention exactly
when (and visibly because) the counter did not see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Ops the counter reports for attention: the fused SDPA kernels (CUDA) and the
# batched matmuls of the math fallback. No workload here uses bmm elsewhere
# (linear layers lower to mm/addmm), so bmm is attributed to attention.
_ATTENTION_OP_PREFIXES = ("aten._scaled_dot_product", "aten._efficient_attention", "aten._flash_attention")
_ATTENTION_BMM_OPS = ("aten.bmm", "aten.baddbmm")

FORWARD_AND_BACKWARD = 3  # step FLOPs / forward FLOPs for a layer whose input needs a gradient
FORWARD_AND_WEIGHT_GRAD = 2  # the same for a layer fed by the data (no input gradient)


def matmul_flops(m: int, n: int, k: int) -> int:
    """FLOPs of an (m x k) @ (k x n) product: 2 m n k (one MAC = 2 FLOPs)."""
    return 2 * m * n * k


def conv2d_flops(*, batch: int, in_channels: int, out_channels: int, kernel: int, out_h: int, out_w: int) -> int:
    """FLOPs of a dense 2-D convolution: 2 x (output elements) x (in_channels x kernel²) MACs."""
    return 2 * batch * out_channels * out_h * out_w * in_channels * kernel * kernel


def attention_flops(*, batch: int, heads: int, q_len: int, kv_len: int, head_dim: int) -> int:
    """Forward FLOPs of softmax(Q Kᵀ) V: two batched products of 2·b·a·s_q·s_kv·d each.

    Korthikanti et al. 2022 (arXiv:2205.05198) §5: 4·b·s²·h per layer for
    s_q = s_kv = s and h = a·d. Causal masks are not discounted.
    """
    return 2 * matmul_flops(q_len, kv_len, head_dim) * batch * heads


@dataclass(frozen=True, kw_only=True, slots=True)
class AnalyticFlops:
    """Analytic FLOPs of one training step (forward + backward), split by kind. Units: FLOP."""

    dense_flops: float  # matmuls and convolutions, forward + backward
    attention_flops: float  # the Q·Kᵀ and P·V products, forward + backward

    @property
    def total_flops(self) -> float:
        return self.dense_flops + self.attention_flops


@dataclass(frozen=True, kw_only=True, slots=True)
class CountedFlops:
    """What FlopCounterMode counted for one forward + backward. Units: FLOP."""

    total_flops: float  # everything the counter reported
    attention_flops: float  # the part from SDPA kernels or their bmm fallback
    by_op: dict[str, int]  # counter totals per aten op

    @property
    def dense_flops(self) -> float:
        return self.total_flops - self.attention_flops

    @property
    def attention_counted(self) -> bool:
        """False when the counter saw no attention op (e.g. the fused CPU SDPA kernel)."""
        return self.attention_flops > 0

    def note(self, analytic: AnalyticFlops) -> str | None:
        """A one-line explanation when the count cannot match the analytic total, else None."""
        if analytic.attention_flops > 0 and not self.attention_counted:
            return (
                "FlopCounterMode counted attention as 0 (no formula for this device's fused "
                "scaled_dot_product_attention kernel); counted vs analytic without attention: "
                f"{self.relative_error(analytic):+.1%}"
            )
        return None

    def relative_error(self, analytic: AnalyticFlops) -> float:
        """(counted - expected) / expected, where expected drops attention the counter did not see."""
        expected = analytic.total_flops if self.attention_counted else analytic.dense_flops
        return (self.total_flops - expected) / expected


def count_flops(run: Callable[[], object]) -> CountedFlops:
    """Run ``run()`` (a forward + backward) under FlopCounterMode and split the count."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        run()
    by_op = {str(op): int(n) for op, n in counter.get_flop_counts().get("Global", {}).items()}
    attention = sum(
        n
        for op, n in by_op.items()
        if op.startswith(_ATTENTION_OP_PREFIXES) or op in _ATTENTION_BMM_OPS
    )
    return CountedFlops(total_flops=float(counter.get_total_flops()), attention_flops=float(attention), by_op=by_op)
