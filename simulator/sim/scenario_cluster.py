"""The ``kind: cluster`` scenario: a shared cluster, a job mix, a scheduler and failures."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from simulator.sim.fields import Seconds, StrictModel, switchable
from simulator.sim.scenario import Checkpoint, Failures


class ClusterJob(StrictModel):
    """One job of an explicit job list (e.g. a long pre-training run)."""

    name: str
    gpus: int = Field(gt=0)  # rounded up to whole nodes
    work_s: Seconds = Field(gt=0)  # healthy compute time the job needs
    submit_s: Seconds = Field(default=0.0, ge=0)  # submission time after the start
    checkpoint_bytes: float = Field(default=0.0, ge=0)  # size of one checkpoint


class Arrivals(StrictModel):
    """A Poisson stream of jobs with random sizes and lognormal compute times."""

    per_hour: float = Field(gt=0)  # mean job submissions per hour
    gpus: list[int] = Field(min_length=1)  # job sizes to draw from (rounded up to whole nodes)
    gpus_weights: list[float] | None = None  # relative weights of ``gpus``; None: equal
    work_median_s: Seconds = Field(gt=0)  # median healthy compute time of a job
    work_sigma: float = Field(default=1.0, ge=0)  # lognormal shape (sd of ln work)
    work_max_s: Seconds | None = Field(default=None, gt=0)  # cap on drawn compute time
    checkpoint_bytes: float = Field(default=0.0, ge=0)  # size of one checkpoint

    @model_validator(mode="after")
    def _weights(self) -> Arrivals:
        if any(g <= 0 for g in self.gpus):
            raise ValueError("every entry of 'gpus' must be > 0")
        if self.gpus_weights is not None:
            if len(self.gpus_weights) != len(self.gpus):
                raise ValueError(
                    f"'gpus_weights' has {len(self.gpus_weights)} entries but 'gpus' has {len(self.gpus)}"
                )
            if any(w < 0 for w in self.gpus_weights) or sum(self.gpus_weights) <= 0:
                raise ValueError("'gpus_weights' must be >= 0 and not all zero")
        return self


class ClusterCheckpoint(Checkpoint):
    """Checkpoints of every job; writes of all jobs share the storage bandwidth."""

    interval_s: Literal["auto"] | Annotated[Seconds, Field(gt=0)] = 3600.0


class ClusterScenario(StrictModel):
    """A shared cluster over ``duration_days``: utilisation, queueing and goodput."""

    kind: Literal["cluster"]
    name: str = ""
    description: str = ""
    gpus: int = Field(gt=0)  # GPUs in the cluster
    gpu: str | None = None  # catalog name or file, for gpus_per_node
    gpus_per_node: int | None = Field(default=None, gt=0)  # None: from gpu, else 8
    duration_days: float = Field(gt=0)  # simulated window
    scheduler: Literal["fifo", "backfill"] = "backfill"
    jobs: list[ClusterJob] = Field(default_factory=list)
    arrivals: Annotated[Arrivals | None, BeforeValidator(switchable)] = None
    failures: Annotated[Failures | None, BeforeValidator(switchable)] = Field(
        default_factory=Failures
    )
    restart_s: Seconds | None = Field(default=None, ge=0)  # whole downtime per failure
    repair_s: Seconds = Field(default=3 * 86400.0, gt=0)  # a replaced node's time out of service
    checkpoint: Annotated[ClusterCheckpoint | None, BeforeValidator(switchable)] = Field(
        default_factory=ClusterCheckpoint
    )
    goodput_bucket_s: Seconds = Field(default=86400.0, gt=0)  # width of goodput-over-time bins

    @model_validator(mode="after")
    def _has_jobs(self) -> ClusterScenario:
        if not self.jobs and self.arrivals is None:
            raise ValueError("give 'jobs' (a list) or 'arrivals' (a job stream), or both")
        return self
