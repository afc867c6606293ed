"""Plan a training run: GPUs, layout, memory fit, time, network, storage, power and cost.

``plan(PlanRequest(...))`` searches the layouts of :mod:`simulator.layouts` with the
vectorised models of :mod:`simulator.search`, keeps those that fit in memory,
ranks them by time (at a fixed GPU count, cost and energy under the sizing
model are proportional to time, so they rank the same) and sizes the winner.

* ``gpus=N``: the best layouts on exactly N GPUs.
* ``days=D``: the fewest GPUs, in whole nodes, that train the tokens within D days.
  Node counts are tried on a ladder of ``2**(1/16)`` (about 4.4%) steps from a
  compute lower bound, then one by one below the first rung that meets the
  deadline. With ``objective`` ``cost`` or ``energy``, counts up to 25% above
  the fewest are sized and the cheapest (or least energy) wins.
"""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import numpy as np

from dcbench.errors import InfeasibleError, UsageError
from simulator import feasibility
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

LADDER_STEP = 2 ** (1 / 16)
OBJECTIVE_WINDOW = 1.25  # cost/energy objective: GPU counts up to 25% above the fewest


def _nearest_counts(setup: PlanSetup, gpus: int) -> str:
    """'96 or 104': the nearest GPU counts (in whole nodes) that have a valid layout."""
    gpn = setup.hardware.gpus_per_node
    found: list[int] = []
    for direction in (-1, 1):
        n = (gpus // gpn + (1 if direction > 0 else 0)) * gpn
        for _ in range(256):
            if n <= 0 or n > MAX_GPUS:
                break
            if n != gpus and evaluate_counts(setup, [n]) is not None:
                found.append(n)
                break
            n += direction * gpn
    return " or ".join(str(n) for n in sorted(found)) or "none nearby"


def _node_ladder(start_nodes: int, max_nodes: int) -> list[int]:
    rungs: list[int] = []
    x = float(max(start_nodes, 1))
    while x <= max_nodes:
        rung = math.ceil(x)
        if not rungs or rung > rungs[-1]:
            rungs.append(rung)
        x *= LADDER_STEP
    return rungs


def _smallest_fitting(setup: PlanSetup, above: int) -> int | None:
    """The fewest GPUs above ``above`` with a fitting layout: powers of two within a node,
    then whole nodes (a ladder, then node by node below the first rung that fits)."""
    gpn = setup.hardware.gpus_per_node

    def fits(count: int) -> bool:
        ev = evaluate_counts(setup, [count])
        return ev is not None and bool(ev.fits.any())

    for count in (2**i for i in range(8)):
        if above < count < gpn and fits(count):
            return count
    previous = above // gpn
    for nodes in _node_ladder(max(previous, 1), MAX_GPUS // gpn):
        if nodes * gpn > above and fits(nodes * gpn):
            return next(n * gpn for n in range(previous + 1, nodes + 1) if n * gpn > above and fits(n * gpn))
        previous = nodes
    return None


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


def _deadline(setup: PlanSetup, req: PlanRequest, deadline_s: float) -> tuple[Evaluation, np.ndarray, int]:
    hw, model = setup.hardware, setup.model
    gpn = hw.gpus_per_node
    if setup.override and setup.override.achieved_flops_per_gpu:
        rate = setup.override.achieved_flops_per_gpu
    elif setup.override and setup.override.mfu:
        rate = hw.peak() * setup.override.mfu
    else:
        rate = hw.peak() * hw.efficiency.matmul_peak_fraction
    lower_gpus = setup.tokens * model_flops_per_token(model) / (deadline_s * rate)
    if lower_gpus > MAX_GPUS:
        raise InfeasibleError(
            f"{deadline_s / 86400:g} days needs at least {lower_gpus:,.0f} GPUs even at "
            f"{rate / 1e12:g} TFLOP/s each, above the search ceiling of {MAX_GPUS:,}; allow more days"
        )
    evaluated = 0
    best: tuple[float, int] | None = None
    stall = 0
    previous = max(math.floor(lower_gpus / gpn), 1) - 1
    found: tuple[int, Evaluation] | None = None
    for nodes in _node_ladder(previous + 1, MAX_GPUS // gpn):
        ev = evaluate_counts(setup, [nodes * gpn])
        if ev is not None:
            evaluated += len(ev.grid)
            times = np.where(ev.fits, train_time(setup, ev), np.inf)
            fastest = float(times.min())
            if fastest <= deadline_s:
                found = (nodes * gpn, ev)
                break
            if best is None or fastest < best[0] * (1 - 1e-3):
                best, stall = (fastest, nodes * gpn), 0
            else:
                stall += 1
        if stall > 48:  # three doublings without getting faster
            break
        previous = nodes
    if found is None:
        days = deadline_s / 86400
        if best is None or not math.isfinite(best[0]):
            raise InfeasibleError(f"{model.name} fits on no GPU count up to {MAX_GPUS} with these settings")
        raise InfeasibleError(
            f"no GPU count meets {days:g} days: the fastest found is {best[0] / 86400:.1f} days "
            f"on {best[1]} GPUs (a global batch of {setup.batch} sequences caps data parallelism); "
            "allow more days, a larger --global-batch or fewer fixed layout dimensions"
        )
    gpus, ev = found
    for nodes in range(previous + 1, gpus // gpn):  # every node count below the rung that meets it
        ev_n = evaluate_counts(setup, [nodes * gpn])
        if ev_n is None:
            continue
        evaluated += len(ev_n.grid)
        if (np.where(ev_n.fits, train_time(setup, ev_n), np.inf) <= deadline_s).any():
            gpus, ev = nodes * gpn, ev_n
            break
    if req.objective != "time":
        gpus, ev, extra = _cheapest(setup, req, gpus, ev, deadline_s)
        evaluated += extra
    order = rank(ev, train_time(setup, ev), req.top)
    return ev, order, evaluated


def _objective_value(setup: PlanSetup, req: PlanRequest, ev: Evaluation, index: int) -> float:
    chosen = candidate(ev, index, rank=1, tokens=setup.tokens, source=setup.source)
    sizing = size_everything(
        model=setup.model, hardware=setup.hardware, chosen=chosen, tokens=setup.tokens,
        training_flops=model_flops_per_token(setup.model) * setup.tokens, assumptions=setup.sizing,
        bytes_per_sample=req.bytes_per_sample,
    )
    return sizing.cost.total_usd if req.objective == "cost" else sizing.power.energy_j


def _cheapest(setup: PlanSetup, req: PlanRequest, gpus: int, ev: Evaluation, deadline_s: float) -> tuple[int, Evaluation, int]:
    """Among GPU counts up to OBJECTIVE_WINDOW above ``gpus`` that meet the deadline, the cheapest."""
    gpn = setup.hardware.gpus_per_node
    top = int(rank(ev, train_time(setup, ev), 1)[0])
    best = (_objective_value(setup, req, ev, top), gpus, ev)
    evaluated = 0
    for nodes in _node_ladder(gpus // gpn + 1, int(gpus * OBJECTIVE_WINDOW) // gpn):
        ev_n = evaluate_counts(setup, [nodes * gpn])
        if ev_n is None:
            continue
        evaluated += len(ev_n.grid)
        times = np.where(ev_n.fits, train_time(setup, ev_n), np.inf)
        if not (times <= deadline_s).any():
            continue
        index = int(np.argmin(times))
        value = _objective_value(setup, req, ev_n, index)
        if value < best[0]:
            best = (value, nodes * gpn, ev_n)
    return best[1], best[2], evaluated


def _notes(setup: PlanSetup, chosen: Candidate) -> tuple[str, ...]:
    notes: list[str] = []
    if not setup.batch_fixed and chosen.parallelism.global_batch != setup.batch:
        notes.append(
            f"global batch rounded up from {setup.batch} to {chosen.parallelism.global_batch} sequences "
            "to divide into dp x microbatch; fix it with --global-batch"
        )
    if setup.source != "roofline":
        notes.append(f"step time from the efficiency override ({setup.source}), not the roofline")
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
        ev, order, evaluated = _deadline(setup, request, deadline_s)

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
