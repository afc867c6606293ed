"""Latency-plus-bandwidth times of NCCL-style collectives (vectorised over numpy arrays).

Bandwidth follows the nccl-tests bus-bandwidth convention (nccl-tests
``doc/PERFORMANCE.md``): for a collective over ``n`` ranks moving a buffer of
``size_bytes``, ``algbw = size / time`` and ``busbw = algbw * factor`` with

* all-reduce: ``factor = 2 (n-1) / n``
* reduce-scatter, all-gather: ``factor = (n-1) / n``

so ``time = size * factor / busbw``. ``busbw`` is what a ring achieves on the
slowest link, i.e. the per-direction link rate times an achievable fraction
(about 0.8: NVIDIA/nccl-tests issue 212 measured 370 GB/s effective of the
450 GB/s per-direction NVLink rate on 8x H100). A ring adds one latency
``alpha_s`` per step: ``2 (n-1)`` steps for all-reduce, ``n-1`` for the others
(Thakur et al. 2005, "Optimization of Collective Communication Operations in
MPICH", §4). A group of one rank costs nothing.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


def _ring(size_bytes: ArrayLike, ranks: ArrayLike, busbw_bytes_per_s: ArrayLike, alpha_s: ArrayLike, steps_per_rank: float) -> Array:
    n = np.asarray(ranks, dtype=np.float64)
    size = np.asarray(size_bytes, dtype=np.float64)
    factor = steps_per_rank * (n - 1) / np.maximum(n, 1)
    time = size * factor / np.asarray(busbw_bytes_per_s, dtype=np.float64)
    time = time + steps_per_rank * (n - 1) * np.asarray(alpha_s, dtype=np.float64)
    return np.where(n > 1, time, 0.0)


def all_reduce_s(size_bytes: ArrayLike, ranks: ArrayLike, busbw_bytes_per_s: ArrayLike, alpha_s: ArrayLike = 0.0) -> Array:
    """Seconds for a ring all-reduce of ``size_bytes`` over ``ranks`` (busbw factor 2(n-1)/n)."""
    return _ring(size_bytes, ranks, busbw_bytes_per_s, alpha_s, 2.0)


def reduce_scatter_s(size_bytes: ArrayLike, ranks: ArrayLike, busbw_bytes_per_s: ArrayLike, alpha_s: ArrayLike = 0.0) -> Array:
    """Seconds for a ring reduce-scatter of a ``size_bytes`` input (busbw factor (n-1)/n)."""
    return _ring(size_bytes, ranks, busbw_bytes_per_s, alpha_s, 1.0)


def all_gather_s(size_bytes: ArrayLike, ranks: ArrayLike, busbw_bytes_per_s: ArrayLike, alpha_s: ArrayLike = 0.0) -> Array:
    """Seconds for a ring all-gather producing ``size_bytes`` on every rank (factor (n-1)/n)."""
    return _ring(size_bytes, ranks, busbw_bytes_per_s, alpha_s, 1.0)


def send_recv_s(size_bytes: ArrayLike, bytes_per_s: ArrayLike, alpha_s: ArrayLike = 0.0) -> Array:
    """Seconds for one point-to-point transfer: ``alpha + size / bandwidth``."""
    size = np.asarray(size_bytes, dtype=np.float64)
    return size / np.asarray(bytes_per_s, dtype=np.float64) + np.asarray(alpha_s, dtype=np.float64)


def spans_nodes(stride: ArrayLike, ranks: ArrayLike, gpus_per_node: int) -> NDArray[np.bool_]:
    """Whether a process group of ``ranks`` ranks, ``stride`` apart, crosses a node boundary.

    Ranks are numbered node by node; a group whose span ``stride * ranks`` exceeds
    the node size has members on different nodes and runs over the scale-out network.
    """
    return np.asarray(stride) * np.asarray(ranks) > gpus_per_node
