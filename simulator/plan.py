"""Plan a training run: GPUs, layout, memory fit, time, network, storage, power and cost.

``plan(PlanRequest(...))`` searches the layouts of :mod:`simulator.layouts` with the
vectorised models of :mod:`simulator.search`, keeps those that fit in memory,
ranks them by time (at a fixed GPU count, cost and energy under the sizing
model are proportional to time, so they rank the same) and sizes the winner.

* ``gpus=N``: the best layouts on exactly N GPUs.
* ``days=D``: the fewest GPUs, in whole nodes, that train the tokens within D days
  (:mod:`simulator.deadline`, over the counts of :mod:`simulator.counts`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import numpy as np

from dcbench.errors import InfeasibleError, UsageError
from simulator import feasibility
from simulator.counts import feasible_counts, first_count
from simulator.deadline import plan_for_deadline
from simulator.flops import (
    RECOMPUTE_MODES,
    hardware_flops_per_token,
    model_flops_per_token,
    six_nd_flops,
)
from simulator.provision import size_everything
from simulator.request import (
    MAX_GPUS,
    OBJECTIVES,
    PlanRequest,
    PlanSetup,
    evaluate_counts,
    positive_float,
    prepare,
    train_time,
)
from simulator.result import Candidate, Flops, PlanResult, candidate
from simulator.search import Evaluation, rank
from simulator.units import format_bytes

NEARBY_TRIES = 64  # candidate counts checked on each side for "nearest GPU counts that work"


def _nearest_counts(setup: PlanSetup, gpus: int) -> str:
    """'96 or 104': the nearest GPU counts (whole nodes from one node up) that have a valid layout."""
    gpn = setup.hardware.gpus_per_node
    counts = feasible_counts(setup, whole_nodes=gpus >= gpn)
    found: list[int] = []
    for side in (counts[counts < gpus][::-1][:NEARBY_TRIES], counts[counts > gpus][:NEARBY_TRIES]):
        for count in side.tolist():
            if evaluate_counts(setup, [count]) is not None:
                found.append(count)
                break
    return " or ".join(str(n) for n in sorted(found)) or "none nearby"


def _smallest_fitting(setup: PlanSetup, above: int) -> int | None:
    """The fewest GPUs above ``above`` with a fitting layout: powers of two within a node, then whole nodes."""
    gpn = setup.hardware.gpus_per_node
    counts = feasible_counts(setup, whole_nodes=False)
    counts = counts[((counts < gpn) & ((counts & (counts - 1)) == 0)) | (counts % gpn == 0)]
    return first_count(setup, counts, limit_s=math.inf, start=above + 1).gpus


def _no_fit_error(setup: PlanSetup, gpus: int, ev: Evaluation) -> InfeasibleError:
    hw, model = setup.hardware, setup.model
    lean = float(ev.total_bytes.min())
    head = (
        f"{model.name} does not fit on {gpus} GPUs of {format_bytes(hw.hbm_bytes)} ({hw.name}): "
        f"the leanest layout needs {format_bytes(lean)} per GPU of {format_bytes(ev.usable_bytes)} usable"
    )
    smallest = _smallest_fitting(setup, gpus)
    if smallest is None:
        return InfeasibleError(f"{head}; no GPU count up to {MAX_GPUS} fits with these settings (relax the fixed layout)")
    return InfeasibleError(f"{head}; smallest that fits is {smallest} GPUs")


def _at_gpus(setup: PlanSetup, req: PlanRequest, gpus: int) -> tuple[Evaluation, np.ndarray, int]:
    feasibility.check_positive("gpus", gpus)
    feasibility.check_product(gpus, req.tp, req.pp, req.cp, req.dp)
    if setup.batch_fixed:
        feasibility.check_batch(setup.batch, req.dp, req.microbatch)
    ev = evaluate_counts(setup, [gpus])
    if ev is None:
        raise InfeasibleError(
            f"no layout of {setup.model.name} uses exactly {gpus} GPUs with these settings "
            f"(tp x pp x cp x dp = GPUs, dp x microbatch dividing the global batch of {setup.batch}); "
            f"nearest GPU counts that work: {_nearest_counts(setup, gpus)}"
        )
    if not ev.fits.any():
        if not req.allow_no_fit:
            raise _no_fit_error(setup, gpus, ev)
        return ev, np.argsort(ev.total_bytes, kind="stable")[: req.top], len(ev.grid)
    return ev, rank(ev, train_time(setup, ev), req.top), len(ev.grid)


def _notes(setup: PlanSetup, chosen: Candidate) -> tuple[str, ...]:
    notes: list[str] = []
    if not setup.batch_fixed and chosen.parallelism.global_batch != setup.batch:
        notes.append(
            f"global batch rounded from {setup.batch} to {chosen.parallelism.global_batch} sequences "
            "to divide into dp x microbatch; fix it with --global-batch"
        )
    if setup.source != "roofline":
        notes.append(f"step time from the efficiency override ({setup.source}), not the roofline")
    eff = setup.hardware.efficiency
    if setup.source == "roofline" and not eff.calibrated:
        notes.append(
            f"{setup.hardware.name}: roofline efficiency not calibrated on this GPU ({eff.source or 'no source given'}); "
            "times are estimates: pass --mfu or --achieved-tflops, or a measured profile"
        )
    if setup.hardware.unverified:
        notes.append(f"{setup.hardware.name} figures from secondary sources: {', '.join(setup.hardware.unverified)}")
    if not chosen.fits:
        notes.append("no layout fits in memory; showing the leanest (allow_no_fit)")
    return tuple(notes)


def plan(request: PlanRequest) -> PlanResult:
    """Plan the run described by ``request`` (see the module docstring)."""
    setup = prepare(request)
    if (request.gpus is None) == (request.days is None):
        fixed = [request.tp, request.pp, request.dp]
        if request.gpus is None and request.days is None and all(v is not None for v in fixed):
            request = replace(request, gpus=math.prod(v for v in fixed if v) * (request.cp or 1))
        else:
            raise UsageError("give exactly one of --gpus N (time for N GPUs) or --days D (GPUs for a deadline)")
    deadline_s = None
    if request.gpus is not None:
        ev, order, evaluated = _at_gpus(setup, request, int(request.gpus))
    else:
        days = positive_float("days", request.days)
        deadline_s = float(days or 0.0) * 86400.0
        ev, order, evaluated = plan_for_deadline(setup, request, deadline_s)

    candidates = tuple(
        candidate(ev, int(i), rank=r + 1, tokens=setup.tokens, source=setup.source) for r, i in enumerate(order)
    )
    chosen = candidates[0]
    model = setup.model
    model_per_token = model_flops_per_token(model)
    hw_per_token = hardware_flops_per_token(model, chosen.parallelism.recompute)  # type: ignore[arg-type]
    flops = Flops(
        model_flops_per_token=model_per_token,
        hardware_flops_per_token=hw_per_token,
        training_flops=model_per_token * setup.tokens,
        hardware_flops=hw_per_token * setup.tokens,
        six_nd_flops=six_nd_flops(model.params, setup.tokens),
    )
    sizing = size_everything(
        model=model, hardware=setup.hardware, chosen=chosen, tokens=setup.tokens,
        training_flops=flops.training_flops, assumptions=setup.sizing, bytes_per_sample=request.bytes_per_sample,
    )
    return PlanResult(
        model=model,
        hardware=setup.hardware,
        fabric=setup.fabric_spec,
        tokens=setup.tokens,
        gpus=chosen.gpus,
        nodes=-(-chosen.gpus // setup.hardware.gpus_per_node),
        objective=request.objective,
        parallelism=chosen.parallelism,
        flops=flops,
        throughput=chosen.throughput,
        time_to_train_s=chosen.time_to_train_s,
        memory_per_gpu_bytes=chosen.memory_per_gpu_bytes,
        fits=chosen.fits,
        breakdown=chosen.breakdown,
        traffic=chosen.traffic,
        network=sizing.network,
        storage=sizing.storage,
        power=sizing.power,
        cost=sizing.cost,
        candidates=candidates,
        layouts_evaluated=evaluated,
        deadline_s=deadline_s,
        notes=_notes(setup, chosen),
        attention=setup.attention,
        assumptions={
            "memory": asdict(setup.memory),
            "network": asdict(setup.sizing.network),
            "storage": asdict(setup.sizing.storage),
            "power": asdict(setup.sizing.power),
            "cost": asdict(setup.sizing.cost),
        },
    )


__all__ = ["OBJECTIVES", "RECOMPUTE_MODES", "PlanRequest", "PlanResult", "plan"]
