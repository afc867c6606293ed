"""``gpt``: a decoder-only transformer language model (GPT-2 layout) trained on next-token loss.

Learned token and position embeddings, pre-LayerNorm layers with causal
attention through ``scaled_dot_product_attention`` and a GELU (tanh) MLP of 4h,
a final LayerNorm, and an output layer tied to the token embedding (Radford et
al. 2019, "Language Models are Unsupervised Multitask Learners", §2.3). AdamW
with β = (0.9, 0.95) and weight decay 0.1 (Brown et al. 2020, arXiv:2005.14165,
Appendix B). Synthetic tokens: ``workloads.synthetic.copy_structured_tokens``.

Parameters: V·h + s·h + l·(12h² + 13h) + 2h, i.e. Narayanan et al. 2021
(arXiv:2104.04473) §5.1's 12·l·h²·(1 + 13/(12h) + (V+s)/(12·l·h)) plus the
final LayerNorm. FLOPs per step: 72·B·l·s·h²·(1 + s/(6h) + V/(12·h·l)),
Korthikanti et al. 2022 (arXiv:2205.05198) §5 (no recomputation).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from workloads.base import WorkloadConfig
from workloads.flops import FORWARD_AND_BACKWARD, AnalyticFlops, matmul_flops
from workloads.synthetic import copy_structured_tokens
from workloads.training import Batch, TorchWorkload
from workloads.transformer import Layer, TransformerShape, init_weights, layer_forward_flops

GPT_VOCAB = 50304  # GPT-2's 50257 tokens padded to a multiple of 64 (as nanoGPT does)

PRESETS: dict[str, TransformerShape] = {
    "tiny": TransformerShape(vocab_size=256, seq_len=32, layers=2, hidden=64, heads=4, batch_size=8, lr=3e-3),
    "small": TransformerShape(vocab_size=8192, seq_len=256, layers=4, hidden=256, heads=4, batch_size=16, lr=1e-3),
    # GPT-2 small (124M) and GPT-2 medium (350M) shapes, Radford et al. 2019 Table 2.
    "medium": TransformerShape(vocab_size=GPT_VOCAB, seq_len=1024, layers=12, hidden=768, heads=12, batch_size=8, lr=6e-4),
    "large": TransformerShape(vocab_size=GPT_VOCAB, seq_len=1024, layers=24, hidden=1024, heads=16, batch_size=8, lr=3e-4),
}


class GptModel(nn.Module):
    """The language model; ``forward(tokens, targets)`` returns the mean next-token cross-entropy."""

    def __init__(self, shape: TransformerShape) -> None:
        super().__init__()
        self.shape = shape
        self.tokens = nn.Embedding(shape.vocab_size, shape.hidden)
        self.positions = nn.Embedding(shape.seq_len, shape.hidden)
        self.layers = nn.ModuleList(
            Layer(shape.hidden, shape.heads, causal=True, pre_norm=True, gelu="tanh") for _ in range(shape.layers)
        )
        self.norm = nn.LayerNorm(shape.hidden)
        init_weights(self)

    def forward(self, tokens: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.tokens(tokens) + self.positions(positions)
        for layer in self.layers:
            x = layer(x)
        logits = F.linear(self.norm(x), self.tokens.weight)  # tied output layer
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


class GptWorkload(TorchWorkload):
    name = "gpt"
    kind = "token"

    def __init__(self, config: WorkloadConfig) -> None:
        self.shape = PRESETS[config.size]
        super().__init__(config, default_batch_size=self.shape.batch_size)

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.shape.seq_len

    def build_model(self) -> nn.Module:
        return GptModel(self.shape)

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.AdamW(model.parameters(), lr=self.shape.lr, betas=(0.9, 0.95), weight_decay=0.1)

    def synthetic_batch(self, gen: torch.Generator) -> Batch:
        s = self.shape
        ids = copy_structured_tokens(
            gen, batch=self.batch_size, length=s.seq_len + 1, vocab=s.vocab_size, device=self.config.device
        )
        return ids[:, :-1], ids[:, 1:]

    def analytic_flops(self) -> AnalyticFlops:
        s, b = self.shape, self.batch_size
        dense, attention = layer_forward_flops(batch=b, seq=s.seq_len, hidden=s.hidden, heads=s.heads)
        head = matmul_flops(b * s.seq_len, s.vocab_size, s.hidden)  # tied output layer
        return AnalyticFlops(
            dense_flops=float(FORWARD_AND_BACKWARD * (s.layers * dense + head)),
            attention_flops=float(FORWARD_AND_BACKWARD * s.layers * attention),
        )
