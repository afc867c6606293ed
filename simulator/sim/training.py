"""The SimPy engine for one training job (``kind: training``), one replica at a time.

Processes: the job, one aggregate failure process (all causes, all components),
one maintenance process and a repair process per replaced server; the spare pool
is a SimPy ``Container``. Event counts do not grow with the number of GPUs or
steps: failures are drawn from the aggregate rate (the cause is picked in
proportion to its rate), and the job crosses a whole stretch of training -- every
checkpoint up to the next interruption or the end -- in one timeout, working out
afterwards where in its checkpoint cycle the interruption fell.

The checkpoint cycle, in training wall time: ``interval_s`` of training, then
``blocking_s`` stopped for the checkpoint (the write if blocking, a snapshot if
async); the checkpoint is safe ``durable_after_s`` later (0 if blocking, the write
if async). An interruption loses the training since the last safe checkpoint. A
failure during a restart starts the restart over (Daly 2006's model).

Time accounting of a replica (seconds; they add up to ``wall_s``): ``useful_s``
(training whose work was kept, including straggler slowdown), ``checkpoint_s``
(time stopped for checkpoints, including checkpoints cut short), ``lost_work_s``,
``restart_s`` (downtime after failures, including waits for spares) and
``maintenance_s`` (planned downtime).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import simpy

from dcbench.errors import InfeasibleError
from simulator.sim.replica import CountingEnvironment, replica_rngs
from simulator.sim.setup import MAX_SLOWDOWN, CauseRate, TrainingSetup


@dataclass(slots=True, kw_only=True)
class TrainingOutcome:
    """What one replica measured (seconds and counts)."""

    wall_s: float = 0.0  # simulated wall time (to completion, or the window)
    completed: bool = False  # the job finished its tokens
    work_fraction: float = 0.0  # share of the job's healthy compute done (kept or in flight)
    time_to_train_s: float | None = None  # completion time, or projected from the window
    useful_s: float = 0.0
    checkpoint_s: float = 0.0
    lost_work_s: float = 0.0
    restart_s: float = 0.0
    maintenance_s: float = 0.0
    spare_wait_s: float = 0.0  # part of restart_s spent waiting for a spare server
    straggler_s: float = 0.0  # part of useful_s caused by stragglers
    unexpected: int = 0
    planned: int = 0
    checkpoints: int = 0  # checkpoints that became safe
    by_cause: dict[str, int] = field(default_factory=dict)
    events: int = 0  # SimPy events processed (does not grow with GPUs or steps)
    timeline: list[dict[str, Any]] | None = None

    @property
    def effective_training_time_fraction(self) -> float:
        """Useful training time over wall time (the Llama 3 paper's "effective training time")."""
        return self.useful_s / self.wall_s if self.wall_s > 0 else 1.0


class _Job:
    """The job process and its bookkeeping for one replica."""

    def __init__(self, env: simpy.Environment, setup: TrainingSetup, rngs: list[np.random.Generator], record: bool):
        self.env = env
        self.setup = setup
        self.out = TrainingOutcome(timeline=[] if record else None)
        self.rng_straggler = rngs[2]
        self.work_total_s = setup.job.compute_s
        self.work_left_s = self.work_total_s  # healthy compute not yet kept
        self.done = env.event()
        self.finished = False
        self.phase = "run"
        # run phase state
        self.run_start = 0.0
        self.run_factor = 1.0  # wall seconds of training per healthy compute second
        self.run_end_s = 0.0  # planned length of this run if not interrupted
        self.run_checkpoints = 0
        # down phase state
        self.mark = 0.0  # start of the not-yet-accounted part of the down phase
        self.down_start = 0.0  # when the current down phase began
        self.down_until = 0.0
        self.maint_until = -math.inf
        self.save_until: float | None = None
        self.pending_save_s = 0.0
        self.spares_owed = 0
        self.spare_pool: simpy.Container | None = None
        if setup.spares is not None:
            n = setup.spares.nodes
            self.spare_pool = simpy.Container(env, capacity=max(n, 1), init=n)
        self.process = env.process(self.run())

    # -- helpers -------------------------------------------------------------
    def log(self, event: str, **details: Any) -> None:
        if self.out.timeline is not None:
            self.out.timeline.append({"t_s": float(self.env.now), "event": event, **details})

    def start_run(self) -> None:
        setup = self.setup
        factor = 1.0
        if setup.stragglers is not None:
            model = setup.stragglers
            steps_left = max(self.work_left_s / setup.job.step_time_s, 1.0)
            ck = setup.checkpoint
            if ck is not None and math.isfinite(ck.interval_s):
                steps_left = max(min(steps_left, ck.interval_s / setup.job.step_time_s), 1.0)
            noise = model.step_sd_fraction * float(self.rng_straggler.standard_normal()) / math.sqrt(steps_left)
            factor = max(model.inflation + noise, 1e-6)
        self.run_factor = factor
        need_s = self.work_left_s * factor
        ck = setup.checkpoint
        self.run_checkpoints = 0
        if ck is not None and math.isfinite(ck.interval_s):
            self.run_checkpoints = max(math.ceil(need_s / ck.interval_s - 1e-12) - 1, 0)
            need_s += self.run_checkpoints * ck.blocking_s
        self.run_start = self.env.now
        self.run_end_s = need_s
        self.phase = "run"

    def settle_run(self, elapsed: float, *, window_end: bool = False) -> float:
        """Account a run cut at ``elapsed``; return the unsaved training wall time."""
        ck = self.setup.checkpoint
        if ck is not None and math.isfinite(ck.interval_s):
            cycle = ck.interval_s + ck.blocking_s
            n = min(int(elapsed // cycle), self.run_checkpoints)
            rem = elapsed - n * cycle
            trained = n * ck.interval_s + min(rem, ck.interval_s)
            stalled = n * ck.blocking_s + max(rem - ck.interval_s, 0.0)
            safe = n if rem >= ck.durable_after_s else max(n - 1, 0)
            if self.out.timeline is not None:
                for j in range(1, safe + 1):
                    stop = self.run_start + j * cycle - ck.blocking_s  # training stops for it
                    self.out.timeline.append(
                        {"t_s": stop + ck.blocking_s + ck.durable_after_s, "event": "checkpoint",
                         "started_s": stop}
                    )
        else:
            trained, stalled, safe = elapsed, 0.0, 0
        saved = safe * (ck.interval_s if ck is not None else 0.0)
        if window_end:
            saved = trained  # the job is still running: nothing is lost yet
        else:
            self.out.checkpoints += safe
        self.keep(saved)
        self.out.checkpoint_s += stalled
        return trained - saved

    def keep(self, wall_s: float) -> None:
        """Training wall time whose work is now safe."""
        self.out.useful_s += wall_s
        self.out.straggler_s += wall_s * (1.0 - 1.0 / self.run_factor)
        self.work_left_s = max(self.work_left_s - wall_s / self.run_factor, 0.0)

    def allocate_down(self) -> None:
        """Charge the down time since ``mark`` to checkpoint, maintenance or restart."""
        now = self.env.now
        start = self.mark
        if self.save_until is not None:
            return  # the save phase is charged when it ends
        maint_part = max(min(now, self.maint_until) - start, 0.0)
        self.out.maintenance_s += maint_part
        self.out.restart_s += (now - start) - maint_part
        self.mark = now

    # -- events from the other processes ----------------------------------------
    def failure(self, cause: CauseRate) -> None:
        self.out.unexpected += 1
        self.out.by_cause[cause.name] = self.out.by_cause.get(cause.name, 0) + 1
        if cause.replace_node and self.spare_pool is not None and self.setup.spares is not None:
            self.env.process(self.repair(self.setup.spares.repair_s))
        self.process.interrupt(("failure", cause))

    def maintenance(self) -> None:
        self.out.planned += 1
        self.process.interrupt(("maintenance", None))

    def repair(self, repair_s: float) -> Any:
        yield self.env.timeout(repair_s)
        assert self.spare_pool is not None
        if self.spare_pool.level < self.spare_pool.capacity:
            yield self.spare_pool.put(1)

    # -- phase transitions ---------------------------------------------------------
    def interrupted_run(self, what: str, cause: CauseRate | None) -> None:
        now = self.env.now
        unsaved = self.settle_run(now - self.run_start)
        self.phase = "down"
        self.down_start = now
        self.mark = now
        maint = self.setup.maintenance
        if what == "failure":
            assert cause is not None
            self.out.lost_work_s += unsaved
            self.log("failure", cause=cause.name, lost_work_s=unsaved)
            self.down_until = now + cause.downtime_s
            self.spares_owed += int(cause.replace_node and self.spare_pool is not None)
            return
        assert maint is not None
        self.log("maintenance", unsaved_s=unsaved)
        ck = self.setup.checkpoint
        if maint.checkpoint_first and ck is not None and unsaved > 0:
            self.pending_save_s = unsaved
            self.save_until = now + ck.write_s
            now = self.save_until
        else:
            self.out.lost_work_s += unsaved
        self.mark = now
        self.maint_until = now + maint.duration_s
        self.down_until = self.maint_until

    def interrupted_down(self, what: str, cause: CauseRate | None) -> None:
        now = self.env.now
        lost = 0.0
        if self.save_until is not None and what == "failure":  # the save before maintenance is cut
            write_s = self.setup.checkpoint.write_s if self.setup.checkpoint else 0.0
            self.out.checkpoint_s += now - (self.save_until - write_s)
            lost = self.pending_save_s
            self.out.lost_work_s += lost
            self.pending_save_s = 0.0
            shift = self.save_until - now  # maintenance starts now instead of after the save
            self.save_until = None
            self.maint_until -= shift
            self.down_until -= shift
            self.mark = now
        if self.save_until is None:
            self.allocate_down()
        maint = self.setup.maintenance
        if what == "failure":
            assert cause is not None
            self.log("failure", cause=cause.name, lost_work_s=lost)
            self.spares_owed += int(cause.replace_node and self.spare_pool is not None)
            if now < self.maint_until:
                self.down_until = max(self.down_until, now + cause.downtime_s)
            else:
                self.down_until = now + cause.downtime_s  # the restart starts over
        elif maint is not None:
            self.log("maintenance", unsaved_s=0.0)
            self.maint_until = max(self.maint_until, now + maint.duration_s)
            self.down_until = max(self.down_until, self.maint_until)

    def end_save(self) -> None:
        assert self.save_until is not None
        write_s = self.setup.checkpoint.write_s if self.setup.checkpoint else 0.0
        self.out.checkpoint_s += write_s
        self.keep(self.pending_save_s)
        self.out.checkpoints += 1
        self.log("checkpoint", started_s=self.env.now - write_s)
        self.pending_save_s = 0.0
        self.save_until = None
        self.mark = self.env.now

    # -- the job process -------------------------------------------------------------
    def run(self) -> Any:
        env = self.env
        self.log("start")
        while True:
            self.start_run()
            try:
                yield env.timeout(self.run_end_s)
            except simpy.Interrupt as intr:
                what, cause = _event(intr)
                self.interrupted_run(what, cause)
            else:
                unsaved = self.settle_run(self.run_end_s)
                self.keep(unsaved)
                self.work_left_s = 0.0
                self.finished = True
                self.log("complete")
                self.done.succeed()
                return
            while True:  # down phase: save (maintenance), wait for spares, restart
                get: Any = None
                waited_from = env.now
                try:
                    if self.save_until is not None:
                        yield env.timeout(self.save_until - env.now)
                        self.end_save()
                    while self.spares_owed > 0 and self.spare_pool is not None:
                        waited_from = env.now
                        get = self.spare_pool.get(1)
                        yield get
                        get = None
                        self.spares_owed -= 1
                        if env.now > waited_from:
                            # no spare was left: the whole restart runs after one is repaired
                            self.out.spare_wait_s += env.now - waited_from
                            self.log("spare_arrived", waited_s=env.now - waited_from)
                            self.down_until = env.now + max(self.down_until - waited_from, 0.0)
                    if self.down_until > env.now:
                        yield env.timeout(self.down_until - env.now)
                    self.allocate_down()
                    self.log("resume", down_s=env.now - self.down_start)
                    break
                except simpy.Interrupt as intr:
                    if get is not None:
                        self.out.spare_wait_s += env.now - waited_from
                        if get.triggered:  # the spare came in at this very moment
                            self.spares_owed -= 1
                        else:
                            get.cancel()
                    what, cause = _event(intr)
                    self.interrupted_down(what, cause)

    def finish_window(self) -> None:
        """Account the state at the end of the window (the job keeps running after it)."""
        now = self.env.now
        if self.phase == "run":
            self.settle_run(now - self.run_start, window_end=True)
        elif self.save_until is not None:
            write_s = self.setup.checkpoint.write_s if self.setup.checkpoint else 0.0
            self.out.checkpoint_s += now - (self.save_until - write_s)
            self.keep(self.pending_save_s)
            self.save_until = None
            self.mark = now
        else:
            self.allocate_down()
        self.log("window_end")


def _event(intr: simpy.Interrupt) -> tuple[str, CauseRate | None]:
    """The (kind, cause) an interrupt carries: ("failure", cause) or ("maintenance", None)."""
    return cast(tuple[str, CauseRate | None], intr.cause)


def _failure_process(env: simpy.Environment, job: _Job, causes: tuple[CauseRate, ...], rng: np.random.Generator) -> Any:
    total = sum(c.rate_per_s for c in causes)
    cumulative = np.cumsum([c.rate_per_s for c in causes]) / total
    mean_gap_s = 1.0 / total
    while True:
        yield env.timeout(float(rng.exponential(mean_gap_s)))
        if job.finished:
            return
        index = int(np.searchsorted(cumulative, rng.random(), side="right"))
        job.failure(causes[min(index, len(causes) - 1)])


def _maintenance_process(env: simpy.Environment, job: _Job, rate_per_s: float, rng: np.random.Generator) -> Any:
    mean_gap_s = 1.0 / rate_per_s
    while True:
        yield env.timeout(float(rng.exponential(mean_gap_s)))
        if job.finished:
            return
        job.maintenance()


def simulate_training(setup: TrainingSetup, *, seed: int, replica: int, record: bool = False) -> TrainingOutcome:
    """Run one replica of a training scenario and return its outcome.

    Deterministic for a given (setup, seed, replica). ``record`` keeps a timeline
    of events (start, checkpoint, failure, maintenance, resume, complete, window_end).
    """
    rngs = replica_rngs(seed, replica)
    env = CountingEnvironment()
    job = _Job(env, setup, rngs, record)
    if setup.causes:
        env.process(_failure_process(env, job, setup.causes, rngs[0]))
    if setup.maintenance is not None and setup.maintenance.rate_per_s > 0:
        env.process(_maintenance_process(env, job, setup.maintenance.rate_per_s, rngs[1]))
    horizon_s = setup.window_s if setup.window_s is not None else MAX_SLOWDOWN * job.work_total_s
    env.run(until=env.any_of([job.done, env.timeout(horizon_s)]))
    if setup.window_s is None and not job.finished:
        raise InfeasibleError(
            f"replica {replica} did not finish within {MAX_SLOWDOWN:g}x the healthy compute time; "
            "the scenario loses work faster than it makes it (more spares, shorter restarts, "
            "more frequent checkpoints), or set window_days"
        )
    out = job.out
    if not job.finished:
        job.finish_window()
    out.wall_s = env.now
    out.events = env.events
    out.completed = job.finished
    work_done = job.work_total_s - job.work_left_s
    out.work_fraction = work_done / job.work_total_s if job.work_total_s > 0 else 1.0
    if job.finished:
        out.time_to_train_s = env.now
    elif work_done > 0:
        out.time_to_train_s = env.now * job.work_total_s / work_done
    if out.timeline is not None:
        out.timeline.sort(key=lambda e: e["t_s"])
    return out
