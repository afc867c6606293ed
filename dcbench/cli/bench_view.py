"""Human output for ``dcbench bench``: progress bars and the results table (stderr/stdout via rich)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich import box
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
    """A progress bar over the workloads of a suite (terminal stderr only); yields ``advance(name or None)``."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
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


_SI_PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def si(value: float | None) -> str:
    """A number with 3 significant digits and an SI prefix: 1234 -> '1.23k', 7.6e10 -> '76.0G'."""
    if value is None:
        return "-"
    magnitude = abs(value)
    for scale, prefix in _SI_PREFIXES:
        if magnitude >= scale * 0.9995:  # 999.6 rounds to '1.00k', not '1e+03'
            return f"{_three(value / scale)}{prefix}"
    return _three(value)


def _three(value: float) -> str:
    """Three significant digits without exponent notation for 0.001 <= |value| < 1000."""
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 99.95:
        return f"{value:.0f}"
    if magnitude >= 9.995:
        return f"{value:.1f}"
    if magnitude >= 0.9995:
        return f"{value:.2f}"
    if magnitude >= 0.001:
        return f"{value:.3g}"
    return f"{value:.2g}"


def percent(ratio: float | None) -> str:
    """A ratio as a percentage with 3 significant digits: 0.2165 -> '21.6%', 6e-5 -> '0.006%'."""
    if ratio is None:
        return "-"
    return f"{_three(ratio * 100.0)}%"


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


def _shared_setup(summaries: list[dict[str, Any]]) -> str | None:
    """'tiny, cpu (Intel Xeon), fp32' when every run shares size, device and dtype, else None."""
    keys = {(s.get("size"), s.get("device"), s.get("dtype")) for s in summaries}
    if len(keys) != 1:
        return None
    size, device, dtype = next(iter(keys))
    names = {s.get("device_name") for s in summaries if s.get("device_name")}
    where = f"{device} ({names.pop()})" if len(names) == 1 else str(device)
    return f"{size}, {where}, {dtype}"


# (header, summary key, formatter); two-line headers keep the table inside an
# 80-column terminal.
_COLUMNS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("batch", "batch_size", lambda v: "-" if not v else str(v)),
    ("step\nms", "step_time_s.median", lambda v: si(None if v is None else v * 1e3)),
    ("p95\nms", "step_time_s.p95", lambda v: si(None if v is None else v * 1e3)),
    ("samples\n/s", "throughput.samples_per_s", si),
    ("tokens\n/s", "throughput.tokens_per_s", si),
    ("FLOP/s", "flops.achieved_per_s", si),
    ("MFU", "flops.mfu", percent),
    ("RSS\nMiB", "memory.peak_host_rss_bytes", lambda v: "-" if v is None else f"{v / 2**20:.0f}"),
    ("GPU\nGiB", "memory.peak_device_bytes", lambda v: "-" if v is None else _three(v / 2**30)),
    ("energy\nJ", "energy.total_j", si),
)

# Columns left out first when the terminal is too narrow for all of them.
_DROP_ORDER = ("p95\nms", "RSS\nMiB", "FLOP/s", "batch", "GPU\nGiB")


def _width(cells: list[str]) -> int:
    return max(len(line) for cell in cells for line in cell.split("\n"))


def _fit(
    columns: list[tuple[str, str, Callable[[Any], str]]], summaries: list[dict[str, Any]], room: int
) -> list[tuple[str, str, Callable[[Any], str]]]:
    """Leave out columns in ``_DROP_ORDER`` until the rest fit in ``room`` characters."""

    def needed(cols: list[tuple[str, str, Callable[[Any], str]]]) -> int:
        return sum(_width([h, *(f(_get(s, k)) for s in summaries)]) + 2 for h, k, f in cols)

    kept = list(columns)
    for header in _DROP_ORDER:
        if needed(kept) <= room:
            break
        kept = [c for c in kept if c[0] != header]
    return kept


_STATUS_STYLE = {"ok": "green", "failed": "red", "oom": "red", "interrupted": "yellow"}


def print_summaries(summaries: list[dict[str, Any]]) -> None:
    """Print one table row per run, then the notes (peak source, energy, warnings, errors).

    Columns that no run has a value for (tokens/s for image workloads, GPU memory
    on a CPU, energy where nothing can measure it) are left out; the notes say why.
    """
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=max(console.width, 120))  # files and pipes
    setup = _shared_setup(summaries)
    title = f"dcbench bench: {setup}" if setup else "dcbench bench"
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    table.add_column("workload", no_wrap=True)
    if setup is None:
        table.add_column("run", no_wrap=True)
    table.add_column("status", no_wrap=True)
    columns = [c for c in _COLUMNS if any(_get(s, c[1]) is not None for s in summaries)]
    fixed = [["workload", *(str(s.get("workload")) for s in summaries)],
             ["status", *(str(s.get("status")) for s in summaries)]]
    if setup is None:
        fixed.append([f"{s.get('size')} {s.get('device')} {s.get('dtype')}" for s in summaries])
    columns = _fit(columns, summaries, console.width - sum(_width(c) + 2 for c in fixed))
    for header, _key, _fmt in columns:
        table.add_column(header, justify="right", no_wrap=True)
    for s in summaries:
        status = str(s.get("status"))
        style = _STATUS_STYLE.get(status)
        cells = [str(s.get("workload"))]
        if setup is None:
            cells.append(f"{s.get('size')} {s.get('device')} {s.get('dtype')}")
        cells.append(f"[{style}]{status}[/]" if style else status)
        cells += [fmt(_get(s, key)) for _header, key, fmt in columns]
        table.add_row(*cells)
    console.print(f"[bold]{title}[/bold]")
    console.print(table)
    for line in _notes(summaries):
        console.print(line)
    stored = [s["run_id"] for s in summaries if s.get("run_id")]
    if len(stored) == 1:
        console.print(f"[dim]stored run {stored[0]}; details: dcbench results show {stored[0]}[/dim]")
    elif stored:
        console.print(f"[dim]stored {len(stored)} runs; list them: dcbench results list --limit {len(stored)}[/dim]")
