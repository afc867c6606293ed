"""The SimPy engine for one pipeline-parallel iteration (``kind: pipeline``).

Each pipeline rank is a SimPy process that runs its forward and backward passes
in the order its schedule prescribes; a pass starts when its input has arrived
(activations from the previous virtual stage, gradients from the next). Sends go
over a directed link per pair of neighbouring ranks (a SimPy ``Resource`` of
capacity 1) and do not block the sender's compute. Tensor-parallel communication
is exposed inside every pass; the data-parallel all-reduce follows a rank's last
backward pass.

Schedules:

* ``gpipe``: all forwards, then all backwards (Huang et al. 2019, GPipe).
* ``1f1b``: p - r - 1 warm-up forwards on rank r, then one forward / one backward,
  then the remaining backwards (PipeDream-Flush; Narayanan et al. 2021,
  arXiv:2104.04473 §2.2.1).
* ``interleaved``: v model chunks per rank, chunk-major order in groups of p
  microbatches, (p - r - 1) * 2 + (v - 1) * p warm-up passes (Narayanan et al.
  2021 §2.2.2 and Megatron-LM's interleaved schedule).

Closed form (Narayanan et al. 2021 §2.2): with uniform stages and free
communication, an iteration takes (m + (p - 1)/v)(t_f + t_b), so the pipeline
bubble is (p - 1) / (v m + p - 1) of the iteration ((p - 1)/(v m) of the ideal time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import simpy

from dcbench.errors import ConfigError, InfeasibleError
from simulator.sim.scenario_pipeline import PipelineScenario

Op = tuple[str, int, int]  # ("F" or "B", microbatch, model chunk)


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineSetup:
    """One iteration's shape and per-stage times (seconds per microbatch, whole stage)."""

    name: str
    stages: int
    microbatches: int
    schedule: str
    virtual_stages: int
    forward_s: tuple[float, ...]
    backward_s: tuple[float, ...]
    p2p_s: float
    tp_comm_s: float
    dp_allreduce_s: float
    planner_step_time_s: float | None = None  # the planner's step time, when it gave the times
    planner_bubble_s: float | None = None  # the planner's bubble per step


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineOutcome:
    """Simulated and closed-form timings of one iteration (seconds, fractions)."""

    iteration_s: float  # until every rank finished, DP all-reduce included
    pipeline_s: float  # until the last backward pass finished
    busy_s: tuple[float, ...]  # time each rank spent in passes (TP comm included)
    bubble_fraction: float  # mean idle share of pipeline_s over ranks
    closed_form_bubble_fraction: float  # (p - 1) / (v m + p - 1)
    closed_form_iteration_s: float  # (m + (p - 1)/v) max(t_f + t_b + 2 t_tp) + t_dp
    ops: int  # passes simulated


def _planned_setup(scn: PipelineScenario) -> PipelineSetup:
    """Shape and times from the planner; forward : backward = 1 : 2 of the stage time."""
    from simulator.sim.job_model import LayoutRequest, pipeline_from_plan

    if scn.model is None or scn.gpu is None or scn.gpus is None:
        raise ConfigError("'model', 'gpu' and 'gpus' go together (the planner gives the iteration)")
    layout = LayoutRequest(**scn.layout.model_dump()) if scn.layout is not None else None
    planned = pipeline_from_plan(model=scn.model, gpu=scn.gpu, gpus=scn.gpus, layout=layout)
    p, m, v = planned.stages, planned.microbatches, planned.virtual_stages
    if v > 1 and m % p:
        raise ConfigError(
            f"the planner's layout has {m} microbatches for {p} stages and {v} chunks; the "
            "interleaved schedule needs a multiple of the stages: fix layout.global_batch"
        )
    return PipelineSetup(
        name=scn.name or "pipeline",
        stages=p,
        microbatches=m,
        schedule="interleaved" if v > 1 else "1f1b",
        virtual_stages=v,
        forward_s=(planned.stage_time_s / 3.0,) * p,
        backward_s=(2.0 * planned.stage_time_s / 3.0,) * p,
        p2p_s=planned.p2p_s,
        tp_comm_s=0.0,  # inside the planner's stage time
        dp_allreduce_s=planned.dp_s,
        planner_step_time_s=planned.step_time_s,
        planner_bubble_s=planned.bubble_s,
    )


def pipeline_setup(scn: PipelineScenario) -> PipelineSetup:
    """Per-stage times from the scenario (``backward_s`` defaults to 2 x ``forward_s``)."""
    if scn.model is not None:
        return _planned_setup(scn)
    if scn.forward_s is None:
        raise ConfigError("give 'forward_s' (or 'model', 'gpu' and 'gpus')")
    p = scn.stages
    fwd = tuple(scn.forward_s) if isinstance(scn.forward_s, list) else (float(scn.forward_s),) * p
    if scn.backward_s is None:
        bwd = tuple(2.0 * f for f in fwd)
    elif isinstance(scn.backward_s, list):
        bwd = tuple(scn.backward_s)
    else:
        bwd = (float(scn.backward_s),) * p
    return PipelineSetup(
        name=scn.name or "pipeline",
        stages=p,
        microbatches=scn.microbatches,
        schedule=scn.schedule,
        virtual_stages=scn.virtual_stages,
        forward_s=fwd,
        backward_s=bwd,
        p2p_s=scn.p2p_s,
        tp_comm_s=scn.tp_comm_s,
        dp_allreduce_s=scn.dp_allreduce_s,
    )


