"""The ``kind: training`` scenario and the blocks it shares with ``kind: cluster``.

Every field, its unit and its default is documented in docs/simulate.md. Defaults
that are not published figures are marked "dcbench assumption" there and here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from simulator.sim.failure_table import planned_rate_per_day
from simulator.sim.fields import Count, Seconds, StrictModel, switchable

# Meta's Tectonic file system behind the Llama 3 cluster sustains 2 TB/s
# (arXiv:2407.21783 §3.3.1; 7 TB/s peak). Used as the default aggregate storage
# bandwidth for checkpoint writes and reads, in bytes per second.
TECTONIC_SUSTAINED_BYTES_PER_S = 2e12

RATE_FIELDS = ("per_gpu_day", "per_node_day", "per_switch_day", "per_job_day", "mtbf_s")


class FailureCause(StrictModel):
    """One failure cause: a rate (exactly one of the rate fields) and how recovery goes.

    A cause named like a row of the default table may leave the rate out to keep
    the table's rate and change only ``detect_s``, ``restart_s`` or ``replace_node``.
    """

    per_gpu_day: float | None = Field(default=None, ge=0)  # failures per GPU per day
    per_node_day: float | None = Field(default=None, ge=0)  # failures per server per day
    per_switch_day: float | None = Field(default=None, ge=0)  # failures per ToR switch per day
    per_job_day: float | None = Field(default=None, ge=0)  # failures per day for the whole job
    mtbf_s: Seconds | None = Field(default=None, gt=0)  # whole-job mean time between failures
    detect_s: Seconds | None = Field(default=None, ge=0)  # None: failures.detect_s
    restart_s: Seconds | None = Field(default=None, ge=0)  # None: failures.restart_s
    replace_node: bool | None = None  # None: the table's value (False for new causes)

    @model_validator(mode="after")
    def _one_rate(self) -> FailureCause:
        given = [name for name in RATE_FIELDS if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give one rate, not {len(given)}: {', '.join(given)}")
        return self


class Failures(StrictModel):
    """Unexpected interruptions: the default table, extra causes, or one aggregate process."""

    mtbf_s: Seconds | None = Field(default=None, gt=0)  # one aggregate process; replaces the table
    table: Literal["llama3", "none"] = "llama3"  # default per-cause rates (Llama 3 Table 5)
    causes: dict[str, FailureCause] = Field(default_factory=dict)  # added to / overriding the table
    scale: float = Field(default=1.0, ge=0)  # multiplies every rate
    detect_s: Seconds = Field(default=120.0, ge=0)  # dcbench assumption: time to notice a hang
    restart_s: Seconds = Field(default=480.0, ge=0)  # dcbench assumption: reschedule + init
    replace_node: bool = False  # for the aggregate ``mtbf_s`` process
    gpus_per_switch: int = Field(default=16, gt=0)  # GPUs under one ToR switch (Llama 3 §3.3.1)

    @model_validator(mode="after")
    def _one_form(self) -> Failures:
        if self.mtbf_s is not None and self.causes:
            raise ValueError("give either 'mtbf_s' (one aggregate process) or 'causes', not both")
        return self


class Checkpoint(StrictModel):
    """Periodic checkpoints. ``interval_s`` is training time between checkpoints (not the write)."""

    interval_s: Literal["auto"] | Annotated[Seconds, Field(gt=0)] = "auto"  # auto: Young/Daly
    mode: Literal["blocking", "async"] = "blocking"
    write_s: Seconds | None = Field(default=None, ge=0)  # None: bytes / write bandwidth
    load_s: Seconds | None = Field(default=None, ge=0)  # None: bytes / read bandwidth
    snapshot_s: Seconds = Field(default=0.0, ge=0)  # blocking part of an async checkpoint
    storage_write_bytes_per_s: float = Field(default=TECTONIC_SUSTAINED_BYTES_PER_S, gt=0)
    storage_read_bytes_per_s: float | None = Field(default=None, gt=0)  # None: = write
    writer_bytes_per_s: float | None = Field(default=None, gt=0)  # per-node link; None: no limit
    bytes: float | None = Field(default=None, ge=0)  # None: the planner's checkpoint size


class Maintenance(StrictModel):
    """Planned interruptions: Poisson arrivals at ``per_day`` for the job, each ``duration_s`` long."""

    # Llama 3: 47 planned interruptions in 54 days (arXiv:2407.21783 §3.3.4).
    per_day: float = Field(default_factory=planned_rate_per_day, ge=0)
    duration_s: Seconds = Field(default=600.0, ge=0)  # dcbench assumption: stop, work, restart
    checkpoint_first: bool = True  # save a checkpoint before stopping (no work lost)


class Spares(StrictModel):
    """A pool of hot-spare servers; a node-replacement failure takes one or waits for a repair."""

    nodes: int = Field(ge=0)  # hot-spare servers in the pool
    repair_s: Seconds = Field(default=3 * 86400.0, gt=0)  # dcbench assumption: 3 days


class Stragglers(StrictModel):
    """Per-step jitter of each worker and the slowest-of-N effect of a synchronous step."""

    cv: float = Field(default=0.01, ge=0)  # dcbench assumption: 1% per-worker step-time CV
    distribution: Literal["normal", "lognormal"] = "normal"
    workers: int | None = Field(default=None, gt=0)  # None: one worker per GPU


class Layout(StrictModel):
    """A fixed parallel layout for the planner (omitted fields: the planner's choice)."""

    tp: int | None = Field(default=None, gt=0)
    pp: int | None = Field(default=None, gt=0)
    cp: int | None = Field(default=None, gt=0)
    microbatch: int | None = Field(default=None, gt=0)
    global_batch: int | None = Field(default=None, gt=0)
    virtual_stages: int | None = Field(default=None, gt=0)  # interleaved 1F1B model chunks


class JobOverride(StrictModel):
    """Job figures given directly (instead of, or on top of, the planner's)."""

    step_time_s: Seconds | None = Field(default=None, gt=0)
    tokens_per_step: Count | None = Field(default=None, gt=0)
    checkpoint_bytes: float | None = Field(default=None, ge=0)
    gpus_per_node: int | None = Field(default=None, gt=0)


_Off = BeforeValidator(switchable)


class TrainingScenario(StrictModel):
    """One training job on a cluster, simulated to completion or over ``window_days``."""

    kind: Literal["training"]
    name: str = ""
    description: str = ""
    model: str | None = None  # catalog name or model file (planner)
    tokens: Count = Field(gt=0)  # tokens to train on
    gpu: str | None = None  # catalog name or hardware file (planner)
    gpus: int = Field(gt=0)
    layout: Layout | None = None
    job: JobOverride | None = None
    window_days: float | None = Field(default=None, gt=0)  # None: run to completion
    restart_s: Seconds | None = Field(default=None, ge=0)  # whole downtime per failure
    failures: Annotated[Failures | None, _Off] = Field(default_factory=Failures)
    maintenance: Annotated[Maintenance | None, _Off] = Field(default_factory=Maintenance)
    checkpoint: Annotated[Checkpoint | None, _Off] = Field(default_factory=Checkpoint)
    stragglers: Annotated[Stragglers | None, _Off] = Field(default_factory=Stragglers)
    spares: Annotated[Spares | None, _Off] = None  # None: unlimited hot spares

    @model_validator(mode="after")
    def _job_source(self) -> TrainingScenario:
        planner = self.model is not None or self.gpu is not None
        if planner and (self.model is None or self.gpu is None):
            missing = "gpu" if self.gpu is None else "model"
            raise ValueError(f"'model' and 'gpu' go together; add '{missing}'")
        if not planner:
            job = self.job
            if job is None or job.step_time_s is None or job.tokens_per_step is None:
                raise ValueError(
                    "say what to train: give 'model' and 'gpu' (planner) or "
                    "'job: {step_time_s, tokens_per_step}'"
                )
        return self
