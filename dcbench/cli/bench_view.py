"""Human output for ``dcbench bench``: progress bars and the results table (stderr/stdout via rich)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@contextmanager
def step_progress(workload: str, enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar over warm-up and measured steps; yields the harness's step callback."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    with _progress(console) as progress:
        task = progress.add_task(f"{workload}: starting", total=None)

        def on_step(phase: str, done: int, total: int) -> None:
            progress.update(task, description=f"{workload}: {phase}", completed=done, total=total)

        yield on_step


@contextmanager
def suite_progress(total: int, enabled: bool) -> Iterator[Callable[[str | None], None]]:
    """A progress bar over the workloads of a suite; yields ``advance(name or None)``."""
    console = Console(stderr=True)
    if not enabled:
        yield lambda _name: None
        return
    with _progress(console) as progress:
        task = progress.add_task("bench", total=total)
        started = [0]

        def advance(name: str | None) -> None:
            if started[0]:
                progress.advance(task)
            started[0] += 1
            if name is not None:
                progress.update(task, description=f"bench {name}")

        yield advance


def _fmt(value: float | None, scale: float = 1.0, digits: int = 3) -> str:
    return "-" if value is None else f"{value / scale:.{digits}g}"


def _get(summary: dict[str, Any], dotted: str) -> Any:
    node: Any = summary
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def print_summaries(summaries: list[dict[str, Any]]) -> None:
    """Print one table row per run, then any warnings and errors, to stdout."""
    console = Console()
    table = Table(title="dcbench bench", title_justify="left")
    for col in ("run", "workload", "size", "device", "dtype", "batch", "status",
                "median ms", "p95 ms", "CV", "samples/s", "tokens/s", "TFLOP/s", "MFU",
                "peak RSS MiB", "energy J"):
        table.add_column(col, justify="right" if col[0].islower() and col not in
                         ("run", "workload", "size", "device", "dtype", "status") else "left")
    for s in summaries:
        mfu = _get(s, "flops.mfu")
        cv = _get(s, "step_time_s.cv")
        table.add_row(
            str(s.get("run_id") or "-"), s["workload"], str(s.get("size")), str(s.get("device")),
            str(s.get("dtype")), str(s.get("batch_size") or "-"), s["status"],
            _fmt(_get(s, "step_time_s.median"), 1e-3), _fmt(_get(s, "step_time_s.p95"), 1e-3),
            "-" if cv is None else f"{cv:.1%}",
            _fmt(_get(s, "throughput.samples_per_s")), _fmt(_get(s, "throughput.tokens_per_s")),
            _fmt(_get(s, "flops.achieved_per_s"), 1e12), "-" if mfu is None else f"{mfu:.1%}",
            _fmt(_get(s, "memory.peak_host_rss_bytes"), 2**20, 4), _fmt(_get(s, "energy.total_j")),
        )
    console.print(table)
    for s in summaries:
        peak_source = _get(s, "flops.peak_source")
        if peak_source:
            console.print(f"[dim]{s['workload']}: MFU against {peak_source}[/dim]")
        if _get(s, "energy.null_reason"):
            console.print(f"[dim]{s['workload']}: energy not measured: {_get(s, 'energy.null_reason')}[/dim]")
        for warning in s.get("warnings") or []:
            console.print(f"[yellow]{s['workload']}: warning: {warning}[/yellow]")
        if s.get("error"):
            console.print(f"[red]{s['workload']}: {s['status']}: {str(s['error']).splitlines()[0]}[/red]")
    if not sys.stdout.isatty():
        sys.stdout.flush()
