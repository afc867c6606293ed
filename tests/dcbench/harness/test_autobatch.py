"""The batch-size search, driven by a trial function with a known capacity."""

from __future__ import annotations

import pytest
import torch

from dcbench.harness.autobatch import find_max_batch


def _trial_with_capacity(capacity: int, bytes_per_sample: int = 1):
    calls: list[int] = []

    def trial(batch: int) -> int:
        calls.append(batch)
        if batch > capacity:
            raise torch.OutOfMemoryError(f"CUDA out of memory trying batch {batch}")
        return batch * bytes_per_sample

    return trial, calls


@pytest.mark.parametrize("capacity", [1, 7, 32, 100, 1000])
def test_gpu_search_finds_a_batch_that_fits_and_is_near_the_limit(capacity: int) -> None:
    trial, calls = _trial_with_capacity(capacity)
    result = find_max_batch(trial, start=8, device="cuda:0")
    assert result.batch_size <= capacity  # never returns a size that failed
    # bisection stops within 1/16 of the last fit (or exactly, below 16)
    assert result.batch_size >= capacity - max(1, capacity // 16)
    failed_sizes = {batch for batch, fitted in result.tried if not fitted}
    assert result.batch_size not in failed_sizes
    assert all(b > result.batch_size for b in failed_sizes)


def test_non_oom_errors_propagate() -> None:
    def trial(batch: int) -> int:
        raise ValueError("broken model")

    with pytest.raises(ValueError):
        find_max_batch(trial, start=4, device="cuda:0")


def test_nothing_fits_raises_memory_error() -> None:
    trial, _ = _trial_with_capacity(0)
    with pytest.raises(MemoryError):
        find_max_batch(trial, start=4, device="cuda:0")


def test_cpu_search_is_capped_at_sixteen_times_the_start() -> None:
    trial, calls = _trial_with_capacity(10**9)
    result = find_max_batch(trial, start=4, device="cpu")
    assert result.batch_size == 64
    assert max(calls) == 64
