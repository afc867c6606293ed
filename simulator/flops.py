"""Training FLOPs of a decoder-only transformer (matmuls only, per token).

Conventions (Narayanan et al. 2021, arXiv:2104.04473 §5.1, Appendix; Korthikanti
et al. 2022, arXiv:2205.05198 §6):

* A matmul of an (m x k) by a (k x n) matrix costs ``2 m k n`` FLOPs.
* Backward costs twice the forward (input and weight gradients), so one
  training pass is 3x the forward.
* Attention scores count the full ``s x s`` product (no causal halving), as
  both papers do.

Forward FLOPs per token of one layer (GQA and SwiGLU aware; ``kv`` is the
key/value width, ``f`` the FFN width)::

    2 h (h + 2 kv)   QKV projection
    2 s h            Q K^T scores
    2 s h            attention over values
    2 h^2            output projection
    4 h f            GeLU MLP (two matmuls), or 6 h f for SwiGLU (three)

With ``kv = h`` and ``f = 4h`` this is ``24 h^2 + 4 s h``, and with the logits
(``2 V h``) the model FLOPs per token ``3 (L (24 h^2 + 4 s h) + 2 V h)``
reproduce Korthikanti et al. §6: ``72 B L s h^2 (1 + s/(6h) + V/(12 h L))`` per
iteration of ``B s`` tokens.
"""

from __future__ import annotations

from typing import Literal

from simulator.catalog.specs import ModelSpec

Recompute = Literal["none", "selective", "full"]
RECOMPUTE_MODES: tuple[Recompute, ...] = ("none", "selective", "full")


def attention_score_flops_per_token(model: ModelSpec, seq_len: int | None = None) -> float:
    """Forward FLOPs per token per layer of Q K^T and attention-over-values: ``4 s h``."""
    s = model.seq_len if seq_len is None else seq_len
    return 4.0 * s * model.hidden


def layer_forward_flops_per_token(model: ModelSpec, seq_len: int | None = None) -> float:
    """Forward matmul FLOPs per token of one transformer layer (see module docstring)."""
    h, kv, f = float(model.hidden), float(model.kv_hidden), float(model.ffn_hidden)
    projections = 2 * h * (h + 2 * kv) + 2 * h * h
    mlp = (6 if model.mlp == "swiglu" else 4) * h * f
    return projections + attention_score_flops_per_token(model, seq_len) + mlp


def logits_forward_flops_per_token(model: ModelSpec) -> float:
    """Forward FLOPs per token of the output projection to the vocabulary: ``2 V h``."""
    return 2.0 * model.vocab * model.hidden


def model_flops_per_token(model: ModelSpec, seq_len: int | None = None) -> float:
    """Model FLOPs per trained token, forward + backward, no recomputation (as MFU counts)."""
    forward = model.layers * layer_forward_flops_per_token(model, seq_len)
    return 3.0 * (forward + logits_forward_flops_per_token(model))


def recompute_flops_per_token(model: ModelSpec, recompute: Recompute, seq_len: int | None = None) -> float:
    """Extra FLOPs per token that activation recomputation adds.

    * ``full``: one more forward of every layer (Narayanan et al. 2021 §5.1: the
      ``96 B s l h^2`` formula counts four passes instead of three).
    * ``selective``: the attention-score part counted again, following the hardware
      FLOPs convention of Korthikanti et al. 2022 §6, which replaces ``s/(6h)`` by
      ``s/(3h)`` (this reproduces their Table 5 HFU/MFU ratios).
    * ``none``: zero.
    """
    if recompute == "full":
        return model.layers * layer_forward_flops_per_token(model, seq_len)
    if recompute == "selective":
        return 3.0 * model.layers * attention_score_flops_per_token(model, seq_len)
    return 0.0


def hardware_flops_per_token(model: ModelSpec, recompute: Recompute, seq_len: int | None = None) -> float:
    """FLOPs per token the hardware executes: model FLOPs plus recomputation (as HFU counts)."""
    return model_flops_per_token(model, seq_len) + recompute_flops_per_token(model, recompute, seq_len)


def six_nd_flops(params: float, tokens: float) -> float:
    """The ``6 N D`` training-compute approximation (Kaplan et al. 2020, arXiv:2001.08361 §2.1)."""
    return 6.0 * params * tokens
