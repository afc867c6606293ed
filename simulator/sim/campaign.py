"""Run a scenario: sweep points x Monte Carlo replicas, and the JSON that comes back.

This is the simulator's front door (the CLI only parses arguments and prints):

    raw, _ = load_preset("llama3-405b-16k")
    campaign = prepare(raw, sweeps=[("gpus", [8192, 16384])])
    result = run_campaign(campaign, replicas=100, seed=0, runner=LocalRunner())
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dcbench.errors import UsageError
from simulator.sim.cluster import ClusterSetup, cluster_setup, simulate_cluster
from simulator.sim.job_model import JobModel
from simulator.sim.loading import Scenario, validate, with_override
from simulator.sim.metrics import cluster_metrics, training_metrics
from simulator.sim.outputs import SCHEMA, cluster_output, pipeline_output, training_output
from simulator.sim.pipeline import PipelineSetup, pipeline_setup, pipeline_trace, simulate_pipeline
from simulator.sim.runners import Runner, run_all
from simulator.sim.scenario import TrainingScenario
from simulator.sim.scenario_cluster import ClusterScenario
from simulator.sim.setup import TrainingSetup, resolve_job, training_setup
from simulator.sim.stats import nest
from simulator.sim.training import simulate_training

Setup = TrainingSetup | ClusterSetup | PipelineSetup
MAX_POINTS = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Point:
    """One sweep point: the swept values, the validated scenario and the resolved setup."""

    values: dict[str, Any]
    scenario: Scenario
    setup: Setup


@dataclass(frozen=True, slots=True, kw_only=True)
class Campaign:
    """A scenario resolved into the points to simulate."""

    kind: str
    name: str
    sweep: dict[str, list[Any]]
    points: tuple[Point, ...]


def _setup_for(scn: Scenario, jobs: dict[str, JobModel]) -> Setup:
    if isinstance(scn, TrainingScenario):
        key = json.dumps(
            [scn.model, scn.tokens, scn.gpu, scn.gpus, scn.layout and scn.layout.model_dump(),
             scn.job and scn.job.model_dump(), scn.checkpoint and scn.checkpoint.bytes],
            default=str,
        )
        if key not in jobs:
            jobs[key] = resolve_job(scn)  # the planner is asked once per distinct job
        return training_setup(scn, job=jobs[key])
    if isinstance(scn, ClusterScenario):
        return cluster_setup(scn)
    return pipeline_setup(scn)


def prepare(
    raw: dict[str, Any], *, origin: str = "scenario", sweeps: Sequence[tuple[str, list[Any]]] = ()
) -> Campaign:
    """Validate the scenario at every sweep point (cross product) and resolve each point."""
    keys = [key for key, _ in sweeps]
    if len(set(keys)) != len(keys):
        raise UsageError("each --sweep key may appear once; put all its values in one list")
    grids = [values for _, values in sweeps]
    count = 1
    for grid in grids:
        count *= len(grid)
    if count > MAX_POINTS:
        raise UsageError(f"the sweep has {count} points (more than {MAX_POINTS}); sweep fewer values")
    jobs: dict[str, JobModel] = {}
    points = []
    for combo in itertools.product(*grids):
        point_raw = raw
        values = dict(zip(keys, combo, strict=True))
        for key, value in values.items():
            point_raw = with_override(point_raw, key, value)
        where = origin if not values else f"{origin} at {', '.join(f'{k}={v}' for k, v in values.items())}"
        scn = validate(point_raw, origin=where)
        points.append(Point(values=values, scenario=scn, setup=_setup_for(scn, jobs)))
    first = points[0].scenario
    return Campaign(
        kind=first.kind,
        name=first.name or first.kind,
        sweep={key: list(values) for key, values in sweeps},
        points=tuple(points),
    )


def total_replicas(campaign: Campaign, replicas: int) -> int:
    """How many replica runs the campaign takes (pipeline points are deterministic: one each)."""
    per_point = 1 if campaign.kind == "pipeline" else replicas
    return per_point * len(campaign.points)


def run_campaign(
    campaign: Campaign,
    *,
    replicas: int,
    seed: int,
    runner: Runner,
    on_progress: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """Simulate every point and return the stable JSON document (docs/simulate.md)."""
    if replicas < 1:
        raise UsageError(f"--replicas must be >= 1, got {replicas}")
    header: dict[str, Any] = {
        "schema": SCHEMA,
        "kind": campaign.kind,
        "scenario": campaign.name,
        "seed": seed,
        "replicas": 1 if campaign.kind == "pipeline" else replicas,
    }
    outputs: list[dict[str, Any]] = []
    if campaign.kind == "pipeline":
        for point in campaign.points:
            setup = point.setup
            if not isinstance(setup, PipelineSetup):
                raise TypeError("pipeline point without a pipeline setup")
            free = replace(setup, p2p_s=0.0, tp_comm_s=0.0, dp_allreduce_s=0.0)
            outputs.append(pipeline_output(setup, simulate_pipeline(setup), simulate_pipeline(free)))
            if on_progress is not None:
                on_progress(1)
    else:
        setups = [p.setup for p in campaign.points]
        engine_setups = [s for s in setups if isinstance(s, TrainingSetup | ClusterSetup)]
        all_rows = run_all(runner, engine_setups, replicas=replicas, seed=seed, on_progress=on_progress)
        for setup, rows in zip(engine_setups, all_rows, strict=True):
            if isinstance(setup, TrainingSetup):
                outputs.append(training_output(setup, rows))
            else:
                outputs.append(cluster_output(setup, rows))
    if not campaign.sweep:
        return {**header, **outputs[0]}
    header["sweep"] = campaign.sweep
    header["points"] = [
        {"values": point.values, **output} for point, output in zip(campaign.points, outputs, strict=True)
    ]
    return header


def timeline(campaign: Campaign, *, seed: int) -> dict[str, Any]:
    """Events of replica 0 of the first point, for reports (format in docs/simulate.md).

    Training and cluster timelines also carry ``summary``: that replica's own
    outputs (the per-replica values the Monte Carlo statistics are made of).
    """
    setup = campaign.points[0].setup
    doc: dict[str, Any] = {"schema": SCHEMA, "kind": campaign.kind, "scenario": campaign.name,
                           "seed": seed, "replica": 0}
    if isinstance(setup, TrainingSetup):
        out = simulate_training(setup, seed=seed, replica=0, record=True)
        doc["summary"] = nest(training_metrics(setup, out))
        ck = setup.checkpoint
        doc["checkpoint"] = (
            {"interval_s": _finite(ck.interval_s), "blocking_s": ck.blocking_s, "write_s": ck.write_s,
             "mode": ck.mode}
            if ck is not None else None
        )
        doc["events"] = out.timeline or []
    elif isinstance(setup, PipelineSetup):
        doc["events"] = pipeline_trace(setup)
    else:
        trace: list[dict[str, Any]] = []
        cluster_out = simulate_cluster(setup, seed=seed, replica=0, trace=trace)
        row = cluster_metrics(cluster_out)
        summary = nest({k: v for k, v in row.items() if not k.startswith("goodput_bucket.")})
        summary["goodput_over_time"] = [v for k, v in sorted(row.items()) if k.startswith("goodput_bucket.")]
        doc["summary"] = summary
        doc["events"] = trace
    return doc


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
