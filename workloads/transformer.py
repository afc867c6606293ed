"""Transformer layers shared by ``gpt`` (pre-LayerNorm, causal) and ``bert`` (post-LayerNorm).

One layer is multi-head self-attention (fused QKV projection, attention through
``torch.nn.functional.scaled_dot_product_attention``, output projection) and a
GELU MLP of width 4h, each with a residual connection (Vaswani et al. 2017,
arXiv:1706.03762, §3). No dropout: these are throughput workloads.

Per layer: 12h² + 13h parameters (QKV 3h²+3h, output h²+h, MLP 8h²+5h, two
LayerNorms 4h; Narayanan et al. 2021, arXiv:2104.04473, §5.1), and forward
24·b·s·h² + 4·b·s²·h FLOPs (Korthikanti et al. 2022, arXiv:2205.05198, §5).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from workloads.flops import attention_flops, matmul_flops

INIT_STD = 0.02  # normal init of weights and embeddings (GPT-2, Radford et al. 2019; BERT §A.2)


@dataclass(frozen=True, kw_only=True, slots=True)
class TransformerShape:
    """The shape of a transformer language model."""

    vocab_size: int  # token ids in [0, vocab_size)
    seq_len: int  # tokens per sequence (also the number of learned positions)
    layers: int  # transformer layers
    hidden: int  # model width h
    heads: int  # attention heads a; head size h / a
    batch_size: int  # default sequences per step
    lr: float  # AdamW learning rate

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


def layer_params(hidden: int) -> int:
    """Trainable parameters of one layer: 12h² + 13h (Narayanan et al. 2021 §5.1)."""
    return 12 * hidden * hidden + 13 * hidden


def layer_forward_flops(*, batch: int, seq: int, hidden: int, heads: int) -> tuple[int, int]:
    """Forward FLOPs of one layer as (dense, attention): 24·b·s·h² and 4·b·s²·h."""
    tokens = batch * seq
    dense = (
        matmul_flops(tokens, 3 * hidden, hidden)  # QKV projection
        + matmul_flops(tokens, hidden, hidden)  # output projection
        + matmul_flops(tokens, 4 * hidden, hidden)  # MLP up
        + matmul_flops(tokens, hidden, 4 * hidden)  # MLP down
    )
    attention = attention_flops(batch=batch, heads=heads, q_len=seq, kv_len=seq, head_dim=hidden // heads)
    return dense, attention


class SelfAttention(nn.Module):
    """Multi-head self-attention through the fused SDPA kernel."""

    def __init__(self, hidden: int, heads: int, *, causal: bool) -> None:
        super().__init__()
        self.heads = heads
        self.causal = causal
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, h = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.heads, h // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        return self.out(y.transpose(1, 2).reshape(b, s, h))


class Mlp(nn.Module):
    """Linear h -> 4h, GELU, linear 4h -> h."""

    def __init__(self, hidden: int, *, gelu: str) -> None:
        super().__init__()
        self.up = nn.Linear(hidden, 4 * hidden)
        self.act = nn.GELU(approximate=gelu)
        self.down = nn.Linear(4 * hidden, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(self.act(self.up(x)))


class Layer(nn.Module):
    """One transformer layer; ``pre_norm`` selects GPT-2's order, else BERT's post-norm."""

    def __init__(self, hidden: int, heads: int, *, causal: bool, pre_norm: bool, gelu: str) -> None:
        super().__init__()
        self.pre_norm = pre_norm
        self.norm1 = nn.LayerNorm(hidden)
        self.attn = SelfAttention(hidden, heads, causal=causal)
        self.norm2 = nn.LayerNorm(hidden)
        self.mlp = Mlp(hidden, gelu=gelu)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pre_norm:
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.mlp(x))


def init_weights(module: nn.Module) -> None:
    """Normal(0, 0.02) weights and embeddings, zero biases, unit LayerNorm (GPT-2 / BERT)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=INIT_STD)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=INIT_STD)
