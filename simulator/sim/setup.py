"""Turn a validated training scenario into the engine's plain inputs (:class:`TrainingSetup`).

This is where rates get scaled to the job's size, checkpoint write and load times
come from the checkpoint size and the storage bandwidth, ``interval_s: auto``
becomes Daly's optimum, and the planner is asked for the job (once, in the parent
process; the replicas only see plain numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from dcbench.errors import ConfigError, InfeasibleError
from simulator.sim.failure_table import LLAMA3_TABLE5, table_rate_per_day
from simulator.sim.job_model import JobModel, LayoutRequest, job_from_plan
from simulator.sim.scenario import RATE_FIELDS, Checkpoint, Failures, TrainingScenario
from simulator.sim.stragglers import StragglerModel, straggler_model
from simulator.sim.young_daly import (
    daly_interval_s,
    expected_job_wall_s,
    expected_segment_s,
    young_interval_s,
)

SECONDS_PER_DAY = 86400.0
# A job expected to need more than this many times its healthy compute time is
# reported as infeasible instead of being simulated failure by failure.
MAX_SLOWDOWN = 1000.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CauseRate:
    """One failure cause for this job: its rate and the downtime it causes."""

    name: str
    rate_per_s: float  # for the whole job, failures per second
    downtime_s: float  # downtime per failure (before any wait for a spare)
    replace_node: bool  # recovery takes a spare server


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckpointPlan:
    """Resolved checkpoint policy, in seconds."""

    interval_s: float  # training wall time between checkpoints (math.inf: never)
    write_s: float  # time to write one checkpoint to storage
    blocking_s: float  # time training stops per checkpoint (write_s, or snapshot_s if async)
    durable_after_s: float  # after the stop, time until the checkpoint is safe (0, or write_s)
    load_s: float  # time to read the checkpoint back on restart
    mode: str  # "blocking" or "async"
    young_s: float | None  # Young's interval for this job (None without failures)
    daly_s: float | None  # Daly's interval for this job (None without failures)


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenancePlan:
    """Planned interruptions: Poisson arrivals at ``rate_per_s``, ``duration_s`` down each."""

    rate_per_s: float
    duration_s: float
    checkpoint_first: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SparePool:
    """Hot-spare servers and the repair time of a failed one, seconds."""

    nodes: int
    repair_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingSetup:
    """Everything one replica of a training simulation needs (plain, picklable data)."""

    name: str
    job: JobModel
    causes: tuple[CauseRate, ...]
    maintenance: MaintenancePlan | None
    checkpoint: CheckpointPlan | None
    stragglers: StragglerModel | None
    spares: SparePool | None
    window_s: float | None

    @property
    def failure_rate_per_s(self) -> float:
        """Aggregate rate of unexpected interruptions for the job, per second."""
        return sum(c.rate_per_s for c in self.causes)

    @property
    def mtbf_s(self) -> float | None:
        """Mean time between unexpected interruptions of the job, seconds (None if none)."""
        rate = self.failure_rate_per_s
        return 1.0 / rate if rate > 0 else None

    @property
    def mean_downtime_s(self) -> float | None:
        """Rate-weighted mean downtime per unexpected interruption, seconds."""
        rate = self.failure_rate_per_s
        if rate <= 0:
            return None
        return sum(c.rate_per_s * c.downtime_s for c in self.causes) / rate


def resolve_job(scn: TrainingScenario) -> JobModel:
    """The job: the planner's answer (if ``model``/``gpu``) with ``job:`` overrides on top."""
    override = scn.job
    ck_bytes = scn.checkpoint.bytes if scn.checkpoint is not None else None
    if scn.model is not None and scn.gpu is not None:
        layout = scn.layout
        if layout is not None:
            product = (layout.tp or 1) * (layout.pp or 1) * (layout.cp or 1)
            if scn.gpus % product:
                raise ConfigError(
                    f"layout tp x pp x cp = {product} does not divide gpus {scn.gpus}; "
                    "change the layout or the GPU count"
                )
        request = LayoutRequest(**layout.model_dump()) if layout is not None else None
        job = job_from_plan(model=scn.model, tokens=scn.tokens, gpu=scn.gpu, gpus=scn.gpus, layout=request)
    else:
        if override is None or override.step_time_s is None or override.tokens_per_step is None:
            raise ConfigError("give 'model' and 'gpu', or 'job: {step_time_s, tokens_per_step}'")
        job = JobModel(
            step_time_s=override.step_time_s,
            tokens_per_step=override.tokens_per_step,
            total_tokens=scn.tokens,
            checkpoint_bytes=0.0,
            gpus=scn.gpus,
        )
    changes: dict[str, object] = {}
    if override is not None:
        for name in ("step_time_s", "tokens_per_step", "checkpoint_bytes", "gpus_per_node"):
            value = getattr(override, name)
            if value is not None:
                changes[name] = value
    if ck_bytes is not None:
        changes["checkpoint_bytes"] = ck_bytes
    return replace(job, **changes) if changes else job  # type: ignore[arg-type]


