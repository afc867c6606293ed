"""Find the largest batch size that fits (``--batch-size auto``).

On a GPU the search doubles the batch until the allocator raises
out-of-memory, then bisects between the last fit and the first failure. A host
has no such clean signal (Linux overcommits and the OOM killer ends the
process), so on CPU the search doubles while the projected peak RSS stays under
a fraction of the memory available, and stops at a cap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psutil

from dcbench.harness.device import empty_cache, is_cuda, is_out_of_memory

HOST_MEMORY_FRACTION = 0.5  # use at most half the available host memory on CPU
MAX_DOUBLINGS = 12  # at most 4096x the starting batch
CPU_MAX_DOUBLINGS = 4  # on CPU: at most 16x the preset batch (keeps the search short)


@dataclass(frozen=True, kw_only=True, slots=True)
class AutoBatchResult:
    batch_size: int
    method: str  # how the limit was found
    tried: tuple[tuple[int, bool], ...]  # (batch size, fitted) in search order


def _fits(try_batch: Callable[[int], int], batch: int, device: str) -> tuple[bool, int]:
    """Run a trial at ``batch``; return (fitted, peak bytes used by the trial)."""
    try:
        used = try_batch(batch)
    except Exception as err:  # only out-of-memory counts as "does not fit"
        if is_out_of_memory(err):
            empty_cache(device)
            return False, 0
        raise
    return True, used


def find_max_batch(try_batch: Callable[[int], int], start: int, device: str) -> AutoBatchResult:
    """Search for the largest batch size; ``try_batch(b)`` runs one step at b and returns bytes used.

    Doubles from ``start`` while it fits (or halves while it does not), then
    bisects between the last fit and the first failure until the gap is within
    1/16 of the fitting size.
    """
    tried: list[tuple[int, bool]] = []

    def attempt(batch: int) -> tuple[bool, int]:
        ok, used = _fits(try_batch, batch, device)
        tried.append((batch, ok))
        return ok, used

    ok, used = attempt(start)
    if ok:
        low, high = start, 0
        cuda = is_cuda(device)
        budget = psutil.virtual_memory().available * HOST_MEMORY_FRACTION
        for _ in range(MAX_DOUBLINGS if cuda else CPU_MAX_DOUBLINGS):
            if not cuda and used * 2 > budget:
                return AutoBatchResult(batch_size=low, method="host-memory budget", tried=tuple(tried))
            ok, used_next = attempt(low * 2)
            if not ok:
                high = low * 2
                break
            low, used = low * 2, used_next
        else:
            return AutoBatchResult(batch_size=low, method="search cap", tried=tuple(tried))
    else:
        high = start
        while True:
            if high <= 1:
                raise MemoryError("even batch size 1 does not fit in device memory")
            low = high // 2
            ok, _ = attempt(low)
            if ok:
                break
            high = low
    while high - low > max(1, low // 16):
        mid = (low + high) // 2
        ok, _ = attempt(mid)
        if ok:
            low = mid
        else:
            high = mid
    return AutoBatchResult(batch_size=low, method="out-of-memory", tried=tuple(tried))
