"""Human output for ``dcbench bench``: progress bars and the results table (stderr/stdout via rich)."""

from __future__ import annotations

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


def _notes(summaries: list[dict[str, Any]]) -> list[str]:
    """Per-run notes, with a note shared by every run printed once."""
    per_run: list[tuple[str, str]] = []
    for s in summaries:
        name = s["workload"]
        if _get(s, "flops.peak_source"):
            per_run.append((name, f"[dim]MFU against {_get(s, 'flops.peak_source')}[/dim]"))
        if _get(s, "flops.counter_note"):
            per_run.append((name, f"[dim]FLOP count: {_get(s, 'flops.counter_note')}[/dim]"))
        if _get(s, "energy.null_reason"):
            per_run.append((name, f"[dim]energy not measured: {_get(s, 'energy.null_reason')}[/dim]"))
        for warning in s.get("warnings") or []:
            per_run.append((name, f"[yellow]warning: {warning}[/yellow]"))
        if s.get("error"):
            per_run.append((name, f"[red]{s['status']}: {str(s['error']).splitlines()[0]}[/red]"))
    names = {s["workload"] for s in summaries}
    shared = [note for note in dict.fromkeys(n for _, n in per_run)
              if len(names) > 1 and {w for w, n in per_run if n == note} == names]
    lines = [f"all: {note}" for note in shared]
    lines += [f"{w}: {n}" for w, n in per_run if n not in shared]
    return lines


def print_summaries(summaries: list[dict[str, Any]]) -> None:
    """Print one table row per run, then the notes (peak source, energy, warnings, errors)."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 140))  # files and pipes: don't squeeze the table
    table = Table(title="dcbench bench", title_justify="left", show_edge=False)
    for col in ("workload", "run", "status", "batch", "step ms", "p95 ms", "samples/s",
                "tokens/s", "TFLOP/s", "MFU", "RSS MiB", "energy J"):
        table.add_column(col, justify="left" if col in ("workload", "run", "status") else "right",
                         no_wrap=True)
    for s in summaries:
        mfu = _get(s, "flops.mfu")
        table.add_row(
            s["workload"], f"{s.get('size')} {s.get('device')} {s.get('dtype')}", s["status"],
            str(s.get("batch_size") or "-"),
            _fmt(_get(s, "step_time_s.median"), 1e-3), _fmt(_get(s, "step_time_s.p95"), 1e-3),
            _fmt(_get(s, "throughput.samples_per_s")), _fmt(_get(s, "throughput.tokens_per_s")),
            _fmt(_get(s, "flops.achieved_per_s"), 1e12), "-" if mfu is None else f"{mfu:.1%}",
            _fmt(_get(s, "memory.peak_host_rss_bytes"), 2**20, 4), _fmt(_get(s, "energy.total_j")),
        )
    console.print(table)
    for line in _notes(summaries):
        console.print(line)
    stored = [s["run_id"] for s in summaries if s.get("run_id")]
    if stored:
        console.print(f"[dim]stored {len(stored)} run(s): {', '.join(stored)} (dcbench results show RUN)[/dim]")
