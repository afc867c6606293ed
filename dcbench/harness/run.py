"""Run one workload: warm-up, timed steps with device sync, telemetry, FLOP counts; store the run.

Each measured step is timed from just before ``train_step()`` until the device
has finished its work (``torch.cuda.synchronize`` on GPUs), so queued kernels
are charged to the step that issued them. Warm-up steps are excluded from every
statistic but stay visible in the telemetry timeline under the ``warmup`` mark.
"""

from __future__ import annotations

import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from dcbench.errors import UsageError
from dcbench.harness.config import BenchConfig
from dcbench.harness.device import (
    device_name,
    is_out_of_memory,
    out_of_memory_message,
    peak_device_memory,
    reset_peak_memory,
    resolve_device,
    synchronize,
    tensor_to_float,
)

if TYPE_CHECKING:
    from workloads.base import Workload, WorkloadConfig

StepCallback = Callable[[str, int, int], None]  # (phase, steps done, steps total)


@dataclass(kw_only=True, slots=True)
class RunMeasurements:
    """Everything measured in one run, before it is summarised."""

    config: BenchConfig
    device: str
    device_name: str
    batch_size: int
    param_count: int | None = None
    tokens_per_step: int | None = None
    step_times_s: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    analytic_flops_per_step: float | None = None
    counted_flops_per_step: float | None = None
    counted_flops_note: str | None = None  # why the count cannot match (e.g. attention counted as 0)
    peak_device_allocated_bytes: int | None = None
    peak_device_reserved_bytes: int | None = None
    peak_host_rss_bytes: int | None = None
    auto_batch: dict[str, Any] | None = None
    input_pipeline: dict[str, Any] | None = None
    timeline: Any = None  # dcbench.telemetry Timeline
    telemetry_summary: Any = None  # dcbench.telemetry TelemetrySummary
    status: str = "running"
    error: str | None = None
    error_traceback: str | None = None


