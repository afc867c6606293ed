"""The stable JSON of ``dcbench simulate --json`` (documented in docs/simulate.md).

Every Monte Carlo output is a statistics object ``{mean, p5, p50, p95, std,
stderr}``; durations are seconds, fractions are in [0, 1].
"""

from __future__ import annotations

import math
from typing import Any

from simulator.sim.cluster import ClusterSetup
from simulator.sim.pipeline import PipelineOutcome, PipelineSetup
from simulator.sim.setup import TrainingSetup
from simulator.sim.stats import summarize_all
from simulator.sim.young_daly import expected_efficiency

SCHEMA = "dcbench.simulate/1"
Rows = list[dict[str, float | None]]

_TRAINING_STATS = (
    "time_to_train_s",
    "effective_training_time_fraction",
    "lost_work_s",
    "checkpoint_overhead_s",
    "restart_overhead_s",
    "maintenance_overhead_s",
    "spare_wait_s",
    "straggler_overhead_s",
    "useful_training_s",
    "wall_s",
    "checkpoints",
    "work_fraction",
    "simulated_events",
)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def training_output(setup: TrainingSetup, rows: Rows) -> dict[str, Any]:
    """Summary of one training point."""
    stats = summarize_all(rows)
    result: dict[str, Any] = {name: stats[name] for name in _TRAINING_STATS}
    result["interruptions"] = {
        "unexpected": stats["interruptions.unexpected"],
        "planned": stats["interruptions.planned"],
        "by_cause": {
            key.split(".", 1)[1]: value["mean"] for key, value in stats.items() if key.startswith("by_cause.")
        },
    }
    result["completed_fraction"] = stats["completed"]["mean"]
    ck = setup.checkpoint
    result["checkpoint_interval_s"] = _finite(ck.interval_s) if ck else None
    result["young_daly_interval_s"] = ck.daly_s if ck else None
    result["young_interval_s"] = ck.young_s if ck else None
    result["checkpoint"] = (
        {"mode": ck.mode, "write_s": ck.write_s, "blocking_s": ck.blocking_s, "load_s": ck.load_s}
        if ck
        else None
    )
    result["mtbf_s"] = setup.mtbf_s
    result["failure_downtime_s"] = setup.mean_downtime_s
    window = setup.window_s
    result["window_s"] = window
    result["expected_unexpected_interruptions"] = (
        setup.failure_rate_per_s * window if window is not None else None
    )
    closed = None
    mtbf, downtime = setup.mtbf_s, setup.mean_downtime_s
    blocking = ck is not None and ck.mode == "blocking" and math.isfinite(ck.interval_s)
    if blocking and ck is not None and mtbf is not None and downtime is not None:
        closed = expected_efficiency(
            interval_s=ck.interval_s, checkpoint_s=ck.blocking_s, mtbf_s=mtbf, restart_s=downtime
        )
    result["closed_form_efficiency"] = closed
    job = setup.job
    result["job"] = {
        "step_time_s": job.step_time_s,
        "tokens_per_step": job.tokens_per_step,
        "total_tokens": job.total_tokens,
        "steps": job.steps,
        "compute_s": job.compute_s,
        "checkpoint_bytes": job.checkpoint_bytes,
        "gpus": job.gpus,
        "gpus_per_node": job.gpus_per_node,
        "tp": job.tp,
        "pp": job.pp,
        "dp": job.dp,
        "source": job.source,
    }
    return result


def cluster_output(setup: ClusterSetup, rows: Rows) -> dict[str, Any]:
    """Summary of one cluster point."""
    stats = summarize_all(rows)
    buckets = sorted(key for key in stats if key.startswith("goodput_bucket."))
    return {
        "utilisation": stats["utilisation"],
        "goodput_fraction": stats["goodput_fraction"],
        "lost_work_fraction": stats["lost_work_fraction"],
        "checkpoint_overhead_fraction": stats["checkpoint_overhead_fraction"],
        "restart_overhead_fraction": stats["restart_overhead_fraction"],
        "queue_wait_s": {
            "p50": stats["queue_wait_p50_s"],
            "p95": stats["queue_wait_p95_s"],
            "mean": stats["queue_wait_mean_s"],
        },
        "completed_jobs": stats["completed_jobs"],
        "jobs_submitted": stats["jobs_submitted"],
        "jobs_started": stats["jobs_started"],
        "simulated_events": stats["simulated_events"],
        "interruptions": {
            "unexpected": stats["interruptions.unexpected"],
            "jobs_interrupted": stats["interruptions.jobs_interrupted"],
            "by_cause": {
                key.split(".", 1)[1]: value["mean"]
                for key, value in stats.items()
                if key.startswith("by_cause.")
            },
        },
        "goodput_over_time": {
            "bucket_s": setup.bucket_s,
            "mean": [stats[key]["mean"] for key in buckets],
            "p5": [stats[key]["p5"] for key in buckets],
            "p95": [stats[key]["p95"] for key in buckets],
        },
        "gpus": setup.nodes * setup.gpus_per_node,
        "nodes": setup.nodes,
        "scheduler": setup.scheduler,
        "duration_s": setup.duration_s,
        "mtbf_s": 1.0 / sum(c.rate_per_s for c in setup.causes) if setup.causes else None,
    }


