"""Plain data objects for models, accelerators and networks (pydantic, ``extra="forbid"``).

A :class:`HardwareSpec` is deliberately plain data: a measured hardware profile
(a later issue) replaces a catalog entry by building the same object. Every
figure carries its source in ``sources`` (field name -> citation) and figures
read only from a secondary source are listed in ``unverified``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dcbench.errors import ConfigError

MlpKind = Literal["gelu", "swiglu"]
NormKind = Literal["layernorm", "rmsnorm"]
PositionKind = Literal["learned", "rope"]

# SwiGLU FFN width rule of the Llama reference implementation: 2/3 of 4h, rounded
# up to a multiple of 256 (Touvron et al. 2023, arXiv:2302.13971 §2 "2/3 4d";
# `multiple_of=256` in the released model code). Gives 11008 for h=4096.
SWIGLU_MULTIPLE_OF = 256


def swiglu_default_ffn(hidden: int) -> int:
    """Published SwiGLU FFN width for ``hidden``: 256 * ceil((8h/3) / 256)."""
    return SWIGLU_MULTIPLE_OF * math.ceil((8 * hidden / 3) / SWIGLU_MULTIPLE_OF)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Frozen):
    """A decoder-only transformer architecture (sizes are counts, not bytes).

    Defaults for the optional fields follow the GPT family when ``mlp`` is
    ``gelu`` (biases, LayerNorm, learned positions, dropout, FFN 4h) and the
    Llama family when it is ``swiglu`` (no biases, RMSNorm, RoPE, no dropout,
    FFN by :func:`swiglu_default_ffn`).
    """

    name: str
    layers: int = Field(gt=0)
    hidden: int = Field(gt=0)
    heads: int = Field(gt=0)
    # Left out (or None), these are filled before validation: kv_heads by heads, ffn_hidden by
    # the family default; the placeholder 0 never survives (and an explicit 0 is rejected).
    kv_heads: int = Field(default=0, gt=0)  # key/value heads (grouped-query attention)
    ffn_hidden: int = Field(default=0, gt=0)  # MLP inner width
    vocab: int = Field(gt=0)
    seq_len: int = Field(gt=0)  # training sequence length, tokens
    mlp: MlpKind = "gelu"
    tied_embeddings: bool = False
    norm: NormKind = "layernorm"
    bias: bool = True  # linear layers carry biases
    position_embedding: PositionKind = "learned"
    dropout: bool = True  # dropout masks are stored for backward (1 byte per element)
    global_batch: int | None = Field(default=None, gt=0)  # published sequences per step
    published_params: float | None = Field(default=None, gt=0)  # the paper's stated count
    source: str = ""

    @model_validator(mode="before")
    @classmethod
    def _family_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        mlp = data.get("mlp", "gelu")
        llama_style = mlp == "swiglu"
        if data.get("kv_heads") is None and "heads" in data:
            data["kv_heads"] = data["heads"]
        if data.get("ffn_hidden") is None and isinstance(data.get("hidden"), int):
            hidden = data["hidden"]
            data["ffn_hidden"] = swiglu_default_ffn(hidden) if llama_style else 4 * hidden
        for key, gpt, llama in (
            ("norm", "layernorm", "rmsnorm"),
            ("bias", True, False),
            ("position_embedding", "learned", "rope"),
            ("dropout", True, False),
        ):
            if data.get(key) is None:
                data[key] = llama if llama_style else gpt
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if self.hidden % self.heads:
            raise ConfigError(
                f"model {self.name!r}: heads={self.heads} does not divide hidden={self.hidden}; "
                "hidden must be a multiple of heads"
            )
        if self.heads % self.kv_heads:
            raise ConfigError(
                f"model {self.name!r}: kv_heads={self.kv_heads} does not divide heads={self.heads}"
            )
        return self

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""
        return self.hidden // self.heads

    @property
    def kv_hidden(self) -> int:
        """Total width of the key (or value) projection: kv_heads * head_dim."""
        return self.kv_heads * self.head_dim

    @property
    def layer_params(self) -> int:
        """Parameters of one transformer layer (attention, MLP, two norms)."""
        h, kv, f = self.hidden, self.kv_hidden, self.ffn_hidden
        attention = h * (h + 2 * kv) + h * h
        mlp = (3 if self.mlp == "swiglu" else 2) * h * f
        if self.bias:
            attention += (h + 2 * kv) + h
            mlp += (2 * f if self.mlp == "swiglu" else f) + h
        norms = 2 * (2 * h if self.norm == "layernorm" else h)
        return attention + mlp + norms

    @property
    def embedding_params(self) -> int:
        """Token embedding plus learned position embedding (if any)."""
        positions = self.seq_len * self.hidden if self.position_embedding == "learned" else 0
        return self.vocab * self.hidden + positions

    @property
    def output_params(self) -> int:
        """Final norm plus the output projection (zero extra when tied to the embedding)."""
        final_norm = 2 * self.hidden if self.norm == "layernorm" else self.hidden
        head = 0 if self.tied_embeddings else self.vocab * self.hidden
        return final_norm + head

    @property
    def params(self) -> int:
        """Total trainable parameters (Narayanan et al. 2021 §5.1 generalised to GQA/SwiGLU)."""
        return self.layers * self.layer_params + self.embedding_params + self.output_params


class EfficiencySpec(_Frozen):
    """Achievable fractions of the hardware ceilings, used by the roofline.

    These depend on the hardware and on shape (see ``simulator.roofline``); a
    measured profile replaces them. ``source`` says how they were obtained.
    """

    matmul_peak_fraction: float = Field(gt=0, le=1)  # large-GEMM FLOP/s over peak
    matmul_half_dim: float = Field(ge=0)  # a GEMM dim d scales efficiency by d/(d+half_dim)
    memory_fraction: float = Field(gt=0, le=1)  # streaming-kernel bytes/s over HBM peak
    intra_node_collective_fraction: float = Field(gt=0, le=1)  # NCCL busbw over link rate
    inter_node_collective_fraction: float = Field(gt=0, le=1)  # NCCL busbw over NIC rate
    intra_node_latency_s: float = Field(ge=0)  # per collective step on the node link
    inter_node_latency_s: float = Field(ge=0)  # per collective step across nodes
    # True when the fractions were fitted on this accelerator (published or measured results);
    # False when carried over from another one: plans on it say so in their notes.
    calibrated: bool = False
    source: str = ""


class HardwareSpec(_Frozen):
    """One accelerator model as the planner sees it (rates dense, bytes decimal)."""

    name: str
    aliases: tuple[str, ...] = ()
    vendor: str = ""
    dense_flops_per_s: dict[str, float]  # dtype ("bf16", "fp8", ...) -> dense peak FLOP/s
    hbm_bytes: float = Field(gt=0)
    hbm_bytes_per_s: float = Field(gt=0)
    intra_node_bytes_per_s: float = Field(gt=0)  # NVLink/Infinity Fabric per GPU, both directions
    gpus_per_node: int = Field(gt=0)
    tdp_w: float = Field(gt=0)
    measured_power_w: float | None = Field(default=None, gt=0)  # average from a profile
    default_network: str = "infiniband-ndr"
    nics_per_gpu: int = Field(default=1, gt=0)  # scale-out NIC ports per GPU
    efficiency: EfficiencySpec
    sources: dict[str, str] = Field(default_factory=dict)  # field -> citation
    unverified: tuple[str, ...] = ()  # fields read from secondary sources only

    @model_validator(mode="after")
    def _has_bf16(self) -> HardwareSpec:
        if "bf16" not in self.dense_flops_per_s:
            raise ConfigError(
                f"hardware {self.name!r}: dense_flops_per_s needs a 'bf16' entry (dense FLOP/s)"
            )
        for dtype, rate in self.dense_flops_per_s.items():
            if rate <= 0:
                raise ConfigError(f"hardware {self.name!r}: dense_flops_per_s.{dtype} must be > 0")
        return self

    def peak_flops_per_s(self, dtype: str = "bf16") -> float | None:
        """Dense peak FLOP/s for ``dtype``, or None when the catalog has no figure for it."""
        return self.dense_flops_per_s.get(dtype)

    def peak(self, dtype: str = "bf16") -> float:
        """Dense peak FLOP/s for ``dtype``; ConfigError naming the known dtypes if absent."""
        rate = self.dense_flops_per_s.get(dtype)
        if rate is None:
            raise ConfigError(
                f"hardware {self.name!r} has no peak rate for {dtype!r} "
                f"(has: {', '.join(sorted(self.dense_flops_per_s))})"
            )
        return rate

    @property
    def link_bytes_per_s_per_direction(self) -> float:
        """Intra-node link bandwidth per GPU in one direction (half the quoted total)."""
        return self.intra_node_bytes_per_s / 2


class NetworkSpec(_Frozen):
    """A scale-out network technology (one NIC port)."""

    name: str
    technology: str = ""
    port_bits_per_s: float = Field(gt=0)
    switch_radix: int | None = Field(default=None, gt=1)  # ports per switch, if published
    source: str = ""

    @property
    def port_bytes_per_s(self) -> float:
        """Line rate of one port in bytes/s (bits / 8)."""
        return self.port_bits_per_s / 8
