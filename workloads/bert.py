"""``bert``: an encoder-only transformer trained with the masked-LM objective.

BERT's layout (Devlin et al. 2019, arXiv:1810.04805): learned token and position
embeddings with a LayerNorm, post-LayerNorm layers with bidirectional attention
through ``scaled_dot_product_attention`` and an exact-GELU MLP of 4h, and the
masked-LM head (dense h x h, GELU, LayerNorm, output layer tied to the token
embedding with its own bias). As in RoBERTa (Liu et al. 2019,
arXiv:1907.11692) there is no next-sentence task, pooler or segment embedding.

Masking (Devlin et al. 2019 §3.1): 15% of the positions of each sequence are
chosen; of those, 80% become [MASK], 10% a random token and 10% stay. The
number chosen is fixed per sequence, round(0.15·s), like the reference
implementation's ``max_predictions_per_seq``, so shapes (and FLOPs) are static;
the head runs only on the chosen positions. The last id of the vocabulary is
[MASK]. Optimizer: AdamW, β = (0.9, 0.999), weight decay 0.01 (Devlin et al.
2019 §A.2).

Parameters: V·h + s·h + 2h + l·(12h² + 13h) + (h² + h) + 2h + V.
FLOPs per step: 3 x [l·(24·b·s·h² + 4·b·s²·h) + 2·b·m·h² + 2·b·m·h·V], m = masked positions.
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

MASK_FRACTION = 0.15  # Devlin et al. 2019 §3.1
MASK_TOKEN_SHARE = 0.8  # of the chosen positions: [MASK]
RANDOM_TOKEN_SHARE = 0.1  # of the chosen positions: a random token (the other 10% stay)
BERT_VOCAB = 30522  # BERT's WordPiece vocabulary (Devlin et al. 2019 §3)

PRESETS: dict[str, TransformerShape] = {
    "tiny": TransformerShape(vocab_size=256, seq_len=32, layers=2, hidden=64, heads=4, batch_size=8, lr=3e-3),
    "small": TransformerShape(vocab_size=8192, seq_len=128, layers=4, hidden=256, heads=4, batch_size=32, lr=1e-3),
    # BERT-base and BERT-large shapes (Devlin et al. 2019 §3) at their 512-token phase.
    "medium": TransformerShape(vocab_size=BERT_VOCAB, seq_len=512, layers=12, hidden=768, heads=12, batch_size=16, lr=1e-4),
    "large": TransformerShape(vocab_size=BERT_VOCAB, seq_len=512, layers=24, hidden=1024, heads=16, batch_size=16, lr=1e-4),
}


def masked_positions(seq_len: int) -> int:
    """Positions predicted per sequence: round(0.15 · s), at least 1."""
    return max(1, round(MASK_FRACTION * seq_len))


class BertMlmModel(nn.Module):
    """The encoder and MLM head; ``forward(inputs, positions, targets)`` returns the MLM loss."""

    def __init__(self, shape: TransformerShape) -> None:
        super().__init__()
        h = shape.hidden
        self.tokens = nn.Embedding(shape.vocab_size, h)
        self.positions = nn.Embedding(shape.seq_len, h)
        self.embed_norm = nn.LayerNorm(h)
        self.layers = nn.ModuleList(
            Layer(h, shape.heads, causal=False, pre_norm=False, gelu="none") for _ in range(shape.layers)
        )
        self.head_dense = nn.Linear(h, h)
        self.head_act = nn.GELU()
        self.head_norm = nn.LayerNorm(h)
        self.head_bias = nn.Parameter(torch.zeros(shape.vocab_size))
        init_weights(self)

    def forward(self, inputs: torch.Tensor, positions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        seq = torch.arange(inputs.shape[1], device=inputs.device)
        x = self.embed_norm(self.tokens(inputs) + self.positions(seq))
        for layer in self.layers:
            x = layer(x)
        chosen = x.gather(1, positions.unsqueeze(-1).expand(-1, -1, x.shape[-1]))  # (b, m, h)
        y = self.head_norm(self.head_act(self.head_dense(chosen)))
        logits = F.linear(y, self.tokens.weight, self.head_bias)  # tied output layer
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


class BertWorkload(TorchWorkload):
    name = "bert"
    kind = "token"

    def __init__(self, config: WorkloadConfig) -> None:
        self.shape = PRESETS[config.size]
        self.masked = masked_positions(self.shape.seq_len)
        super().__init__(config, default_batch_size=self.shape.batch_size)

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.shape.seq_len

    def build_model(self) -> nn.Module:
        return BertMlmModel(self.shape)

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.AdamW(model.parameters(), lr=self.shape.lr, betas=(0.9, 0.999), weight_decay=0.01)

    def synthetic_batch(self, gen: torch.Generator) -> Batch:
        s, b, device = self.shape, self.batch_size, self.config.device
        mask_id = s.vocab_size - 1
        tokens = copy_structured_tokens(gen, batch=b, length=s.seq_len, vocab=s.vocab_size - 1, device=device)
        positions = torch.rand(b, s.seq_len, generator=gen, device=device).topk(self.masked, dim=1).indices
        targets = tokens.gather(1, positions)
        roll = torch.rand(b, self.masked, generator=gen, device=device)
        random_ids = torch.floor(torch.rand(b, self.masked, generator=gen, device=device) * (s.vocab_size - 1)).long()
        replaced = torch.where(roll < MASK_TOKEN_SHARE, torch.full_like(targets, mask_id), targets)
        replaced = torch.where(
            (roll >= MASK_TOKEN_SHARE) & (roll < MASK_TOKEN_SHARE + RANDOM_TOKEN_SHARE), random_ids, replaced
        )
        return tokens.scatter(1, positions, replaced), positions, targets

    def analytic_flops(self) -> AnalyticFlops:
        s, b, m = self.shape, self.batch_size, self.masked
        dense, attention = layer_forward_flops(batch=b, seq=s.seq_len, hidden=s.hidden, heads=s.heads)
        head = matmul_flops(b * m, s.hidden, s.hidden) + matmul_flops(b * m, s.vocab_size, s.hidden)
        return AnalyticFlops(
            dense_flops=float(FORWARD_AND_BACKWARD * (s.layers * dense + head)),
            attention_flops=float(FORWARD_AND_BACKWARD * s.layers * attention),
        )