def _components(job: JobModel, failures: Failures) -> dict[str, float]:
    return {
        "per_gpu_day": float(job.gpus),
        "per_node_day": float(job.nodes),
        "per_switch_day": math.ceil(job.gpus / failures.gpus_per_switch),
        "per_job_day": 1.0,
    }


def resolve_causes(
    job: JobModel, failures: Failures | None, *, load_s: float, restart_override_s: float | None
) -> tuple[CauseRate, ...]:
    """Per-cause rates for this job's size, and each cause's downtime.

    Downtime is ``restart_override_s`` when the scenario sets a top-level
    ``restart_s`` (the whole downtime per failure); otherwise detection + restart
    + checkpoint load.
    """
    if failures is None:
        return ()
    components = _components(job, failures)

    def downtime(detect_s: float | None, restart_s: float | None) -> float:
        if restart_override_s is not None:
            return restart_override_s
        detect = failures.detect_s if detect_s is None else detect_s
        restart = failures.restart_s if restart_s is None else restart_s
        return detect + restart + load_s

    if failures.mtbf_s is not None:
        if failures.causes:
            raise ConfigError(
                "failures: give either 'mtbf_s' (one aggregate process) or 'causes', not both"
            )
        return (
            CauseRate(
                name="failure",
                rate_per_s=failures.scale / failures.mtbf_s,
                downtime_s=downtime(None, None),
                replace_node=failures.replace_node,
            ),
        )
    result: dict[str, CauseRate] = {}
    if failures.table == "llama3":
        for row in LLAMA3_TABLE5:
            per_s = table_rate_per_day(row) * components[f"per_{row.scope}_day"] / SECONDS_PER_DAY
            result[row.name] = CauseRate(
                name=row.name,
                rate_per_s=per_s * failures.scale,
                downtime_s=downtime(None, None),
                replace_node=row.replace_node,
            )
    for name, cause in failures.causes.items():
        base = result.get(name)
        rate_field = next((f for f in RATE_FIELDS if getattr(cause, f) is not None), None)
        if rate_field is None:
            if base is None:
                raise ConfigError(
                    f"failures.causes.{name}: new cause needs a rate: one of {', '.join(RATE_FIELDS)}"
                )
            rate_per_s = base.rate_per_s
        elif rate_field == "mtbf_s":
            rate_per_s = failures.scale / float(cause.mtbf_s)  # type: ignore[arg-type]
        else:
            value = float(getattr(cause, rate_field))
            rate_per_s = failures.scale * value * components[rate_field] / SECONDS_PER_DAY
        replace_node = cause.replace_node
        if replace_node is None:
            replace_node = base.replace_node if base is not None else False
        result[name] = CauseRate(
            name=name,
            rate_per_s=rate_per_s,
            downtime_s=downtime(cause.detect_s, cause.restart_s),
            replace_node=replace_node,
        )
    return tuple(c for c in result.values() if c.rate_per_s > 0)


def _write_s(ck: Checkpoint, job: JobModel) -> float | None:
    if ck.write_s is not None:
        return ck.write_s
    if job.checkpoint_bytes <= 0:
        return None
    bandwidth = ck.storage_write_bytes_per_s
    if ck.writer_bytes_per_s is not None:
        bandwidth = min(bandwidth, ck.writer_bytes_per_s * job.nodes)
    return job.checkpoint_bytes / bandwidth


def _load_s(ck: Checkpoint, job: JobModel) -> float:
    if ck.load_s is not None:
        return ck.load_s
    bandwidth = ck.storage_read_bytes_per_s or ck.storage_write_bytes_per_s
    if ck.writer_bytes_per_s is not None:
        bandwidth = min(bandwidth, ck.writer_bytes_per_s * job.nodes)
    return job.checkpoint_bytes / bandwidth


