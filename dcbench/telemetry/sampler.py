"""The background sampler: reads every backend at a fixed rate while a workload runs.

Contract (the harness relies on it):

- It never raises into the workload after construction. A backend that cannot open
  is recorded as unavailable with its reason; a read that fails becomes null values
  with a reason, and the thread keeps going.
- It never blocks the workload: reads happen on a daemon thread; ``mark()`` only
  appends a mark and wakes the thread, which takes an extra sample right away so
  every phase boundary has a reading next to it. ``stop()`` joins the thread and
  takes one last sample.
- Memory is bounded: past ``max_samples`` samples, every other sample is dropped
  (samples taken at marks are kept) and the rate halves, so a long run keeps its
  whole span at a coarser rate. Counters stay exact (they are cumulative).
- Times are ``time.monotonic()`` seconds since ``start()``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence

from dcbench.errors import UsageError
from dcbench.telemetry.base import SensorBackend
from dcbench.telemetry.host import HostBackend
from dcbench.telemetry.nvml import NvmlBackend
from dcbench.telemetry.rapl import RaplBackend
from dcbench.telemetry.timeline import PhaseMark, Sample, SourceStatus, Timeline

DEFAULT_HZ = 10.0  # the default sampling rate
MAX_HZ = 1000.0  # above this a Python thread cannot keep time; use a profiler instead
DEFAULT_MAX_SAMPLES = 36_000  # one hour at 10 Hz before the first halving
_JOIN_TIMEOUT_S = 5.0


def default_backends(gpu_indices: Sequence[int] | None = None) -> list[SensorBackend]:
    """Every backend this machine might have: host (psutil), RAPL and NVML."""
    return [HostBackend(), RaplBackend(), NvmlBackend(list(gpu_indices) if gpu_indices is not None else None)]


LATE_TICK_WARN_FRACTION = 0.05  # warn when over 5% of ticks started late ...
LATE_TICK_WARN_MIN = 3  # ... and at least this many did (one late tick in a 2 s run is noise)


class Sampler:
    """Samples the host, CPU packages and GPUs on a background thread.

    ``hz`` is the sampling rate in Hz; ``gpu_indices`` picks GPUs by CUDA ordinal among
    the visible ones (None = all visible, honouring ``CUDA_VISIBLE_DEVICES``).
    """

    def __init__(
        self,
        hz: float = DEFAULT_HZ,
        gpu_indices: Sequence[int] | None = None,
        *,
        backends: Sequence[SensorBackend] | None = None,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(hz, bool) or not isinstance(hz, int | float) or not math.isfinite(hz) or not 0 < hz <= MAX_HZ:
            raise UsageError(f'"hz" must be > 0 and <= {MAX_HZ:g} (got {hz!r}); the default is {DEFAULT_HZ:g}')
        if max_samples < 16:
            raise UsageError(f'"max_samples" must be >= 16 (got {max_samples})')
        self.hz = float(hz)
        self._period_s = 1.0 / self.hz
        self._backends = list(backends) if backends is not None else default_backends(gpu_indices)
        self._max_samples = max_samples
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._active: list[SensorBackend] = []
        self._t0 = 0.0
        self._timeline: Timeline | None = None
        self._pinned: list[bool] = []
        self._failed_backends: set[str] = set()
        self._tick_s_total = 0.0
        self._tick_cpu_s_total = 0.0
        self._ticks = 0
        self._late_ticks = 0
        self._result: Timeline | None = None

    # -- public API --------------------------------------------------------------------------
    def start(self) -> None:
        """Open the backends, take the first sample and start the thread."""
        if self._timeline is not None:
            return  # already started: a second start is a no-op
        self._t0 = self._clock()
        self._timeline = Timeline(hz=self.hz, started_unix_s=time.time())
        for backend in self._backends:
            self._open(backend)
        self._take(pinned=True)
        self._thread = threading.Thread(target=self._loop, name="dcbench-telemetry", daemon=True)
        self._thread.start()

    def mark(self, name: str) -> None:
        """Start phase ``name`` now (it lasts until the next mark); never blocks."""
        if self._timeline is None:
            return
        with self._lock:
            self._timeline.marks.append(PhaseMark(name=str(name), t_s=self._clock() - self._t0))
        self._wake.set()

    def stop(self) -> Timeline:
        """Stop the thread, take a last sample, close the backends and return the timeline."""
        if self._result is not None:
            return self._result
        if self._timeline is None:
            self._result = Timeline(hz=self.hz, started_unix_s=time.time(), warnings=["sampler was never started"])
            return self._result
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=_JOIN_TIMEOUT_S)
        timeline = self._timeline
        if self._thread is not None and self._thread.is_alive():
            timeline.warnings.append(f"telemetry thread did not stop within {_JOIN_TIMEOUT_S:g} s (a sensor hung)")
        else:
            self._take(pinned=True)
            for backend in self._active:
                try:
                    backend.close()
                except Exception as err:  # closing must not fail the run
                    timeline.warnings.append(f"{backend.name} did not close cleanly: {err}")
        if self._ticks:
            timeline.tick_s_mean = self._tick_s_total / self._ticks
            timeline.tick_cpu_s_mean = self._tick_cpu_s_total / self._ticks
        # A late tick now and then (the GIL held by a long op) is normal; warn when
        # more than LATE_TICK_WARN_FRACTION of ticks, and at least LATE_TICK_WARN_MIN, were late.
        if self._late_ticks >= LATE_TICK_WARN_MIN and self._late_ticks > LATE_TICK_WARN_FRACTION * self._ticks:
            timeline.warnings.append(
                f"sampler fell behind {self.hz:g} Hz on {self._late_ticks} of {self._ticks} ticks "
                f"(mean tick {timeline.tick_s_mean or 0:.4f} s); lower --sample-hz"
            )
        self._result = timeline
        return timeline

    def read_once(self) -> Sample:
        """One reading of every open backend, not stored (benchmarks time this)."""
        sample = Sample(t_s=self._clock() - self._t0)
        for backend in self._active:
            try:
                sample.values.update(backend.read().values)
            except Exception:  # a failing sensor never reaches the caller
                continue
        return sample

    def __enter__(self) -> Sampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals ------------------------------------------------------------------------
    def _open(self, backend: SensorBackend) -> None:
        if self._timeline is None:
            return
        try:
            ok, reason = backend.available()
            details = backend.details() if ok else {}
        except Exception as err:  # a backend that crashes while opening is simply unavailable
            ok, reason, details = False, f"{backend.name} failed to open: {type(err).__name__}: {err}", {}
        self._timeline.sources.append(SourceStatus(name=backend.name, available=ok, null_reason=reason, details=details))
        if ok:
            self._active.append(backend)
            try:
                self._timeline.counter_ranges.update(backend.counter_ranges())
                self._timeline.counter_update_periods_s.update(backend.counter_update_periods_s())
            except Exception as err:
                self._timeline.warnings.append(f"{backend.name}: counter metadata unreadable: {err}")

    def _take(self, pinned: bool) -> None:
        """Read every backend into one stored sample; nothing here may raise."""
        timeline = self._timeline
        if timeline is None:
            return
        started = self._clock()
        cpu_started = time.thread_time()
        sample = Sample(t_s=started - self._t0)
        reasons: dict[str, str] = {}
        for backend in self._active:
            try:
                reading = backend.read()
            except Exception as err:  # the whole backend failed this tick
                reasons.setdefault(backend.name, f"{backend.name} read failed: {type(err).__name__}: {err}")
                if backend.name not in self._failed_backends:
                    self._failed_backends.add(backend.name)
                    timeline.warnings.append(f"{backend.name} read failed at t={sample.t_s:.2f} s: {err}")
                continue
            sample.values.update(reading.values)
            reasons.update(reading.null_reasons)
        elapsed = self._clock() - started
        cpu_used = time.thread_time() - cpu_started
        with self._lock:
            timeline.samples.append(sample)
            self._pinned.append(pinned)
            for key, reason in reasons.items():
                timeline.null_reasons.setdefault(key, reason)
            self._tick_s_total += elapsed
            self._tick_cpu_s_total += cpu_used
            self._ticks += 1
            if len(timeline.samples) >= self._max_samples:
                self._halve()

    def _halve(self) -> None:
        """Drop every other unpinned sample and halve the rate (caller holds the lock)."""
        timeline = self._timeline
        if timeline is None:
            return
        keep = [i for i in range(len(timeline.samples)) if i % 2 == 0 or self._pinned[i]]
        if len(keep) >= self._max_samples:  # marks alone fill the buffer: stop pinning them
            keep = list(range(0, len(timeline.samples), 2))
        timeline.samples = [timeline.samples[i] for i in keep]
        self._pinned = [self._pinned[i] for i in keep]
        self._period_s *= 2.0
        timeline.warnings.append(
            f"timeline reached {self._max_samples} samples: kept every other one and slowed to "
            f"{1.0 / self._period_s:g} Hz to bound memory"
        )

    def _loop(self) -> None:
        next_due = self._clock() + self._period_s
        while not self._stopping.is_set():
            woken = self._wake.wait(timeout=max(0.0, next_due - self._clock()))
            if self._stopping.is_set():
                return
            if woken:
                self._wake.clear()
            try:
                self._take(pinned=woken)
            except Exception as err:  # keep sampling whatever happens
                if self._timeline is not None:
                    self._timeline.warnings.append(f"telemetry tick failed: {type(err).__name__}: {err}")
            if not woken:
                next_due += self._period_s
                now = self._clock()
                if next_due < now:  # a tick overran: skip the missed slots
                    self._late_ticks += 1
                    next_due = now + self._period_s
