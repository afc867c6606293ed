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
    """Run chunks on a Dask distributed cluster at ``address`` (``tcp://HOST:PORT``).

    Connecting has a hard deadline of ``timeout_s``: the scheduler's handshake is
    probed first on a private event loop (``asyncio.wait_for``), because a server
    that accepts the TCP connection but never answers like a Dask scheduler (an
    HTTP dashboard port, a proxy) would otherwise hang the client or crash it.
    Every failure to connect, to find a worker, or to run a chunk remotely
    becomes one :class:`~dcbench.errors.DcbenchError` line.
    """

    def __init__(self, address: str, *, timeout_s: float | None = None):
        timeout_s = DASK_CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
        if "://" not in address:
            raise UsageError(f"--scheduler {address!r}: write the address as tcp://HOST:PORT")
        self.address = address
        _probe_scheduler(address, timeout_s)
        from distributed import Client

        try:
            self.client = Client(address, timeout=timeout_s, set_as_default=False)
        except Exception as err:  # noqa: BLE001 - any failure to connect is one line
            raise _unreachable(address, timeout_s, err) from None
        try:
            self.client.wait_for_workers(1, timeout=timeout_s)
        except Exception:  # noqa: BLE001
            self.client.close()
            raise DcbenchError(
                f"the Dask scheduler at {address} has no workers (none joined within {timeout_s:g} s); "
                "start some (dask worker ADDRESS) or drop --scheduler"
            ) from None
        info = self.client.scheduler_info()
        self.workers = max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))

    def run(self, chunks: Sequence[Chunk]) -> Iterator[tuple[int, int, Rows]]:
        from distributed import as_completed as dask_completed

        futures = self.client.map(run_chunk, list(chunks), pure=False)
        try:
            for future in dask_completed(futures, loop=self.client.loop):
                yield future.result()
        except DcbenchError:
            raise  # a scenario problem found by a replica: its own line
        except Exception as err:  # noqa: BLE001 - a lost scheduler or a broken worker
            detail = str(err).splitlines()[0][:200] if str(err) else ""
            raise DcbenchError(
                f"the Dask cluster at {self.address} failed while simulating "
                f"({err.__class__.__name__}{': ' + detail if detail else ''}); check that its workers "
                "run the same dcbench version, or drop --scheduler"
            ) from None

    def close(self) -> None:
        self.client.close()


def _unreachable(address: str, timeout_s: float, err: BaseException) -> DcbenchError:
    """The one line for a failed connection: unreachable, a bad address, or not Dask."""
    if isinstance(err, ValueError):  # e.g. an unknown scheme or a malformed address
        return UsageError(f"--scheduler {address!r}: {err}; write the address as tcp://HOST:PORT")
    if isinstance(err, OSError | TimeoutError):
        return DcbenchError(
            f"cannot reach the Dask scheduler at {address} within {timeout_s:g} s "
            f"({err.__class__.__name__}); start it (dask scheduler) or drop --scheduler"
        )
    return DcbenchError(
        f"the server at {address} did not answer like a Dask scheduler ({err.__class__.__name__}); "
        "give the scheduler's address (tcp://HOST:8786 by default, not the dashboard port)"
    )


def _probe_scheduler(address: str, timeout_s: float) -> None:
    """Open and close one comm to ``address`` (with distributed's handshake) within ``timeout_s``."""
    import asyncio

    from distributed.comm import connect

    async def handshake() -> None:
        comm = await connect(address, timeout=timeout_s)
        await comm.close()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass  # no loop running here (the CLI): probe on a private one
    else:
        return  # called from async code (a notebook): leave it to the client's own timeout
    try:
        asyncio.run(asyncio.wait_for(handshake(), timeout_s))
    except Exception as err:  # noqa: BLE001 - refused, timed out, not a Dask scheduler, bad host
        raise _unreachable(address, timeout_s, err) from None


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
