"""The ``kind: pipeline`` scenario: one training iteration at microbatch granularity."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from simulator.sim.fields import Seconds, StrictModel
from simulator.sim.scenario import Layout


class PipelineScenario(StrictModel):
    """A pipeline-parallel iteration: ``stages`` ranks, ``microbatches`` per flush.

    Times are per microbatch and per pipeline stage (the whole stage; with
    ``virtual_stages`` v each of the v model chunks on a stage takes 1/v of it).
    A list gives one value per stage. With ``model``, ``gpu`` and ``gpus`` the
    planner gives the shape and the times instead.
    """

    kind: Literal["pipeline"]
    name: str = ""
    description: str = ""
    model: str | None = None  # catalog name or file: take the iteration from the planner
    gpu: str | None = None
    gpus: int | None = Field(default=None, gt=0)
    layout: Layout | None = None
    stages: int = Field(default=1, gt=0)  # pipeline-parallel size p
    microbatches: int = Field(default=1, gt=0)  # microbatches per flush m
    schedule: Literal["1f1b", "interleaved", "gpipe"] = "1f1b"
    virtual_stages: int = Field(default=1, gt=0)  # model chunks per stage (interleaved)
    forward_s: Seconds | list[Seconds] | None = None  # forward of one microbatch on one stage
    backward_s: Seconds | list[Seconds] | None = None  # None: 2 x forward_s
    p2p_s: Seconds = Field(default=0.0, ge=0)  # one activation/gradient send between stages
    tp_comm_s: Seconds = Field(default=0.0, ge=0)  # exposed TP comm per microbatch per stage per pass
    dp_allreduce_s: Seconds = Field(default=0.0, ge=0)  # exposed gradient all-reduce per stage

    @model_validator(mode="after")
    def _shape(self) -> PipelineScenario:
        planner = (self.model, self.gpu, self.gpus)
        if any(v is not None for v in planner):
            if any(v is None for v in planner):
                raise ValueError("'model', 'gpu' and 'gpus' go together (the planner gives the iteration)")
            given = [k for k in ("stages", "microbatches", "virtual_stages", "forward_s", "backward_s",
                                 "p2p_s", "tp_comm_s", "dp_allreduce_s", "schedule")
                     if k in self.model_fields_set]
            if given:
                raise ValueError(
                    f"drop {', '.join(given)}: with 'model' the planner gives the shape and times "
                    "(fix the layout with 'layout')"
                )
            return self
        if self.layout is not None:
            raise ValueError("'layout' needs 'model', 'gpu' and 'gpus'")
        if self.forward_s is None:
            raise ValueError("give 'forward_s' (or 'model', 'gpu' and 'gpus' for the planner's times)")
        if "stages" not in self.model_fields_set or "microbatches" not in self.model_fields_set:
            raise ValueError("give 'stages' and 'microbatches'")
        for name in ("forward_s", "backward_s"):
            value = getattr(self, name)
            if isinstance(value, list):
                if len(value) != self.stages:
                    raise ValueError(f"'{name}' lists {len(value)} values for {self.stages} stages")
                if any(v < 0 for v in value):
                    raise ValueError(f"'{name}' values must be >= 0")
            elif value is not None and value < 0:
                raise ValueError(f"'{name}' must be >= 0")
        if self.schedule == "interleaved":
            if self.virtual_stages < 2:
                raise ValueError("the interleaved schedule needs 'virtual_stages' >= 2")
            if self.microbatches % self.stages:
                raise ValueError(
                    f"the interleaved schedule needs 'microbatches' ({self.microbatches}) to be a "
                    f"multiple of 'stages' ({self.stages})"
                )
        elif self.virtual_stages != 1:
            raise ValueError(
                f"'virtual_stages' {self.virtual_stages} needs 'schedule: interleaved'"
            )
        return self
