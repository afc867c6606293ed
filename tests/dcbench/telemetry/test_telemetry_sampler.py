"""The real sampler on this machine: fields, null reasons, marks, failing sensors, bounded memory."""

from __future__ import annotations

import json
import math
import threading

import psutil
import pytest

from dcbench.errors import UsageError
from dcbench.telemetry import Reading, Sampler, SensorBackend, summarize
from dcbench.telemetry.host import HostBackend, busy_percent


def test_cpu_share_arithmetic() -> None:
    assert busy_percent(0.25, 1.0) == 25.0  # 0.25 s busy of 1 s
    assert busy_percent(1.2, 1.0) == 100.0  # clock skew between fields never exceeds 100
    assert math.isnan(busy_percent(0.0, 0.0))  # no time elapsed: unknown, not 0


def _busy(n: int = 200_000) -> int:
    return sum(i * i for i in range(n))


def test_host_fields_are_real_readings() -> None:
    sampler = Sampler(hz=50.0)
    sampler.start()
    sampler.mark("measure")
    _busy()
    sampler.mark("end")
    timeline = sampler.stop()
    assert len(timeline.samples) >= 2  # start() and stop() always read; ticks and marks add more
    last = timeline.samples[-1].values
    cores = last["host.cpu_core_util_percent"]
    assert isinstance(cores, list) and len(cores) == psutil.cpu_count()
    # NaN only where no CPU time elapsed between two reads (within one clock tick): unknown, not 0.
    assert all(math.isnan(c) or 0.0 <= c <= 100.0 for c in cores)
    totals = [s.values["host.cpu_util_percent"] for s in timeline.samples]
    assert all(t is None or 0.0 <= t <= 100.0 for t in totals)  # type: ignore[operator]
    if None in totals:
        assert timeline.null_reasons["host.cpu_util_percent"] == "no CPU time elapsed since the previous sample"
    summary = summarize(timeline, "measure")
    assert summary.cpu_util_mean_percent is None or 0.0 <= summary.cpu_util_mean_percent <= 100.0
    rss = last["host.process_rss_bytes"]
    assert isinstance(rss, int) and rss > 10_000_000  # a Python process with psutil loaded
    used = last["host.memory_used_bytes"]
    assert isinstance(used, int) and 0 < used <= psutil.virtual_memory().total
    assert any(key.startswith("net.lo.") for key in last)  # the loopback interface
    counters = psutil.disk_io_counters()
    if counters is not None:
        assert isinstance(last["host.disk_read_bytes"], int)
    host = timeline.source("host")
    assert host is not None and host.available


def test_marks_are_kept_in_order_with_a_sample_at_each() -> None:
    sampler = Sampler(hz=5.0)
    sampler.start()
    for name in ("warmup", "measure", "end"):
        sampler.mark(name)
    timeline = sampler.stop()
    assert [m.name for m in timeline.marks] == ["warmup", "measure", "end"]
    times = [m.t_s for m in timeline.marks]
    assert times == sorted(times)
    sample_times = [s.t_s for s in timeline.samples]
    assert sample_times == sorted(sample_times)
    # The stop() sample comes after the last mark, so every phase has a reading at or after its start.
    assert all(any(t >= mark for t in sample_times) for mark in times)


def test_unavailable_sensors_are_null_with_a_reason_not_zero() -> None:
    with Sampler(hz=10.0) as sampler:
        sampler.mark("measure")
        _busy(50_000)
        sampler.mark("end")
    timeline = sampler.stop()  # __exit__ stopped it; stop() again returns the same timeline
    nvml = timeline.source("nvml")
    rapl = timeline.source("rapl")
    assert nvml is not None and rapl is not None
    keys = timeline.value_keys()
    summary = summarize(timeline, "measure", samples_processed=10)
    if not nvml.available:
        assert nvml.null_reason and (
            nvml.null_reason.startswith("no NVIDIA driver") or nvml.null_reason.startswith("pynvml not installed")
            or nvml.null_reason.startswith("no GPU visible")
        )
        assert not any(k.startswith("gpu") for k in keys)
        assert summary.gpu_energy_j is None and summary.gpu_power_avg_w is None
        assert summary.null_reasons["gpu_power_avg_w"] == nvml.null_reason
    if not rapl.available:
        assert rapl.null_reason and rapl.null_reason.startswith("RAPL not readable")
        assert summary.cpu_energy_j is None
        assert summary.null_reasons["cpu_energy_j"] == rapl.null_reason
    if not nvml.available and not rapl.available:
        assert summary.energy_j is None
        assert summary.energy_null_reason == f"{nvml.null_reason}; {rapl.null_reason}"
        assert summary.energy_per_sample_j is None
    # Nothing anywhere is a NaN or infinity in the stored forms.
    json.dumps(timeline.to_dict(), allow_nan=False)
    json.dumps(summary.to_dict(), allow_nan=False)


class _Exploding(SensorBackend):
    """A sensor that opens fine and then fails on every read."""

    name = "exploding"

    def __init__(self) -> None:
        self.reads = 0

    def available(self) -> tuple[bool, str | None]:
        return True, None

    def read(self) -> Reading:
        self.reads += 1
        raise OSError("sensor unplugged")