def resolve_checkpoint(
    ck: Checkpoint | None, job: JobModel, mtbf_s: float | None, where: str = "checkpoint"
) -> CheckpointPlan | None:
    """The checkpoint policy in seconds; ``interval_s: auto`` becomes Daly's optimum."""
    if ck is None:
        return None
    write_s = _write_s(ck, job)
    if write_s is None:
        raise ConfigError(
            f"{where}: cannot size the checkpoint write; give {where}.write_s, {where}.bytes, "
            "or model and gpu so the planner can size it"
        )
    blocking_s = write_s if ck.mode == "blocking" else ck.snapshot_s
    young = daly = None
    if mtbf_s is not None and blocking_s > 0:
        young = young_interval_s(checkpoint_s=blocking_s, mtbf_s=mtbf_s)
        daly = daly_interval_s(checkpoint_s=blocking_s, mtbf_s=mtbf_s)
    if ck.interval_s == "auto":
        if mtbf_s is None:
            interval = math.inf  # nothing fails: never pay for a checkpoint
        elif daly is None:  # free checkpoints: as often as the write allows
            interval = max(write_s, 1.0)
        else:
            interval = daly if ck.mode == "blocking" else max(daly, write_s)
    else:
        interval = float(ck.interval_s)
    if ck.mode == "async" and write_s > interval:
        raise ConfigError(
            f"{where}: async write_s {write_s:.4g} s exceeds interval_s {interval:.4g} s, so writes "
            "would overlap; raise interval_s or use mode: blocking"
        )
    return CheckpointPlan(
        interval_s=interval,
        write_s=write_s,
        blocking_s=blocking_s,
        durable_after_s=0.0 if ck.mode == "blocking" else write_s,
        load_s=_load_s(ck, job),
        mode=ck.mode,
        young_s=young,
        daly_s=daly,
    )


def training_setup(scn: TrainingScenario, *, job: JobModel | None = None) -> TrainingSetup:
    """Resolve a training scenario (asking the planner unless ``job`` is given)."""
    job = job or resolve_job(scn)
    load_s = _load_s(scn.checkpoint, job) if scn.checkpoint is not None else 0.0
    causes = resolve_causes(job, scn.failures, load_s=load_s, restart_override_s=scn.restart_s)
    rate = sum(c.rate_per_s for c in causes)
    checkpoint = resolve_checkpoint(scn.checkpoint, job, 1.0 / rate if rate > 0 else None)
    maintenance = None
    if scn.maintenance is not None and scn.maintenance.per_day > 0:
        maintenance = MaintenancePlan(
            rate_per_s=scn.maintenance.per_day / SECONDS_PER_DAY,
            duration_s=scn.maintenance.duration_s,
            checkpoint_first=scn.maintenance.checkpoint_first,
        )
    stragglers = None
    if scn.stragglers is not None and scn.stragglers.cv > 0:
        workers = scn.stragglers.workers or job.gpus
        stragglers = straggler_model(
            cv=scn.stragglers.cv, workers=workers, distribution=scn.stragglers.distribution
        )
    spares = None
    if scn.spares is not None:
        spares = SparePool(nodes=scn.spares.nodes, repair_s=scn.spares.repair_s)
    if scn.window_days is None:
        check_feasible(job, causes, checkpoint)
    return TrainingSetup(
        name=scn.name or "training",
        job=job,
        causes=causes,
        maintenance=maintenance,
        checkpoint=checkpoint,
        stragglers=stragglers,
        spares=spares,
        window_s=scn.window_days * SECONDS_PER_DAY if scn.window_days is not None else None,
    )



def check_feasible(job: JobModel, causes: tuple[CauseRate, ...], checkpoint: CheckpointPlan | None) -> None:
    """Refuse a job whose expected run time (Daly's closed form) is hopeless.

    With an MTBF far below the time between checkpoints the job almost never
    gets through a segment; simulating it to completion would take millions of
    failures. Raises :class:`InfeasibleError` naming the fix.
    """
    rate = sum(c.rate_per_s for c in causes)
    if rate <= 0:
        return
    mtbf_s = 1.0 / rate
    downtime_s = sum(c.rate_per_s * c.downtime_s for c in causes) / rate
    if checkpoint is not None and math.isfinite(checkpoint.interval_s):
        expected_s = expected_job_wall_s(
            total_work_s=job.compute_s, interval_s=checkpoint.interval_s,
            checkpoint_s=checkpoint.blocking_s + checkpoint.durable_after_s, mtbf_s=mtbf_s,
            restart_s=downtime_s,
        )
        segment_s = checkpoint.interval_s + checkpoint.blocking_s + checkpoint.durable_after_s
    else:
        expected_s = expected_segment_s(work_s=job.compute_s, mtbf_s=mtbf_s, restart_s=downtime_s)
        segment_s = job.compute_s
    if expected_s > MAX_SLOWDOWN * job.compute_s:
        raise InfeasibleError(
            f"the job would take over {MAX_SLOWDOWN:g}x its healthy compute time: MTBF {mtbf_s:.4g} s "
            f"against {segment_s:.4g} s of work between safe points; checkpoint more often "
            "(checkpoint.interval_s: auto), cut the downtime, or set window_days"
        )
