"""Running replicas in parallel: in this process, in local processes, or on Dask.

Work is cut into :class:`Chunk` s (a range of replicas of one sweep point);
:func:`run_chunk` is the one function every backend calls, so results do not
depend on where a chunk ran. Each replica's randomness comes only from
(seed, replica index), so the same seed gives the same numbers on any backend
and any number of workers.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Protocol

from dcbench.errors import DcbenchError, UsageError
from simulator.sim.cluster import ClusterSetup, simulate_cluster
from simulator.sim.metrics import cluster_metrics, training_metrics
from simulator.sim.setup import TrainingSetup
from simulator.sim.training import simulate_training

Rows = list[dict[str, float | None]]
DASK_CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Chunk:
    """Replicas ``start`` .. ``stop - 1`` of sweep point ``point``."""

    point: int
    setup: TrainingSetup | ClusterSetup
    seed: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


def run_chunk(chunk: Chunk) -> tuple[int, int, Rows]:
    """Run one chunk; returns (point, first replica, one metrics row per replica)."""
    rows: Rows = []
    for replica in range(chunk.start, chunk.stop):
        if isinstance(chunk.setup, TrainingSetup):
            outcome = simulate_training(chunk.setup, seed=chunk.seed, replica=replica)
            rows.append(training_metrics(chunk.setup, outcome))
        else:
            rows.append(cluster_metrics(simulate_cluster(chunk.setup, seed=chunk.seed, replica=replica)))
    return chunk.point, chunk.start, rows


def make_chunks(setups: Sequence[TrainingSetup | ClusterSetup], *, replicas: int, seed: int, workers: int) -> list[Chunk]:
    """Cut every point's replicas into chunks: about 4 chunks per worker over the whole run."""
    total = replicas * len(setups)
    size = max(1, math.ceil(total / max(4 * workers, 1)))
    size = min(size, replicas)
    chunks = []
    for point, setup in enumerate(setups):
        for start in range(0, replicas, size):
            chunks.append(Chunk(point=point, setup=setup, seed=seed, start=start, stop=min(start + size, replicas)))
    return chunks


class Runner(Protocol):
    """Where chunks run. ``run`` yields each chunk's result as it finishes."""

    workers: int

    def run(self, chunks: Sequence[Chunk]) -> Iterator[tuple[int, int, Rows]]: ...


class InlineRunner:
    """Run chunks one after another in this process."""

    workers = 1

    def run(self, chunks: Sequence[Chunk]) -> Iterator[tuple[int, int, Rows]]:
        for chunk in chunks:
            yield run_chunk(chunk)


class LocalRunner:
    """Run chunks on local worker processes (``concurrent.futures.ProcessPoolExecutor``)."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)

    def run(self, chunks: Sequence[Chunk]) -> Iterator[tuple[int, int, Rows]]:
        if self.workers == 1 or len(chunks) == 1:
            yield from InlineRunner().run(chunks)
            return
        # fork is the fast start on Linux; the pool is filled before any progress thread starts
        method = "fork" if sys.platform.startswith("linux") else None
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(max_workers=min(self.workers, len(chunks)), mp_context=context) as pool:
            futures = [pool.submit(run_chunk, chunk) for chunk in chunks]
            for future in as_completed(futures):
                yield future.result()


class DaskRunner:
    """Run chunks on a Dask distributed cluster at ``address`` (``tcp://HOST:PORT``)."""

    def __init__(self, address: str, *, timeout_s: float | None = None):
        timeout_s = DASK_CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
        if "://" not in address:
            raise UsageError(f"--scheduler {address!r}: write the address as tcp://HOST:PORT")
        from distributed import Client

        try:
            self.client = Client(address, timeout=timeout_s, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise DcbenchError(
                f"cannot reach the Dask scheduler at {address} within {timeout_s:g} s "
                f"({err.__class__.__name__}); start it (dask scheduler) or drop --scheduler"
            ) from None
        info = self.client.scheduler_info()
        self.workers = max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))

    def run(self, chunks: Sequence[Chunk]) -> Iterator[tuple[int, int, Rows]]:
        from distributed import as_completed as dask_completed

        futures = self.client.map(run_chunk, list(chunks), pure=False)
        for future in dask_completed(futures, loop=self.client.loop):
            yield future.result()

    def close(self) -> None:
        self.client.close()


def run_all(
    runner: Runner,
    setups: Sequence[TrainingSetup | ClusterSetup],
    *,
    replicas: int,
    seed: int,
    on_progress: Callable[[int], Any] | None = None,
) -> list[Rows]:
    """All replicas of every point, in replica order per point (whatever order chunks end in)."""
    chunks = make_chunks(setups, replicas=replicas, seed=seed, workers=runner.workers)
    parts: list[dict[int, Rows]] = [{} for _ in setups]
    for point, start, rows in runner.run(chunks):
        parts[point][start] = rows
        if on_progress is not None:
            on_progress(len(rows))
    return [[row for start in sorted(part) for row in part[start]] for part in parts]
