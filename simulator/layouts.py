"""Candidate parallel layouts as numpy arrays (one element per layout).

A layout places ``gpus = tp * cp * dp * pp`` ranks, numbered tensor-parallel
fastest, then context-, data- and pipeline-parallel (Megatron-LM's default
rank order). :func:`build_grid` makes the cartesian product of the allowed
values of every dimension and keeps the layouts that satisfy:

* ``tp`` divides the attention heads, the key/value heads and the FFN width,
  and fits in one node (Narayanan et al. 2021 §3.3: tensor parallelism stays
  on NVLink);
* ``pp`` divides the layers, and ``virtual_stages`` divides the layers per stage;
* ``cp`` splits the sequence into ``2 cp`` equal chunks (the load-balanced
  causal split of Megatron-LM's context parallelism);
* ``dp`` is a whole number, and the global batch divides into ``dp`` x
  ``microbatch`` (when the batch is fixed) or, when it is only a target, is
  rounded to the nearest multiple of ``dp * microbatch``, which may not exceed
  the target (so the batch never more than doubles and never shrinks by more
  than half);
* ZeRO stages 2 and 3 only without pipeline parallelism (DeepSpeed's pipeline
  engine supports ZeRO stage 1 only, DeepSpeed "Pipeline Parallelism" docs);
* sequence parallelism only with ``tp > 1``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from simulator.catalog.specs import ModelSpec

IntArray = NDArray[np.int64]


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchSpace:
    """Allowed values of every layout dimension (one value = fixed from the CLI)."""

    tp: Sequence[int]
    pp: Sequence[int]
    cp: Sequence[int]
    dp: Sequence[int] | None  # None: whatever the GPU count leaves
    microbatch: Sequence[int]
    zero_stage: Sequence[int]
    recompute: Sequence[int]  # codes: 0 none, 1 selective, 2 full
    sequence_parallel: Sequence[bool]
    virtual_stages: Sequence[int]


@dataclass(frozen=True, kw_only=True, slots=True)
class LayoutGrid:
    """Layouts as parallel arrays; ``grid.take(idx)`` selects a subset."""

    gpus: IntArray
    tp: IntArray
    pp: IntArray
    dp: IntArray
    cp: IntArray
    microbatch: IntArray
    global_batch: IntArray  # sequences per optimizer step
    zero_stage: IntArray
    recompute: IntArray
    sequence_parallel: NDArray[np.bool_]
    virtual_stages: IntArray

    def __len__(self) -> int:
        return int(self.tp.shape[0])

    @property
    def microbatches(self) -> IntArray:
        """Microbatches per pipeline flush: ``global_batch / (dp * microbatch)``."""
        return self.global_batch // (self.dp * self.microbatch)

    def take(self, index: NDArray[np.int64] | NDArray[np.bool_]) -> LayoutGrid:
        """The layouts at ``index`` (integer positions or a boolean mask)."""
        return LayoutGrid(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def divisors(value: int) -> list[int]:
    """All positive divisors of ``value`` in increasing order."""
    return [d for d in range(1, value + 1) if value % d == 0]


def default_space(model: ModelSpec, gpus_per_node: int, max_gpus: int) -> SearchSpace:
    """The full search space: every power-of-two TP in a node, every PP dividing the layers,
    power-of-two CP for sequences of 16k tokens or more, microbatches 1-8, ZeRO 0-3, all
    recompute modes, sequence parallelism on and off, 1-8 interleaved model chunks per GPU."""
    powers = [2**i for i in range(0, 8)]
    tp = [t for t in powers if t <= gpus_per_node]
    cp = [c for c in powers if c <= 16 and (c == 1 or model.seq_len // c >= 8192)]
    return SearchSpace(
        tp=tp,
        pp=[p for p in divisors(model.layers) if p <= max_gpus],
        cp=cp,
        dp=None,
        microbatch=[1, 2, 4, 8],
        zero_stage=[0, 1, 2, 3],
        recompute=[0, 1, 2],
        sequence_parallel=[False, True],
        virtual_stages=list(range(1, 9)),
    )


def build_grid(
    model: ModelSpec,
    space: SearchSpace,
    *,
    gpus: Sequence[int],
    gpus_per_node: int,
    global_batch: int,
    batch_is_fixed: bool,
) -> LayoutGrid:
    """All valid layouts of ``space`` for each GPU count in ``gpus`` (see module docstring)."""
    shape_dims = list(itertools.product(space.tp, space.cp, space.pp, space.virtual_stages))
    tp, cp, pp, vs = (np.array(col, dtype=np.int64) for col in zip(*shape_dims, strict=True))
    ok = (
        (model.heads % tp == 0)
        & (model.kv_heads % tp == 0)
        & (model.ffn_hidden % tp == 0)
        & (tp <= gpus_per_node)
        & (model.layers % pp == 0)
        & ((model.layers // pp) % vs == 0)
        & ((vs == 1) | (pp > 1))
        & ((cp == 1) | (model.seq_len % (2 * cp) == 0))
    )
    tp, cp, pp, vs = tp[ok], cp[ok], pp[ok], vs[ok]
    n = np.asarray(gpus, dtype=np.int64)
    # Cross the shapes with the GPU counts, keeping those that leave a whole dp.
    n_col, idx = (a.ravel() for a in np.meshgrid(n, np.arange(tp.shape[0]), indexing="ij"))
    per_replica = tp[idx] * cp[idx] * pp[idx]
    keep = n_col % per_replica == 0
    n_col, idx = n_col[keep], idx[keep]
    dp = n_col // (tp[idx] * cp[idx] * pp[idx])
    if space.dp is not None:
        keep = np.isin(dp, np.asarray(space.dp, dtype=np.int64))
        n_col, idx, dp = n_col[keep], idx[keep], dp[keep]

    options = list(
        itertools.product(space.microbatch, space.zero_stage, space.recompute, space.sequence_parallel)
    )
    mb, zero, rc, sp = (np.array(col) for col in zip(*options, strict=True))
    rows, opt = (a.ravel() for a in np.meshgrid(np.arange(idx.shape[0]), np.arange(len(options)), indexing="ij"))
    t, p, c, v, d = tp[idx][rows], pp[idx][rows], cp[idx][rows], vs[idx][rows], dp[rows]
    b = mb[opt].astype(np.int64)
    z = zero[opt].astype(np.int64)
    sequence_parallel = sp[opt].astype(bool)
    per_step = d * b
    if batch_is_fixed:
        batch = np.full(rows.shape, global_batch, dtype=np.int64)
        batch_ok = batch % per_step == 0
    else:
        batch = np.maximum(np.rint(global_batch / per_step), 1).astype(np.int64) * per_step
        batch_ok = per_step <= global_batch
    m = batch // per_step
    valid = (
        batch_ok
        & ((z <= 1) | (p == 1))
        & (~sequence_parallel | (t > 1))
        & ((v == 1) | (m % p == 0))
    )
    return LayoutGrid(
        gpus=n_col[rows][valid],
        tp=t[valid],
        pp=p[valid],
        dp=d[valid],
        cp=c[valid],
        microbatch=b[valid],
        global_batch=batch[valid],
        zero_stage=z[valid],
        recompute=rc[opt][valid].astype(np.int64),
        sequence_parallel=sequence_parallel[valid],
        virtual_stages=v[valid],
    )
