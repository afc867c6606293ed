"""Bytes each rank moves for one NCCL-style collective (ring algorithms).

nccl-tests ``doc/PERFORMANCE.md`` defines the *bus bandwidth* of a collective
as ``busbw = algbw * factor`` with ``algbw = message_bytes / time`` and
factor 2(n-1)/n for all-reduce, (n-1)/n for reduce-scatter, all-gather and
all-to-all, and 1 for broadcast and reduce. The factor is exactly the number
of bytes each rank must send (and receive) per byte of message, so
``bytes_per_rank = factor * message_bytes``: time = bytes_per_rank / link
bandwidth. For reduce-scatter and all-gather nccl-tests counts
``message_bytes`` as the full (gathered) buffer, which is what these
functions take.
"""

from __future__ import annotations

from simulator.sizing import checks

#: Bus-bandwidth factors from nccl-tests doc/PERFORMANCE.md, as functions of n ranks.
COLLECTIVES = ("all_reduce", "reduce_scatter", "all_gather", "all_to_all", "broadcast", "reduce")


def busbw_factor(collective: str, ranks: int) -> float:
    """nccl-tests bus-bandwidth factor for ``collective`` over ``ranks`` ranks (dimensionless)."""
    collective = checks.choice("collective", collective, COLLECTIVES)
    ranks = checks.positive_int("ranks", ranks)
    if collective == "all_reduce":
        return 2.0 * (ranks - 1) / ranks
    if collective in ("reduce_scatter", "all_gather", "all_to_all"):
        return (ranks - 1) / ranks
    return 1.0 if ranks > 1 else 0.0


def bytes_per_rank(collective: str, message_bytes: float, ranks: int) -> float:
    """Bytes each rank sends for one ``collective`` on a ``message_bytes`` buffer (bytes)."""
    message_bytes = checks.non_negative("message_bytes", message_bytes)
    return busbw_factor(collective, ranks) * message_bytes


def data_parallel_bytes_per_gpu(
    *, gradient_bytes: float, data_parallel: int, sharded: bool = False
) -> float:
    """Bytes each GPU sends per step to synchronise gradients over ``data_parallel`` replicas.

    Plain data parallelism all-reduces the gradients: 2(n-1)/n * G bytes. With
    a sharded optimiser (ZeRO stage 1/2, Megatron distributed optimiser) the
    all-reduce becomes a reduce-scatter of the gradients plus an all-gather of
    the updated parameters, the same 2(n-1)/n * G in total when parameters and
    gradients have the same width (Rajbhandari et al., ZeRO, arXiv:1910.02054
    §7.2.1); ZeRO stage 3 adds one more parameter all-gather (1.5x, same
    paper §7.2.2), which callers add themselves.
    """
    gradient_bytes = checks.non_negative("gradient_bytes", gradient_bytes)
    data_parallel = checks.positive_int("data_parallel", data_parallel)
    if sharded:
        return bytes_per_rank("reduce_scatter", gradient_bytes, data_parallel) + bytes_per_rank(
            "all_gather", gradient_bytes, data_parallel
        )
    return bytes_per_rank("all_reduce", gradient_bytes, data_parallel)