def schedule_ops(schedule: str, stages: int, microbatches: int, rank: int, chunks: int = 1) -> list[Op]:
    """The order of passes on ``rank`` for a schedule (see the module docstring)."""
    p, m = stages, microbatches
    if schedule == "gpipe":
        return [("F", i, 0) for i in range(m)] + [("B", i, 0) for i in range(m)]
    if schedule == "1f1b":
        warmup = min(p - rank - 1, m)
        ops: list[Op] = [("F", i, 0) for i in range(warmup)]
        for i in range(m - warmup):
            ops += [("F", warmup + i, 0), ("B", i, 0)]
        ops += [("B", i, 0) for i in range(m - warmup, m)]
        return ops
    v = chunks
    total = m * v

    def microbatch(k: int) -> int:
        return (k // (p * v)) * p + k % p

    def forward(k: int) -> Op:
        return ("F", microbatch(k), (k // p) % v)

    def backward(k: int) -> Op:
        return ("B", microbatch(k), v - 1 - (k // p) % v)

    warmup = min((p - rank - 1) * 2 + (v - 1) * p, total)
    ops = [forward(k) for k in range(warmup)]
    for i in range(total - warmup):
        ops += [forward(warmup + i), backward(i)]
    ops += [backward(k) for k in range(total - warmup, total)]
    return ops


def simulate_pipeline(setup: PipelineSetup, trace: list[dict[str, Any]] | None = None) -> PipelineOutcome:
    """Simulate one iteration (deterministic: there is no randomness in it).

    With ``trace`` (a list), every pass and all-reduce is appended to it as
    ``{"t_s", "end_s", "event", "rank", "microbatch", "chunk"}``.
    """
    p, m, v = setup.stages, setup.microbatches, setup.virtual_stages
    n_virtual = p * v
    env = simpy.Environment()
    # arrived[("F", mb, vs)]: activations for virtual stage vs; ("B", ...): its gradients
    arrived: dict[tuple[str, int, int], simpy.Event] = {}

    def arrival(kind: str, mb: int, vs: int) -> simpy.Event:
        key = (kind, mb, vs)
        event = arrived.get(key)
        if event is None:
            event = arrived[key] = env.event()
        return event

    links = {(r, (r + 1) % p): simpy.Resource(env) for r in range(p)}
    links.update({((r + 1) % p, r): simpy.Resource(env) for r in range(p)})
    busy = [0.0] * p
    last_backward = [0.0] * p
    finished = [0.0] * p

    def send(src: int, dst: int, event: simpy.Event) -> Any:
        with links[(src, dst)].request() as req:
            yield req
            yield env.timeout(setup.p2p_s)
        event.succeed()

    def deliver(src: int, dst: int, event: simpy.Event) -> None:
        if setup.p2p_s > 0 and src != dst:
            env.process(send(src, dst, event))
        else:
            event.succeed()

    def rank_process(rank: int) -> Any:
        ops = schedule_ops(setup.schedule, p, m, rank, v)
        f_s = setup.forward_s[rank] / v + setup.tp_comm_s / v
        b_s = setup.backward_s[rank] / v + setup.tp_comm_s / v
        for kind, mb, chunk in ops:
            vs = chunk * p + rank
            if kind == "F":
                if vs > 0:
                    yield arrival("F", mb, vs)
                start = env.now
                yield env.timeout(f_s)
                busy[rank] += f_s
                if trace is not None:
                    trace.append({"t_s": start, "end_s": env.now, "event": "forward", "rank": rank,
                                  "microbatch": mb, "chunk": chunk})
                if vs < n_virtual - 1:
                    deliver(rank, (rank + 1) % p, arrival("F", mb, vs + 1))
            else:
                if vs < n_virtual - 1:
                    yield arrival("B", mb, vs)
                start = env.now
                yield env.timeout(b_s)
                busy[rank] += b_s
                if trace is not None:
                    trace.append({"t_s": start, "end_s": env.now, "event": "backward", "rank": rank,
                                  "microbatch": mb, "chunk": chunk})
                if vs > 0:
                    deliver(rank, (rank - 1) % p, arrival("B", mb, vs - 1))
        last_backward[rank] = env.now
        if setup.dp_allreduce_s > 0:
            yield env.timeout(setup.dp_allreduce_s)
            if trace is not None:
                trace.append({"t_s": last_backward[rank], "end_s": env.now, "event": "allreduce",
                              "rank": rank})
        finished[rank] = env.now

    for rank in range(p):
        env.process(rank_process(rank))
    env.run()
    if any(t <= 0 for t in finished) and sum(setup.forward_s) + sum(setup.backward_s) > 0:
        raise InfeasibleError(
            f"the {setup.schedule} schedule deadlocked for p={p}, m={m}, v={v}; "
            "check stages, microbatches and virtual_stages"
        )
    pipeline_s = max(last_backward)
    bubble = sum(1.0 - b / pipeline_s for b in busy) / p if pipeline_s > 0 else 0.0
    per_microbatch_s = max(
        setup.forward_s[r] + setup.backward_s[r] + 2.0 * setup.tp_comm_s for r in range(p)
    )
    return PipelineOutcome(
        iteration_s=max(finished),
        pipeline_s=pipeline_s,
        busy_s=tuple(busy),
        bubble_fraction=bubble,
        closed_form_bubble_fraction=(p - 1) / (v * m + p - 1),
        closed_form_iteration_s=(m + (p - 1) / v) * per_microbatch_s + setup.dp_allreduce_s,
        ops=2 * m * v * p,
    )


def pipeline_trace(setup: PipelineSetup) -> list[dict[str, Any]]:
    """Every pass of one iteration with its start and end (for a Gantt chart), sorted by start."""
    trace: list[dict[str, Any]] = []
    simulate_pipeline(setup, trace)
    return sorted(trace, key=lambda e: (e["t_s"], e["rank"]))
