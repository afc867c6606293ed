"""Collective byte counts against the nccl-tests bus-bandwidth factors."""

from __future__ import annotations

import pytest

from dcbench.errors import UsageError
from simulator.sizing.traffic import busbw_factor, bytes_per_rank, data_parallel_bytes_per_gpu


@pytest.mark.parametrize(
    ("collective", "ranks", "factor"),
    [
        # nccl-tests doc/PERFORMANCE.md: 2(n-1)/n, (n-1)/n, (n-1)/n, 1.
        ("all_reduce", 8, 14 / 8),
        ("reduce_scatter", 8, 7 / 8),
        ("all_gather", 4, 3 / 4),
        ("all_to_all", 2, 1 / 2),
        ("broadcast", 8, 1.0),
        ("all_reduce", 1, 0.0),  # nothing to exchange with one rank
    ],
)
def test_busbw_factors(collective: str, ranks: int, factor: float) -> None:
    assert busbw_factor(collective, ranks) == pytest.approx(factor)


def test_bytes_per_rank_scales_the_message() -> None:
    assert bytes_per_rank("all_reduce", 1e9, 4) == pytest.approx(1.5e9)


def test_sharded_data_parallel_moves_the_same_bytes_as_all_reduce() -> None:
    # ZeRO §7.2.1: reduce-scatter + all-gather = the all-reduce's 2(n-1)/n * G.
    plain = data_parallel_bytes_per_gpu(gradient_bytes=14e9, data_parallel=64)
    sharded = data_parallel_bytes_per_gpu(gradient_bytes=14e9, data_parallel=64, sharded=True)
    assert plain == pytest.approx(sharded) == pytest.approx(2 * 63 / 64 * 14e9)


def test_unknown_collective_is_named() -> None:
    with pytest.raises(UsageError, match="did you mean 'all_reduce'"):
        busbw_factor("allreduce", 8)
