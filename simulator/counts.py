"""GPU counts: which admit a layout, and the fewest that meet a deadline or fit in memory.

A count ``N`` admits a layout when ``N = tp * cp * pp * dp`` for a tensor, context and
pipeline size the search space allows (:mod:`simulator.layouts`) and a data-parallel
size the batch allows: with a fixed global batch ``B``, ``dp * microbatch`` must divide
``B``; with a target batch, ``dp * microbatch <= B``; a fixed ``--dp`` allows only
itself. :func:`feasible_counts` lists those counts with integer arithmetic; it is a
superset (interleaving and ZeRO rules are checked when the layouts are evaluated), so
a count it lists may still evaluate to nothing.

:func:`first_count` finds the fewest GPUs whose fastest fitting layout trains the
tokens within a time limit. It probes the feasible counts on a ladder of ``2**(1/16)``
(about 4.4%) steps upward from a lower bound, always ending with the largest count;
at the first probe that meets the limit it evaluates, in increasing order, every
feasible count between the previous probe and that one, and returns the first that
meets it. Time to train falls with the GPU count almost everywhere but not exactly
(divisibility changes the layouts), so a count below a failed probe that would also
meet the limit can be missed. When no probe meets it, the fastest probe is reported.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulator.request import MAX_GPUS, PlanSetup, evaluate_counts, train_time
from simulator.search import Evaluation

IntArray = NDArray[np.int64]
LADDER_STEP = 2 ** (1 / 16)
CHUNK = 32  # GPU counts evaluated together (one vectorised grid) when scanning between probes


def divisors(value: int) -> list[int]:
    """All positive divisors of ``value`` in increasing order (O(sqrt(value)))."""
    small, large = [], []
    for d in range(1, math.isqrt(value) + 1):
        if value % d == 0:
            small.append(d)
            if d != value // d:
                large.append(value // d)
    return small + large[::-1]


def replica_sizes(setup: PlanSetup) -> IntArray:
    """Distinct ``tp * cp * pp`` products of the search space (GPUs per data-parallel replica)."""
    model, space, gpn = setup.model, setup.space, setup.hardware.gpus_per_node
    tp = [t for t in space.tp if t <= gpn and not (model.heads % t or model.kv_heads % t or model.ffn_hidden % t)]
    cp = [c for c in space.cp if c == 1 or model.seq_len % (2 * c) == 0]
    pp = [p for p in space.pp if model.layers % p == 0]
    return np.unique(np.array([t * c * p for t, c, p in itertools.product(tp, cp, pp)] or [0], dtype=np.int64))


def _data_parallel_sizes(setup: PlanSetup, limit: int) -> IntArray:
    space, batch = setup.space, setup.batch
    micro = sorted(space.microbatch)
    if space.dp is not None:
        dps = np.asarray(space.dp, dtype=np.int64)
    elif setup.batch_fixed:
        dps = np.array([d for d in divisors(batch) if any(batch % (d * b) == 0 for b in micro)], dtype=np.int64)
    else:
        dps = np.arange(1, min(batch // micro[0], limit) + 1, dtype=np.int64)
    return dps[dps <= limit]


def feasible_counts(setup: PlanSetup, *, whole_nodes: bool, limit: int = MAX_GPUS) -> IntArray:
    """Sorted GPU counts up to ``limit`` that can admit a layout (see the module docstring).

    ``whole_nodes``: keep only multiples of the GPUs per node.
    """
    gpn = setup.hardware.gpus_per_node
    dps = _data_parallel_sizes(setup, limit)
    pieces = []
    for size in replica_sizes(setup).tolist():
        if size <= 0:
            continue
        d = dps[dps <= limit // size]
        if whole_nodes:
            d = d[(size * d) % gpn == 0]
        pieces.append(size * d)
    if not pieces:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(pieces))


def fastest_per_count(setup: PlanSetup, counts: Sequence[int]) -> tuple[NDArray[np.float64], Evaluation | None]:
    """Seconds to train with the fastest fitting layout at each of ``counts`` (inf: none fits)."""
    best = np.full(len(counts), np.inf)
    ev = evaluate_counts(setup, list(counts))
    if ev is None:
        return best, None
    times = np.where(ev.fits, train_time(setup, ev), np.inf)
    np.minimum.at(best, np.searchsorted(np.asarray(counts), ev.grid.gpus), times)
    return best, ev


@dataclass(frozen=True, kw_only=True, slots=True)
class CountSearch:
    """What :func:`first_count` found."""

    gpus: int | None  # fewest GPUs meeting the limit, or None
    fastest_gpus: int | None  # the probed count with the shortest time (None: nothing fits)
    fastest_s: float  # its seconds to train (inf: nothing fits)
    evaluated: int  # layouts evaluated


def first_count(setup: PlanSetup, counts: IntArray, *, limit_s: float, start: float) -> CountSearch:
    """The fewest of ``counts`` (sorted) at or above ``start`` that train within ``limit_s``.

    ``limit_s = inf`` asks for the fewest GPUs on which any layout fits.
    """
    evaluated = 0
    fastest: tuple[float, int | None] = (math.inf, None)

    def meets(seconds: float) -> bool:
        return math.isfinite(seconds) and seconds <= limit_s

    n = len(counts)
    index = int(np.searchsorted(counts, start))
    previous = index - 1
    while index < n:
        times, ev = fastest_per_count(setup, [int(counts[index])])
        evaluated += 0 if ev is None else len(ev.grid)
        if times[0] < fastest[0]:
            fastest = (float(times[0]), int(counts[index]))
        if meets(float(times[0])):
            for low in range(previous + 1, index, CHUNK):  # every count between the probes, fewest first
                chunk = [int(c) for c in counts[low : min(low + CHUNK, index)]]
                chunk_times, chunk_ev = fastest_per_count(setup, chunk)
                evaluated += 0 if chunk_ev is None else len(chunk_ev.grid)
                hits = [c for c, t in zip(chunk, chunk_times.tolist(), strict=True) if meets(t)]
                if hits:
                    return CountSearch(gpus=hits[0], fastest_gpus=fastest[1], fastest_s=fastest[0], evaluated=evaluated)
            return CountSearch(gpus=int(counts[index]), fastest_gpus=fastest[1], fastest_s=fastest[0], evaluated=evaluated)
        previous = index
        nxt = int(np.searchsorted(counts, counts[index] * LADDER_STEP))
        index = max(index + 1, min(nxt, n - 1)) if index < n - 1 else n
    return CountSearch(gpus=None, fastest_gpus=fastest[1], fastest_s=fastest[0], evaluated=evaluated)