class _BrokenOpen(SensorBackend):
    name = "broken"

    def available(self) -> tuple[bool, str | None]:
        raise RuntimeError("firmware says no")

    def read(self) -> Reading:  # pragma: no cover - never called
        raise AssertionError("read() of an unavailable backend")


def test_a_failing_sensor_never_reaches_the_workload() -> None:
    exploding = _Exploding()
    sampler = Sampler(hz=20.0, backends=[HostBackend(), exploding, _BrokenOpen()])
    sampler.start()
    sampler.mark("measure")
    _busy(50_000)
    sampler.mark("end")
    timeline = sampler.stop()
    assert exploding.reads >= 2  # it kept being asked: at least at start() and stop()
    assert timeline.null_reasons["exploding"] == "exploding read failed: OSError: sensor unplugged"
    assert any("exploding read failed" in w for w in timeline.warnings)
    broken = timeline.source("broken")
    assert broken is not None and not broken.available
    assert broken.null_reason == "broken failed to open: RuntimeError: firmware says no"
    assert all("host.cpu_util_percent" in s.values for s in timeline.samples)  # the others kept going


class _Counting(SensorBackend):
    """A cheap sensor that signals once it has been read ``target`` times."""

    name = "counting"

    def __init__(self, target: int) -> None:
        self.reads = 0
        self.target = target
        self.reached = threading.Event()

    def available(self) -> tuple[bool, str | None]:
        return True, None

    def read(self) -> Reading:
        self.reads += 1
        if self.reads >= self.target:
            self.reached.set()
        return Reading(values={"counting.reads": self.reads})


def test_memory_is_bounded_by_halving() -> None:
    counting = _Counting(target=40)
    sampler = Sampler(hz=1000.0, backends=[counting], max_samples=16)
    sampler.start()
    sampler.mark("measure")
    assert counting.reached.wait(timeout=30.0), "the sampler thread never ran"
    timeline = sampler.stop()
    assert len(timeline.samples) < 16
    assert any("kept every other one" in w for w in timeline.warnings)
    reads = [s.values["counting.reads"] for s in timeline.samples]
    assert reads[0] == 1  # the first sample survives every halving
    assert reads == sorted(reads)
    assert reads[-1] == counting.reads  # and so does the last


@pytest.mark.parametrize("hz", [0, -1.0, math.nan, math.inf, 5000.0, "10"])
def test_bad_rates_are_rejected_with_the_fix(hz: object) -> None:
    with pytest.raises(UsageError, match=r'"hz" must be > 0 and <= 1000'):
        Sampler(hz=hz)  # type: ignore[arg-type]


def test_lifecycle_edges() -> None:
    sampler = Sampler(hz=10.0, backends=[HostBackend()])
    sampler.mark("ignored")  # before start: no effect, no error
    empty = Sampler(hz=10.0, backends=[]).stop()  # never started
    assert empty.samples == [] and empty.warnings == ["sampler was never started"]
    sampler.start()
    sampler.start()  # a second start is a no-op
    first = sampler.stop()
    assert sampler.stop() is first
    assert first.marks == []
    assert first.tick_cpu_s_mean is not None and first.tick_cpu_s_mean >= 0.0


class _Slow(SensorBackend):
    """A sensor whose reads take ``delay_s`` (a hung bus, a slow driver) on the reads listed."""

    name = "slow"

    def __init__(self, delay_s: float, slow_reads: set[int] | None = None, target: int = 1) -> None:
        self.delay_s = delay_s
        self.slow_reads = slow_reads  # None: every read is slow
        self.reads = 0
        self.target = target
        self.reached = threading.Event()

    def available(self) -> tuple[bool, str | None]:
        return True, None

    def read(self) -> Reading:
        self.reads += 1
        if self.slow_reads is None or self.reads in self.slow_reads:
            threading.Event().wait(self.delay_s)
        if self.reads >= self.target:
            self.reached.set()
        return Reading(values={"slow.reads": self.reads})


def test_a_sampler_that_keeps_falling_behind_says_so() -> None:
    # Every read takes 3 periods at 50 Hz: every tick overruns its slot.
    slow = _Slow(delay_s=0.06, target=8)
    sampler = Sampler(hz=50.0, backends=[slow])
    sampler.start()
    assert slow.reached.wait(timeout=30.0)
    timeline = sampler.stop()
    assert any("sampler fell behind 50 Hz" in w and "--sample-hz" in w for w in timeline.warnings)


def test_one_late_tick_in_a_short_run_is_not_a_warning() -> None:
    # Read 2 (the thread's first tick) overruns once; later reads are instant.
    slow = _Slow(delay_s=0.06, slow_reads={2}, target=12)
    sampler = Sampler(hz=50.0, backends=[slow])
    sampler.start()
    assert slow.reached.wait(timeout=30.0)
    timeline = sampler.stop()
    assert not any("fell behind" in w for w in timeline.warnings)
