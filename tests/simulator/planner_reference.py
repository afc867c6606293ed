"""Published figures the planner tests check against, each with its source (copied into the project).

Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models",
arXiv:2205.05198: Table 3 (configurations; s = 2048, V = 51200, A100 80GB) and Table 5
(iteration times in seconds: full recompute vs sequence parallelism + selective recompute,
and the MFU/HFU of the latter).
"""

from __future__ import annotations

from simulator.catalog.specs import ModelSpec

SEQ_LEN = 2048
VOCAB = 51200

# name: (heads, hidden, layers, tp, pp, gpus, global_batch, micro_batch)
TABLE3 = {
    "22B": (64, 6144, 48, 8, 1, 8, 4, 4),
    "175B": (96, 12288, 96, 8, 8, 64, 64, 1),
    "530B": (128, 20480, 105, 8, 35, 280, 280, 1),
    "1T": (160, 25600, 128, 8, 64, 512, 512, 1),
}

# name: (full_recompute_s, seq_par_selective_s, mfu, hfu)
TABLE5 = {
    "22B": (1.42, 1.10, 0.415, 0.437),
    "175B": (18.13, 13.75, 0.514, 0.528),
    "530B": (49.05, 37.83, 0.560, 0.570),
    "1T": (94.42, 71.49, 0.563, 0.570),
}

# Korthikanti et al. 2022 Table 4: one 22B layer (A100), milliseconds.
TABLE4_22B_MS = {
    "baseline_fwd": 7.7,
    "baseline_bwd": 11.9,
    "full_recompute_total": 27.2,
    "selective_total": 20.9,
    "selective_plus_sp_total": 20.3,
}


def table3_model(name: str) -> ModelSpec:
    """The Table 3 configuration as a GPT-style model (GeLU, 4h FFN, dropout, tied embeddings)."""
    heads, hidden, layers, *_ = TABLE3[name]
    return ModelSpec(
        name=f"korthikanti-{name}", layers=layers, hidden=hidden, heads=heads, vocab=VOCAB,
        seq_len=SEQ_LEN, mlp="gelu", tied_embeddings=True,
    )

# Llama Team 2024, "The Llama 3 Herd of Models", arXiv:2407.21783, Table 4 (Llama 3 405B
# pre-training on H100, BF16, sequence 8192, TP 8, CP 1, PP 16, 16M tokens per batch):
# gpus: (dp, sequences per data-parallel group, TFLOP/s per GPU, BF16 MFU).
LLAMA3_TABLE4 = {
    8192: (64, 32, 430e12, 0.43),
    16384: (128, 16, 400e12, 0.41),
}
LLAMA3_TABLE4_LAYOUT = {"tp": 8, "cp": 1, "pp": 16, "seq_len": 8192, "batch_tokens": 16 * 2**20}
# §3.3.2 (pipeline parallelism): the first and last stages each hold one layer fewer (126 layers
# on 16 stages), and with its memory optimisations Llama 3 trained on 8K sequences without
# activation checkpointing.
