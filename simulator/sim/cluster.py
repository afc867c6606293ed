"""The SimPy engine for a shared cluster (``kind: cluster``), one replica at a time.

Processes: job arrivals (Poisson, or an explicit list), a scheduler (FIFO or EASY
backfill, whole-node allocation), one process per running job (compute in
segments of the checkpoint interval, then a blocking checkpoint write through
the shared storage), one aggregate failure process and a repair process per
replaced server. Storage is a SimPy ``Resource`` of capacity 1: writes queue and
each takes the whole bandwidth (the same total time as sharing it).

A failure strikes a uniformly random server. If a job runs there, the job loses
the work since its last checkpoint, releases its servers and goes back to the
queue in its original submission order; when it starts again it first pays the
failure's downtime (detection, restart, checkpoint load). A node-replacement
cause takes the server out of service for ``repair_s``.

EASY backfill (Lifka 1995; Mu'alem & Feitelson 2001): the head of the queue gets
a reservation at the earliest time enough servers free up (from the running jobs'
healthy run-time estimates); a later job may start now if it fits and either ends
before that time or only uses servers the head will not need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import simpy

from simulator.sim.cluster_setup import ClusterSetup, JobSpec, cluster_setup
from simulator.sim.replica import CountingEnvironment, replica_rngs
from simulator.sim.setup import CauseRate
from simulator.sim.young_daly import daly_interval_s

__all__ = ["ClusterOutcome", "ClusterSetup", "cluster_setup", "cluster_trace", "simulate_cluster"]

@dataclass(slots=True, kw_only=True, eq=False)
class _Job:
    spec: JobSpec
    order: int
    work_left_s: float
    interval_s: float
    write_s: float
    restart_pending_s: float = 0.0
    first_start: float | None = None
    nodes: list[int] = field(default_factory=list)
    started: float = 0.0
    phase: str = "queued"
    phase_start: float = 0.0
    estimate_end: float = 0.0
    process: Any = None


@dataclass(slots=True, kw_only=True)
class ClusterOutcome:
    """What one cluster replica measured (node-seconds, counts, seconds)."""

    duration_s: float
    nodes: int
    bucket_s: float  # width of the goodput-over-time bins
    allocated_node_s: float = 0.0
    useful_node_s: float = 0.0
    lost_node_s: float = 0.0
    checkpoint_node_s: float = 0.0
    restart_node_s: float = 0.0
    submitted: int = 0
    completed: int = 0
    failures: int = 0
    job_interruptions: int = 0
    waits_s: list[float] = field(default_factory=list)
    by_cause: dict[str, int] = field(default_factory=dict)
    goodput_node_s: list[float] = field(default_factory=list)
    events: int = 0  # SimPy events processed


class _Cluster:
    def __init__(self, env: simpy.Environment, setup: ClusterSetup, rngs: list[np.random.Generator]):
        self.env, self.setup, self.rngs = env, setup, rngs
        buckets = math.ceil(setup.duration_s / setup.bucket_s)
        self.out = ClusterOutcome(duration_s=setup.duration_s, nodes=setup.nodes,
                                  bucket_s=setup.bucket_s, goodput_node_s=[0.0] * buckets)
        self.free = set(range(setup.nodes))
        self.owner: dict[int, _Job] = {}
        self.queue: list[_Job] = []
        self.running: dict[int, _Job] = {}  # by submission order (deterministic iteration)
        self.down: set[int] = set()  # servers out of service for repair
        self.storage = simpy.Resource(env, capacity=1)
        self.wake = env.event()
        self.count = 0
        self.trace: list[dict[str, Any]] | None = None
        per_node = sum(c.rate_per_s for c in setup.causes) / setup.nodes
        self.node_rate_per_s = per_node

    def log(self, event: str, **details: Any) -> None:
        if self.trace is not None:
            self.trace.append({"t_s": self.env.now, "event": event, **details})

    # -- jobs --------------------------------------------------------------------
    def submit(self, spec: JobSpec) -> None:
        s = self.setup
        write_s = s.write_s if s.write_s is not None else spec.checkpoint_bytes / s.write_bytes_per_s
        interval = s.checkpoint_interval_s
        if interval is None:  # auto: Daly's optimum for this job's size
            rate = self.node_rate_per_s * spec.nodes
            interval = daly_interval_s(checkpoint_s=write_s, mtbf_s=1.0 / rate) if rate > 0 and write_s > 0 else math.inf
        job = _Job(spec=spec, order=self.count, work_left_s=spec.work_s, interval_s=interval, write_s=write_s)
        self.count += 1
        self.out.submitted += 1
        self.log("submit", job=spec.name, nodes=spec.nodes, work_s=spec.work_s)
        self.queue.append(job)
        self.poke()

    def poke(self) -> None:
        if not self.wake.triggered:
            self.wake.succeed()

    def load_s(self, job: _Job) -> float:
        """Time to read the job's checkpoint back when it restarts (0 if it never wrote one)."""
        if job.work_left_s >= job.spec.work_s:
            return 0.0
        if self.setup.load_s is not None:
            return self.setup.load_s
        return job.spec.checkpoint_bytes / self.setup.read_bytes_per_s

    def estimate_s(self, job: _Job) -> float:
        ck = job.write_s * max(math.ceil(job.work_left_s / job.interval_s) - 1, 0) if math.isfinite(job.interval_s) else 0.0
        return job.restart_pending_s + job.work_left_s + ck

    def start(self, job: _Job) -> None:
        now = self.env.now
        nodes = sorted(self.free)[: job.spec.nodes]
        self.free.difference_update(nodes)
        for n in nodes:
            self.owner[n] = job
        job.nodes, job.started = nodes, now
        job.estimate_end = now + self.estimate_s(job)
        if job.first_start is None:
            job.first_start = now
            self.out.waits_s.append(now - job.spec.submit_s)
        self.running[job.order] = job
        self.log("start", job=job.spec.name, nodes=len(nodes))
        job.process = self.env.process(self.run_job(job))

    def release(self, job: _Job) -> None:
        self.out.allocated_node_s += (self.env.now - job.started) * len(job.nodes)
        for n in job.nodes:
            del self.owner[n]
            if n not in self.down:
                self.free.add(n)
        job.nodes = []
        self.running.pop(job.order, None)
        self.poke()

    def credit(self, start: float, end: float, nodes: int) -> None:
        """Useful node-seconds in [start, end), spread over the goodput buckets."""
        self.out.useful_node_s += (end - start) * nodes
        width = self.setup.bucket_s
        t = start
        while t < end:
            index = int(t // width)
            if index >= len(self.out.goodput_node_s):
                break
            edge = min(end, (index + 1) * width)
            self.out.goodput_node_s[index] += (edge - t) * nodes
            t = edge

    def run_job(self, job: _Job) -> Any:
        env, n = self.env, job.spec.nodes
        try:
            if job.restart_pending_s > 0:
                job.phase, job.phase_start = "restart", env.now
                yield env.timeout(job.restart_pending_s)
                self.out.restart_node_s += job.restart_pending_s * n
                job.restart_pending_s = 0.0
            while job.work_left_s > 0:
                segment = min(job.interval_s, job.work_left_s)
                job.phase, job.phase_start = "compute", env.now
                yield env.timeout(segment)
                if segment >= job.work_left_s:
                    self.credit(job.phase_start, env.now, n)
                    job.work_left_s = 0.0
                    break
                computed_from = job.phase_start
                job.phase, job.phase_start = "checkpoint", env.now
                with self.storage.request() as req:
                    yield req
                    yield env.timeout(job.write_s)
                self.out.checkpoint_node_s += (env.now - job.phase_start) * n
                self.credit(computed_from, computed_from + segment, n)
                job.work_left_s -= segment
            job.phase = "done"
            self.out.completed += 1
            self.log("complete", job=job.spec.name)
            self.release(job)
        except simpy.Interrupt as intr:
            cause = cast(CauseRate, intr.cause)
            now = env.now
            if job.phase == "restart":
                self.out.restart_node_s += (now - job.phase_start) * n
            elif job.phase == "compute":
                self.out.lost_node_s += (now - job.phase_start) * n
            elif job.phase == "checkpoint":
                self.out.checkpoint_node_s += (now - job.phase_start) * n
                self.out.lost_node_s += min(job.interval_s, job.work_left_s) * n
            job.restart_pending_s = cause.downtime_s + self.load_s(job)
            job.phase = "queued"
            self.out.job_interruptions += 1
            self.log("interrupted", job=job.spec.name, cause=cause.name)
            self.release(job)
            self.queue.append(job)
            self.poke()

    # -- the scheduler ------------------------------------------------------------
    def scheduler(self) -> Any:
        while True:
            yield self.wake
            self.wake = self.env.event()
            self.schedule()

    def schedule(self) -> None:
        self.queue.sort(key=lambda j: (j.spec.submit_s, j.order))
        while self.queue and self.queue[0].spec.nodes <= len(self.free):
            self.start(self.queue.pop(0))
        if not self.queue or self.setup.scheduler != "backfill":
            return
        head = self.queue[0]
        now = self.env.now
        available = len(self.free)
        shadow, extra = math.inf, 0
        for job in sorted(self.running.values(), key=lambda j: (j.estimate_end, j.order)):
            available += len(job.nodes)
            if available >= head.spec.nodes:
                shadow, extra = job.estimate_end, available - head.spec.nodes
                break
        for job in list(self.queue[1:]):
            if job.spec.nodes > len(self.free):
                continue
            ends_in_time = now + self.estimate_s(job) <= shadow
            if ends_in_time or job.spec.nodes <= extra:
                if not ends_in_time:
                    extra -= job.spec.nodes
                self.queue.remove(job)
                self.start(job)

    # -- failures and repairs ---------------------------------------------------------
    def failures(self) -> Any:
        causes = self.setup.causes
        total = sum(c.rate_per_s for c in causes)
        cumulative = np.cumsum([c.rate_per_s for c in causes]) / total
        rng = self.rngs[0]
        while True:
            yield self.env.timeout(float(rng.exponential(1.0 / total)))
            cause = causes[min(int(np.searchsorted(cumulative, rng.random(), side="right")), len(causes) - 1)]
            node = int(rng.integers(self.setup.nodes))
            if node in self.down:
                continue
            self.out.failures += 1
            self.out.by_cause[cause.name] = self.out.by_cause.get(cause.name, 0) + 1
            self.log("failure", cause=cause.name, node=node)
            job = self.owner.get(node)
            if cause.replace_node:
                self.down.add(node)
                self.free.discard(node)
                self.env.process(self.repair(node))
            if job is not None and job.process is not None and job.process.is_alive:
                job.process.interrupt(cause)

    def repair(self, node: int) -> Any:
        yield self.env.timeout(self.setup.repair_s)
        self.down.discard(node)
        self.log("repaired", node=node)
        if node not in self.owner:
            self.free.add(node)
        self.poke()

    def arrivals(self) -> Any:
        spec = self.setup.arrivals
        assert spec is not None
        rng = self.rngs[1]
        probs = np.array(spec.weights) / sum(spec.weights)
        index = 0
        while True:
            yield self.env.timeout(float(rng.exponential(1.0 / spec.rate_per_s)))
            nodes = spec.nodes[int(rng.choice(len(spec.nodes), p=probs))]
            work = spec.work_median_s * math.exp(spec.work_sigma * float(rng.standard_normal()))
            if spec.work_max_s is not None:
                work = min(work, spec.work_max_s)
            index += 1
            self.submit(JobSpec(name=f"job-{index}", nodes=nodes, work_s=work, submit_s=self.env.now,
                                checkpoint_bytes=spec.checkpoint_bytes))

    def listed(self, spec: JobSpec) -> Any:
        yield self.env.timeout(spec.submit_s)
        self.submit(spec)

    def finish(self) -> None:
        now = self.env.now
        for job in list(self.running.values()):
            n = len(job.nodes)
            if job.phase == "compute":
                self.credit(job.phase_start, now, n)
            elif job.phase == "checkpoint":
                self.out.checkpoint_node_s += (now - job.phase_start) * n
                segment = min(job.interval_s, job.work_left_s)
                self.credit(job.phase_start - segment, job.phase_start, n)
            elif job.phase == "restart":
                self.out.restart_node_s += (now - job.phase_start) * n
            self.out.allocated_node_s += (now - job.started) * n


def simulate_cluster(
    setup: ClusterSetup, *, seed: int, replica: int, trace: list[dict[str, Any]] | None = None
) -> ClusterOutcome:
    """Run one replica of a cluster scenario over its window; deterministic per (seed, replica).

    With ``trace`` (a list), events (submit, start, complete, interrupted,
    failure, repaired) are appended to it as ``{"t_s", "event", ...}``.
    """
    rngs = replica_rngs(seed, replica)
    env = CountingEnvironment()
    cluster = _Cluster(env, setup, rngs)
    cluster.trace = trace
    env.process(cluster.scheduler())
    for spec in setup.jobs:
        env.process(cluster.listed(spec))
    if setup.arrivals is not None:
        env.process(cluster.arrivals())
    if setup.causes:
        env.process(cluster.failures())
    env.run(until=setup.duration_s)
    cluster.finish()
    cluster.out.events = env.events
    return cluster.out


def cluster_trace(setup: ClusterSetup, *, seed: int, replica: int) -> list[dict[str, Any]]:
    """The events of one cluster replica, in time order."""
    trace: list[dict[str, Any]] = []
    simulate_cluster(setup, seed=seed, replica=replica, trace=trace)
    return trace
