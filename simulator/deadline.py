"""Sizing from a deadline (``--days D``): the fewest GPUs, in whole nodes, that train in time.

The search over GPU counts is :func:`simulator.counts.first_count`, started at a
compute lower bound: the tokens' model FLOPs over ``D`` at the best rate one GPU can
reach (the override's rate when one is given; else peak x the large-GEMM fraction,
doubled with FlashAttention because its causal kernel skips half of the score FLOPs
that model FLOPs count). With ``objective`` ``cost`` or ``energy``, counts up to 25%
above the fewest are sized as well and the cheapest (or least energy) wins.

When no count meets the deadline, the error names the fastest plan found and, unless
``--dp`` is fixed, the smallest larger global batch (2x to 16x) that would meet it:
the batch caps data parallelism, so it is usually what stops more GPUs from helping.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from dcbench.errors import InfeasibleError
from simulator.counts import CountSearch, feasible_counts, first_count
from simulator.flops import model_flops_per_token
from simulator.provision import size_everything
from simulator.request import PlanRequest, PlanSetup, evaluate_counts, train_time
from simulator.result import candidate
from simulator.search import Evaluation, rank

OBJECTIVE_WINDOW = 1.25  # cost/energy objective: GPU counts up to 25% above the fewest
OBJECTIVE_PROBES = 64  # at most this many counts of that window are sized
BATCH_FACTORS = (2, 4, 8, 16)  # larger global batches tried when no count meets the deadline
SECONDS_PER_DAY = 86400.0
UNREACHABLE_SPAN = 64  # below the largest usable count, how far down to look for the fastest plan


def best_rate_per_gpu(setup: PlanSetup) -> float:
    """An upper bound on model FLOP/s per GPU (see the module docstring)."""
    hw, override = setup.hardware, setup.override
    if override is not None and override.achieved_flops_per_gpu:
        return override.achieved_flops_per_gpu  # hardware FLOP/s >= model FLOP/s
    if override is not None and override.mfu:
        return hw.peak() * override.mfu
    causal_skip = 2.0 if setup.attention == "flash" else 1.0
    return hw.peak() * hw.efficiency.matmul_peak_fraction * causal_skip


def lower_bound_gpus(setup: PlanSetup, deadline_s: float) -> float:
    """GPUs needed at :func:`best_rate_per_gpu` with no other loss (fractional)."""
    return setup.tokens * model_flops_per_token(setup.model) / (deadline_s * best_rate_per_gpu(setup))


def _search(setup: PlanSetup, deadline_s: float) -> tuple[CountSearch, int]:
    counts = feasible_counts(setup, whole_nodes=True)
    if len(counts) == 0:
        return CountSearch(gpus=None, fastest_gpus=None, fastest_s=math.inf, evaluated=0), 0
    lower = lower_bound_gpus(setup, deadline_s)
    floor = counts[-1] / UNREACHABLE_SPAN
    found = first_count(setup, counts, limit_s=deadline_s, start=min(lower, counts[-1]))
    if found.gpus is None and lower > floor:
        # Nothing at or above the lower bound meets it: look lower too, for the fastest plan to report.
        below = first_count(setup, counts[counts < lower], limit_s=0.0, start=floor)
        if below.fastest_s < found.fastest_s:
            found = replace(found, fastest_gpus=below.fastest_gpus, fastest_s=below.fastest_s)
        found = replace(found, evaluated=found.evaluated + below.evaluated)
    return found, int(counts[-1])


def _larger_batch(setup: PlanSetup, deadline_s: float) -> str:
    for factor in BATCH_FACTORS:
        # Fixed, as --global-batch makes it, so that the suggestion holds when the user follows it.
        bigger = replace(setup, batch=setup.batch * factor, batch_fixed=True)
        found, _ = _search(bigger, deadline_s)
        if found.gpus is not None:
            return (
                f"a global batch of {bigger.batch} sequences (--global-batch {bigger.batch}) "
                f"meets it on {found.gpus:,} GPUs, if the optimiser tolerates it"
            )
    return f"even a {BATCH_FACTORS[-1]}x larger global batch does not; allow more days"


def _unmet(setup: PlanSetup, req: PlanRequest, deadline_s: float, found: CountSearch, largest: int) -> InfeasibleError:
    days = deadline_s / SECONDS_PER_DAY
    fixed = ", ".join(f"--{k}" for k in ("tp", "pp", "dp", "cp", "microbatch") if getattr(req, k) is not None)
    if found.fastest_gpus is None:
        relax = f" or fix fewer of {fixed}" if fixed else ""
        return InfeasibleError(
            f"{setup.model.name} fits on no whole-node GPU count up to {max(largest, 1):,} with these settings; "
            f"allow a larger --global-batch{relax}"
        )
    lower = lower_bound_gpus(setup, deadline_s)
    why = ""
    if lower > largest:
        why = f" (that needs more than {lower:,.0f} GPUs; this model and batch can use at most {largest:,})"
    head = (
        f"no GPU count meets {days:g} day{'' if days == 1 else 's'}{why}: the fastest found is {found.fastest_s / SECONDS_PER_DAY:.1f} days "
        f"on {found.fastest_gpus:,} GPUs"
    )
    if req.dp is not None:
        return InfeasibleError(f"{head} with {fixed} fixed; fix fewer layout dimensions or allow more days")
    also = f"; fixing fewer of {fixed} may also help" if fixed else ""
    return InfeasibleError(
        f"{head}; the global batch of {setup.batch} sequences caps data parallelism: "
        f"{_larger_batch(setup, deadline_s)}{also}"
    )


def _objective_value(setup: PlanSetup, req: PlanRequest, ev: Evaluation, index: int) -> float:
    chosen = candidate(ev, index, rank=1, tokens=setup.tokens, source=setup.source)
    sizing = size_everything(
        model=setup.model, hardware=setup.hardware, chosen=chosen, tokens=setup.tokens,
        training_flops=model_flops_per_token(setup.model) * setup.tokens, assumptions=setup.sizing,
        bytes_per_sample=req.bytes_per_sample,
    )
    return sizing.cost.total_usd if req.objective == "cost" else sizing.power.energy_j


def _cheapest(
    setup: PlanSetup, req: PlanRequest, gpus: int, ev: Evaluation, deadline_s: float
) -> tuple[int, Evaluation, int]:
    """Among GPU counts up to OBJECTIVE_WINDOW above ``gpus`` that meet the deadline, the cheapest."""
    top = int(rank(ev, train_time(setup, ev), 1)[0])
    best = (_objective_value(setup, req, ev, top), gpus, ev)
    counts = feasible_counts(setup, whole_nodes=True, limit=int(gpus * OBJECTIVE_WINDOW))
    window = counts[counts > gpus]
    if len(window) > OBJECTIVE_PROBES:
        window = window[np.unique(np.linspace(0, len(window) - 1, OBJECTIVE_PROBES).round().astype(np.int64))]
    evaluated = 0
    for count in window.tolist():
        ev_n = evaluate_counts(setup, [count])
        if ev_n is None:
            continue
        evaluated += len(ev_n.grid)
        times = np.where(ev_n.fits, train_time(setup, ev_n), np.inf)
        if not (times <= deadline_s).any():
            continue
        value = _objective_value(setup, req, ev_n, int(np.argmin(times)))
        if value < best[0]:
            best = (value, count, ev_n)
    return best[1], best[2], evaluated


def plan_for_deadline(setup: PlanSetup, req: PlanRequest, deadline_s: float) -> tuple[Evaluation, np.ndarray, int]:
    """The evaluation at the chosen GPU count, its ranked layout indices and the layouts evaluated."""
    found, largest = _search(setup, deadline_s)
    if found.gpus is None:
        raise _unmet(setup, req, deadline_s, found, largest)
    ev = evaluate_counts(setup, [found.gpus])
    if ev is None:  # first_count only returns counts that evaluated to a fitting layout
        raise InfeasibleError(f"internal: no layout at {found.gpus} GPUs after the deadline search")
    gpus, evaluated = found.gpus, found.evaluated
    if req.objective != "time":
        gpus, ev, extra = _cheapest(setup, req, gpus, ev, deadline_s)
        evaluated += extra
    return ev, rank(ev, train_time(setup, ev), req.top), evaluated