def _peak_rss_bytes() -> int:
    """Peak resident set size of this process (Linux reports ru_maxrss in KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _workload_config(config: BenchConfig, device: str, batch_size: int | None) -> WorkloadConfig:
    from workloads.base import WorkloadConfig

    return WorkloadConfig(
        size=config.size,
        batch_size=batch_size,
        dtype=config.dtype,
        device=device,
        seed=config.seed,
        compile=config.compile,
        channels_last=config.channels_last,
        data_dir=config.data_dir,
        num_workers=config.num_workers,
    )


def _build(config: BenchConfig, device: str, batch_size: int | None) -> Workload:
    from workloads.registry import create

    return create(config.workload, _workload_config(config, device, batch_size))


def _auto_batch(config: BenchConfig, device: str) -> tuple[int, dict[str, Any]]:
    from dcbench.harness.autobatch import find_max_batch
    from workloads.registry import default_batch_size

    def try_batch(batch: int) -> int:
        reset_peak_memory(device)
        rss_before = _peak_rss_bytes()
        workload = _build(config, device, batch)
        try:
            for _ in range(2):
                workload.train_step()
            synchronize(device)
        finally:
            workload.close()
        allocated, _ = peak_device_memory(device)
        return allocated if allocated is not None else max(_peak_rss_bytes() - rss_before, 1)

    result = find_max_batch(try_batch, default_batch_size(config.workload, config.size), device)
    return result.batch_size, {
        "batch_size": result.batch_size,
        "method": result.method,
        "tried": [{"batch_size": b, "fits": ok} for b, ok in result.tried],
    }


def validate_names(config: BenchConfig) -> None:
    """Raise a UsageError for an unknown workload, size or dtype before anything runs."""
    from dcbench.errors import unknown
    from workloads.base import DTYPES, SIZES
    from workloads.registry import WORKLOAD_NAMES

    if config.workload not in WORKLOAD_NAMES:
        raise unknown("workload", config.workload, WORKLOAD_NAMES)
    if config.size not in SIZES:
        raise unknown("size", config.size, SIZES)
    if config.dtype not in DTYPES:
        raise unknown("dtype", config.dtype, DTYPES)


def _energy_gpus(device: str) -> list[str]:
    """The telemetry GPUs whose energy is the run's: ``cuda:N`` -> ["gpuN"] (the sampler keys
    GPUs by CUDA ordinal among the visible ones, as torch numbers them); none for a CPU run."""
    if not device.startswith("cuda"):
        return []
    return [f"gpu{device.split(':', 1)[1] if ':' in device else 0}"]


def check_config(config: BenchConfig, *, scan_images: bool = True) -> None:
    """Every check of ``config`` that needs no device and runs nothing; raises a UsageError.

    Numbers, names, options a workload does not take (``--channels-last`` on mlp,
    ``--data-dir`` on gpt) and, with ``scan_images``, the image folder. ``dcbench
    bench all`` calls this for every workload before the first one starts, so bad
    input stops the suite before anything is stored.
    """
    from workloads.registry import validate

    config.validate()
    validate_names(config)
    validate(config.workload, _workload_config(config, "cpu", config.batch_size))
    if scan_images and config.data_dir is not None:
        from workloads.images import scan_image_folder

        scan_image_folder(config.data_dir)


def measure(
    config: BenchConfig,
    on_step: StepCallback | None = None,
    on_start: Callable[[RunMeasurements], None] | None = None,
) -> RunMeasurements:
    """Run the workload described by ``config`` and return what was measured.

    Errors during the run never escape: out-of-memory is recorded as status
    ``oom``, Ctrl-C as ``interrupted`` (with the steps measured so far) and any
    other error as ``failed``. Bad input (unknown workload, size, dtype or
    device, an unreadable image folder) raises a UsageError before
    ``on_start`` is called, so nothing is stored for it.
    """
    from dcbench.telemetry import Sampler, summarize

    check_config(config, scan_images=False)  # the image folder is scanned when the workload is built
    device = resolve_device(config.device)
    run = RunMeasurements(
        config=config.with_device(device),
        device=device,
        device_name=device_name(device),
        batch_size=config.batch_size or 0,
    )
    sampler = Sampler(hz=config.sample_hz)
    workload: Workload | None = None
    sampler.start()
    try:
        batch_size = config.batch_size
        if config.auto_batch:
            sampler.mark("auto-batch")
            batch_size, run.auto_batch = _auto_batch(config, device)
        workload = _build(config, device, batch_size)
        run.batch_size = workload.batch_size
        run.config = replace(run.config, batch_size=workload.batch_size)
        run.param_count = workload.param_count
        run.tokens_per_step = workload.tokens_per_step
        run.analytic_flops_per_step = float(workload.analytic_flops_per_step())
        reset_peak_memory(device)
        if on_start:
            on_start(run)

        sampler.mark("warmup")
        losses = []
        for i in range(config.warmup):
            losses.append(workload.train_step())
            if on_step:
                on_step("warmup", i + 1, config.warmup)
        synchronize(device)

        sampler.mark("measure")
        for i in range(config.steps):
            start = time.perf_counter()
            losses.append(workload.train_step())
            synchronize(device)
            run.step_times_s.append(time.perf_counter() - start)
            if on_step:
                on_step("measure", i + 1, config.steps)
        sampler.mark("end")
        run.losses = [tensor_to_float(loss) for loss in losses]
        run.peak_device_allocated_bytes, run.peak_device_reserved_bytes = peak_device_memory(device)
        run.counted_flops_per_step = float(workload.counted_flops_per_step())
        run.counted_flops_note = workload.counted_flops_note()
        stats = workload.input_pipeline_stats()
        if stats is not None:
            run.input_pipeline = {
                "samples": stats.samples,
                "bytes_read": stats.bytes_read,
                "bytes_read_per_sample": stats.bytes_read_per_sample,
                "loader_wait_s": stats.wait_s,
                "samples_per_s": stats.samples_per_s,
            }
        run.status = "ok"
    except UsageError:
        raise
    except KeyboardInterrupt:
        run.status = "interrupted"
        run.error = f"interrupted (Ctrl-C) after {len(run.step_times_s)} measured steps"
    except Exception as err:  # recorded in the run; one failure never kills a suite
        if is_out_of_memory(err):
            run.status = "oom"
            batch = run.batch_size or config.batch_size
            where = f" at batch size {batch}" if batch else ""
            run.error = (
                f"out of memory{where}: {out_of_memory_message(err)}; "
                "use a smaller --batch-size or --batch-size auto"
            )
        else:
            run.status = "failed"
            run.error = f"{type(err).__name__}: {err}"
            run.error_traceback = traceback.format_exc()
    finally:
        run.timeline = sampler.stop()
        run.peak_host_rss_bytes = _peak_rss_bytes()
        if workload is not None:
            workload.close()
    n_steps = len(run.step_times_s)
    run.telemetry_summary = summarize(
        run.timeline,
        phase="measure",
        samples_processed=n_steps * run.batch_size,
        tokens_processed=n_steps * run.tokens_per_step if run.tokens_per_step else None,
        energy_gpus=_energy_gpus(device),
    )
    return run