# Closed form and simulation "agree" when within 1% of the simulated iteration
# (a dcbench reporting threshold, not a published figure).
AGREEMENT_TOLERANCE = 0.01


def _relative(model_s: float, simulated_s: float) -> float | None:
    return (model_s - simulated_s) / simulated_s if simulated_s > 0 else None


def _pipeline_notes(setup: PipelineSetup, sim: PipelineOutcome, free: PipelineOutcome) -> list[str]:
    """Plain-language lines on where the closed forms and the simulation disagree, and why."""
    notes = []
    exposed_s = sim.iteration_s - free.iteration_s
    err = _relative(sim.closed_form_iteration_s, sim.iteration_s)
    uniform = len(set(setup.forward_s)) == 1 and len(set(setup.backward_s)) == 1
    if err is not None and abs(err) > AGREEMENT_TOLERANCE:
        side = "underestimates" if err < 0 else "overestimates"
        why = []
        if setup.p2p_s > 0:
            why.append(
                "it leaves out point-to-point sends between stages, which the simulation puts on the "
                f"critical path ({exposed_s:.4g} s of communication exposed in all)"
            )
        if not uniform:
            why.append("it takes the slowest stage for every stage")
        notes.append(
            f"closed form (m + (p-1)/v) x (t_f + t_b + 2 t_tp) + t_dp {side} the simulated iteration "
            f"by {abs(err):.1%}" + (": " + "; ".join(why) if why else "")
        )
    elif err is not None:
        notes.append(f"closed form and simulation agree within {AGREEMENT_TOLERANCE:.0%}")
    if setup.planner_step_time_s is not None and sim.iteration_s > 0:
        planner_err = _relative(setup.planner_step_time_s, sim.iteration_s)
        if planner_err is not None and abs(planner_err) > AGREEMENT_TOLERANCE:
            side = "above" if planner_err > 0 else "below"
            notes.append(
                f"the planner's step time is {abs(planner_err):.1%} {side} the simulated iteration: the "
                "planner adds every pipeline send to the stage time and its bubble is the closed form, "
                "while the simulation overlaps sends with other ranks' work and exposes what is left"
            )
        else:
            notes.append(f"the planner's step time agrees with the simulation within {AGREEMENT_TOLERANCE:.0%}")
    return notes


def pipeline_output(setup: PipelineSetup, sim: PipelineOutcome, free: PipelineOutcome) -> dict[str, Any]:
    """One pipeline iteration, next to the closed forms; ``free`` is the same with free comm."""
    closed_iteration = sim.closed_form_iteration_s
    return {
        "stages": setup.stages,
        "microbatches": setup.microbatches,
        "schedule": setup.schedule,
        "virtual_stages": setup.virtual_stages,
        "iteration_s": sim.iteration_s,
        "pipeline_s": sim.pipeline_s,
        "bubble_fraction": sim.bubble_fraction,
        "free_comm_iteration_s": free.iteration_s,
        "free_comm_bubble_fraction": free.bubble_fraction,
        "exposed_comm_s": sim.iteration_s - free.iteration_s,
        "busy_s": list(sim.busy_s),
        "closed_form": {
            "bubble_fraction": sim.closed_form_bubble_fraction,
            "iteration_s": closed_iteration,
        },
        "closed_form_error_fraction": _relative(closed_iteration, sim.iteration_s),
        "ops": sim.ops,
        "planner": (
            {
                "step_time_s": setup.planner_step_time_s,
                "bubble_s": setup.planner_bubble_s,
                "bubble_fraction": (setup.planner_bubble_s or 0.0) / setup.planner_step_time_s,
                "error_fraction": _relative(setup.planner_step_time_s, sim.iteration_s),
            }
            if setup.planner_step_time_s is not None and sim.iteration_s > 0
            else None
        ),
        "notes": _pipeline_notes(setup, sim, free),
    }
