"""Flat per-replica metrics (dotted keys, SI units) from the engines' outcomes.

These rows are what the Monte Carlo layer summarizes (mean, p5, p50, p95) and
what :mod:`simulator.sim.outputs` nests into the stable JSON of docs/simulate.md.
"""

from __future__ import annotations

import numpy as np

from simulator.sim.cluster import ClusterOutcome
from simulator.sim.setup import TrainingSetup
from simulator.sim.training import TrainingOutcome

Row = dict[str, float | None]


def training_metrics(setup: TrainingSetup, out: TrainingOutcome) -> Row:
    """One replica of a training scenario as a flat row."""
    row: Row = {
        "time_to_train_s": out.time_to_train_s,
        "effective_training_time_fraction": out.effective_training_time_fraction,
        "interruptions.unexpected": float(out.unexpected),
        "interruptions.planned": float(out.planned),
        "lost_work_s": out.lost_work_s,
        "checkpoint_overhead_s": out.checkpoint_s,
        "restart_overhead_s": out.restart_s,
        "maintenance_overhead_s": out.maintenance_s,
        "spare_wait_s": out.spare_wait_s,
        "straggler_overhead_s": out.straggler_s,
        "useful_training_s": out.useful_s,
        "wall_s": out.wall_s,
        "checkpoints": float(out.checkpoints),
        "work_fraction": out.work_fraction,
        "completed": 1.0 if out.completed else 0.0,
        "simulated_events": float(out.events),
    }
    for cause in setup.causes:
        row[f"by_cause.{cause.name}"] = float(out.by_cause.get(cause.name, 0))
    return row


def cluster_metrics(out: ClusterOutcome) -> Row:
    """One replica of a cluster scenario as a flat row (fractions of the cluster's node-time)."""
    capacity = out.nodes * out.duration_s
    waits = np.array(out.waits_s) if out.waits_s else None
    row: Row = {
        "utilisation": out.allocated_node_s / capacity,
        "goodput_fraction": out.useful_node_s / capacity,
        "lost_work_fraction": out.lost_node_s / capacity,
        "checkpoint_overhead_fraction": out.checkpoint_node_s / capacity,
        "restart_overhead_fraction": out.restart_node_s / capacity,
        "queue_wait_p50_s": float(np.percentile(waits, 50)) if waits is not None else None,
        "queue_wait_p95_s": float(np.percentile(waits, 95)) if waits is not None else None,
        "queue_wait_mean_s": float(waits.mean()) if waits is not None else None,
        "jobs_submitted": float(out.submitted),
        "jobs_started": float(len(out.waits_s)),
        "completed_jobs": float(out.completed),
        "interruptions.unexpected": float(out.failures),
        "interruptions.jobs_interrupted": float(out.job_interruptions),
        "simulated_events": float(out.events),
    }
    for name, count in out.by_cause.items():
        row[f"by_cause.{name}"] = float(count)
    width = out.bucket_s
    for index, node_s in enumerate(out.goodput_node_s):
        span = min(width, out.duration_s - index * width)
        row[f"goodput_bucket.{index:05d}"] = node_s / (out.nodes * span) if span > 0 else None
    return row
