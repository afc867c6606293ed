"""Human output of ``dcbench plan``: a summary grid, three small tables and the notes.

Laid out for terminals from 80 columns up: labels on the left and values that wrap
under their own column; the candidate table drops its breakdown column below
``WIDE`` columns (the winner's breakdown is in the summary either way).
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from simulator.units import format_bytes, format_count, format_duration, format_rate

WIDE = 110  # columns from which the candidate table also shows each layout's breakdown
HIDDEN_SHARE = 0.0005  # step-time parts below this share (0.05%) are left out


def pct(share: float) -> str:
    """A share as a percentage with one decimal; rounding noise never shows as '-0.0%'."""
    value = 100.0 * share
    if abs(value) < 0.05:
        value = 0.0
    return f"{value:.1f}%"


def layout_label(par: Any) -> str:
    """'tp8 pp16 dp64 mb1 v8 zero1 none+sp': context parallelism shown only when used."""
    parts = [f"tp{par.tp}", f"pp{par.pp}", f"dp{par.dp}"]
    if par.cp > 1:
        parts.append(f"cp{par.cp}")
    parts.append(f"mb{par.microbatch}")
    if par.virtual_stages > 1:
        parts.append(f"v{par.virtual_stages}")
    parts.append(f"zero{par.zero_stage}")
    parts.append(par.recompute + ("+sp" if par.sequence_parallel else ""))
    return " ".join(parts)


def step_parts(breakdown: Any, step_time_s: float) -> str:
    """'compute 84.7% · tp comm 4.6% · ...': the visible parts of the step, largest first."""
    shares = breakdown.shares(step_time_s)
    visible = sorted(((v, k.replace("_", " ")) for k, v in shares.items() if v >= HIDDEN_SHARE), reverse=True)
    return " · ".join(f"{name} {pct(v)}" for v, name in visible) or "compute 100.0%"


def catalog_table(title: str) -> Table:
    """A borderless table with a rule under its header and one space between columns."""
    return Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
        padding=(0, 1), collapse_padding=True,
    )


def wrap_pieces(pieces: list[str], width: int) -> str:
    """Join ``pieces`` with ' · ', breaking lines only between pieces (never inside '12.5 TB')."""
    lines: list[str] = []
    for piece in pieces:
        if lines and len(lines[-1]) + 3 + len(piece) <= width:
            lines[-1] += " · " + piece
        else:
            lines.append(piece)
    return "\n".join(lines)


def plural(count: int, one: str, many: str) -> str:
    """'1 switch', '1,484 switches'."""
    return f"{count:,} {one if count == 1 else many}"


def _with_source(pieces: list[str], source: str) -> list[str]:
    return [*pieces[:-1], f"{pieces[-1]} ({source})"]


def _grid(rows: list[tuple[str, list[str]]], width: int) -> Table:
    """Labels on the left, values wrapped piece by piece in the remaining width."""
    label_width = max(len(label) for label, _ in rows)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, pieces in rows:
        grid.add_row(label, wrap_pieces(pieces, max(width - label_width - 2, 20)))
    return grid


def _summary(r: Any, width: int) -> Table:
    par, thr, mem = r.parallelism, r.throughput, r.memory_per_gpu_bytes
    plural = "es" if par.microbatches != 1 else ""
    fit = "fits" if r.fits else "DOES NOT FIT"
    return _grid(
        [
            ("layout", [layout_label(par)]),
            ("batch", [f"{par.global_batch:,} sequences x {r.model.seq_len:,} tokens",
                       f"{par.microbatches} microbatch{plural} per step"]),
            ("step", [format_duration(thr.step_time_s), f"{format_count(thr.tokens_per_s)} tokens/s", f"MFU {pct(thr.mfu)}",
                      f"{format_rate(thr.achieved_flops_per_gpu, 'FLOP/s')} per GPU incl. recompute"]),
            ("step time", _with_source(step_parts(r.breakdown, thr.step_time_s).split(" · "), r.breakdown.source)),
            ("time to train", [format_duration(r.time_to_train_s), f"{format_count(r.gpu_hours)} GPU-hours"]),
            ("FLOPs", [f"model {r.flops.training_flops:.3g}", f"hardware {r.flops.hardware_flops:.3g}",
                       f"6ND {r.flops.six_nd_flops:.3g}"]),
            ("memory", [f"{format_bytes(mem.total)} of {format_bytes(mem.usable)} usable per GPU ({fit})"]),
        ],
        width,
    )


def _memory(r: Any) -> Table:
    mem = r.memory_per_gpu_bytes
    table = catalog_table("memory per GPU")
    names = ("weights", "grads", "optimizer", "activations", "overhead", "total", "usable")
    values = (mem.weights, mem.gradients, mem.optimizer, mem.activations, mem.overhead, mem.total, mem.usable)
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_row(*(format_bytes(v) for v in values))
    return table


def _sizing(r: Any, width: int) -> Table:
    net, sto, pw, cost = r.network, r.storage, r.power, r.cost
    return _grid(
        [
            ("network", [f"{net.nics:,} NICs x {format_rate(net.nic_bits_per_s, 'b/s')}",
                         plural(net.switches, "switch", "switches"), plural(net.links, "link", "links"), f"bisection {format_rate(net.required_bisection_bytes_per_s, 'B/s')}",
                         f"{net.bound}-bound"]),
            ("storage", [f"dataset {format_bytes(sto.dataset_bytes)}", f"checkpoint {format_bytes(sto.checkpoint_bytes)} "
                         f"(write {format_rate(sto.checkpoint_write_bytes_per_s, 'B/s')})",
                         f"capacity {format_bytes(sto.capacity_bytes)}"]),
            ("power", [f"IT {format_rate(pw.it_w, 'W')}", f"facility {format_rate(pw.facility_w, 'W')}",
                       f"{pw.energy_j / 3.6e9:,.0f} MWh", plural(pw.racks, "rack", "racks"), f"{pw.carbon_kg / 1000:,.0f} t CO2"]),
            ("cost", [f"${cost.total_usd:,.0f} ({cost.pricing})", f"${cost.usd_per_gpu_hour:.2f} per GPU-hour"]),
        ],
        width,
    )


def _candidates(r: Any, width: int) -> Table:
    wide = width >= WIDE
    table = catalog_table(f"top {len(r.candidates)} layouts on {r.gpus:,} GPUs")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("layout", no_wrap=True)
    for name in ("step", "MFU", "time", "memory"):
        table.add_column(name, justify="right", no_wrap=True)
    if wide:
        table.add_column("breakdown", overflow="fold")
    for c in r.candidates:
        row = [
            str(c.rank), layout_label(c.parallelism), format_duration(c.throughput.step_time_s), pct(c.throughput.mfu),
            format_duration(c.time_to_train_s), format_bytes(c.memory_per_gpu_bytes.total),
        ]
        if wide:
            row.append(c.explanation.split(" | ")[0])
        table.add_row(*row)
    return table


def print_plan(result: Any, console: Console | None = None) -> None:
    """Print the human summary of a :class:`simulator.result.PlanResult` on stdout
    (or on ``console``), without the trailing spaces rich pads table rows with."""
    screen = console or Console(highlight=False)
    with screen.capture() as captured:
        _render(result, screen)
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    screen.file.write(text + "\n")
    screen.file.flush()


def _render(r: Any, out: Console) -> None:
    out.print(
        f"[bold]{r.model.name}[/] ({format_count(r.model.params)} params) · {format_count(r.tokens)} tokens · "
        f"{r.gpus:,} x {r.hardware.name} ({r.nodes:,} nodes, {r.fabric.name})"
    )
    if r.deadline_s is not None:
        out.print(f"fewest GPUs that finish within {format_duration(r.deadline_s)} (objective: {r.objective})")
    out.print()
    out.print(_summary(r, out.width))
    out.print()
    out.print(_memory(r))
    out.print()
    out.print(_sizing(r, out.width))
    out.print()
    out.print(_candidates(r, out.width))
    if r.notes:
        notes = Table.grid(padding=(0, 1))
        notes.add_column(no_wrap=True)
        notes.add_column(overflow="fold")
        for note in r.notes:
            notes.add_row("note:", note)
        out.print()
        out.print(notes)
