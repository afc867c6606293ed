"""Turn a validated cluster scenario into the engine's plain inputs (:class:`ClusterSetup`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dcbench.errors import ConfigError
from simulator.sim.job_model import JobModel
from simulator.sim.scenario_cluster import ClusterScenario
from simulator.sim.setup import CauseRate, resolve_causes

SECONDS_PER_DAY = 86400.0
DEFAULT_GPUS_PER_NODE = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class JobSpec:
    """One job of the mix: servers, healthy compute seconds, submission time, checkpoint size."""

    name: str
    nodes: int
    work_s: float
    submit_s: float
    checkpoint_bytes: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ArrivalSpec:
    """A Poisson job stream (per second) with sizes in servers and lognormal compute time."""

    rate_per_s: float
    nodes: tuple[int, ...]
    weights: tuple[float, ...]
    work_median_s: float
    work_sigma: float
    work_max_s: float | None
    checkpoint_bytes: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterSetup:
    """Everything one replica of a cluster simulation needs (plain, picklable data)."""

    name: str
    nodes: int
    gpus_per_node: int
    duration_s: float
    scheduler: str
    jobs: tuple[JobSpec, ...]
    arrivals: ArrivalSpec | None
    causes: tuple[CauseRate, ...]  # rates for the whole cluster
    repair_s: float
    checkpoint_interval_s: float | None  # None: "auto" (Daly per job); math.inf: off
    write_bytes_per_s: float
    read_bytes_per_s: float
    write_s: float | None  # fixed write time (None: bytes / bandwidth)
    load_s: float | None  # fixed load time (None: bytes / read bandwidth)
    bucket_s: float


def cluster_setup(scn: ClusterScenario) -> ClusterSetup:
    """Resolve a cluster scenario into per-second rates and whole servers."""
    gpn = scn.gpus_per_node
    if gpn is None and scn.gpu is not None:
        from simulator.catalog import load_hardware

        gpn = int(load_hardware(scn.gpu).gpus_per_node)
    gpn = gpn or DEFAULT_GPUS_PER_NODE
    if scn.gpus % gpn:
        raise ConfigError(f"gpus {scn.gpus} is not a whole number of {gpn}-GPU servers")
    nodes = scn.gpus // gpn
    jobs = []
    for job in scn.jobs:
        need = math.ceil(job.gpus / gpn)
        if need > nodes:
            raise ConfigError(f"job {job.name!r} needs {job.gpus} GPUs but the cluster has {scn.gpus}")
        jobs.append(
            JobSpec(name=job.name, nodes=need, work_s=job.work_s, submit_s=job.submit_s,
                    checkpoint_bytes=job.checkpoint_bytes)
        )
    arrivals = None
    if scn.arrivals is not None:
        a = scn.arrivals
        sizes = tuple(math.ceil(g / gpn) for g in a.gpus)
        if max(sizes) > nodes:
            raise ConfigError(f"arrivals.gpus has {max(a.gpus)} GPUs but the cluster has {scn.gpus}")
        weights = tuple(a.gpus_weights) if a.gpus_weights is not None else (1.0,) * len(sizes)
        arrivals = ArrivalSpec(
            rate_per_s=a.per_hour / 3600.0, nodes=sizes, weights=weights,
            work_median_s=a.work_median_s, work_sigma=a.work_sigma, work_max_s=a.work_max_s,
            checkpoint_bytes=a.checkpoint_bytes,
        )
    whole = JobModel(step_time_s=1.0, tokens_per_step=1.0, total_tokens=1.0, checkpoint_bytes=0.0,
                     gpus=scn.gpus, gpus_per_node=gpn)
    ck = scn.checkpoint
    # each job's checkpoint load time is added to its downtime when it restarts
    causes = resolve_causes(whole, scn.failures, load_s=0.0, restart_override_s=scn.restart_s)
    if ck is not None and ck.mode != "blocking":
        raise ConfigError("cluster scenarios support checkpoint.mode: blocking only")
    interval: float | None
    if ck is None:
        interval = math.inf
    elif ck.interval_s == "auto":
        interval = None
    else:
        interval = float(ck.interval_s)
    return ClusterSetup(
        name=scn.name or "cluster", nodes=nodes, gpus_per_node=gpn,
        duration_s=scn.duration_days * SECONDS_PER_DAY, scheduler=scn.scheduler,
        jobs=tuple(jobs), arrivals=arrivals, causes=causes, repair_s=scn.repair_s,
        checkpoint_interval_s=interval,
        write_bytes_per_s=ck.storage_write_bytes_per_s if ck else 1.0,
        read_bytes_per_s=(ck.storage_read_bytes_per_s or ck.storage_write_bytes_per_s) if ck else 1.0,
        write_s=ck.write_s if ck else None, load_s=ck.load_s if ck else None,
        bucket_s=scn.goodput_bucket_s,
    )
