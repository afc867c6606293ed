"""``dcbench results``: list, show and export the runs in the results store.

Reading never creates a store: a missing store reads as an empty one. Output
files are written to a temporary name and renamed, so a failed export never
leaves a half-written file at ``--out``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from dcbench.cli.options import add_json_option, add_store_option, print_json, resolve_store_path
from dcbench.errors import NotFoundError, UsageError, unknown
from dcbench.store import STATUSES, ResultsStore, RunRecord, process_alive
from dcbench.store.export import (
    FORMATS,
    Table,
    check_format,
    flatten,
    json_records,
    runs_table,
    steps_table,
    write_csv,
    write_json,
    write_parquet,
)
from dcbench.store.records import IndexedColumns

STATUS_STYLE = {"ok": "green", "failed": "red", "oom": "red", "interrupted": "yellow", "running": "cyan"}
DASH = "-"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "results",
        help="list, show and export stored benchmark runs",
        description="Read the runs in the results store (see docs/store.md).",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    lst = actions.add_parser("list", help="a table of stored runs, newest first")
    _add_filters(lst)
    add_store_option(lst)
    add_json_option(lst)
    lst.set_defaults(func=run_list)

    show = actions.add_parser("show", help="everything stored about one run")
    show.add_argument("run", metavar="RUN", help="a run id, a unique prefix of one, or 'latest'")
    show.add_argument("--timeline", action="store_true", help="with --json: include the telemetry timeline")
    add_store_option(show)
    add_json_option(show)
    show.set_defaults(func=run_show)

    exp = actions.add_parser("export", help="write runs as CSV, JSON or Parquet")
    exp.add_argument("--format", default="csv", help=f"{' | '.join(FORMATS)} (default csv)")
    exp.add_argument("--out", default="-", metavar="PATH", help="output file, or - for stdout (default -)")
    exp.add_argument("--steps", action="store_true", help="per-step times: one row per step (csv, parquet) "
                     "or a step_times_s list per run (json)")
    _add_filters(exp)
    add_store_option(exp)
    exp.set_defaults(func=run_export)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="at most N runs (newest)")
    parser.add_argument("--workload", default=None, help="only this workload")
    parser.add_argument("--status", default=None, help=f"only this status ({', '.join(STATUSES)})")


def _open_existing(args: argparse.Namespace) -> ResultsStore | None:
    """The store named by the options, or None when no store file exists there yet."""
    try:
        return ResultsStore.open(resolve_store_path(args), create=False)
    except NotFoundError:  # no file, or an empty one: nothing stored yet
        return None


def _filtered_runs(args: argparse.Namespace) -> tuple[Path, list[RunRecord], ResultsStore | None]:
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be a positive number of runs, got {args.limit}")
    if args.status is not None and args.status not in STATUSES:
        raise unknown("run status", args.status, STATUSES)
    store = _open_existing(args)
    if store is None:
        return resolve_store_path(args), [], None
    runs = store.list_runs(limit=args.limit, workload=args.workload, status=args.status)
    return store.path, runs, store


def _empty_note(path: Path) -> str:
    return f"No runs stored in {path} yet. Record one with: dcbench bench mlp"


# ---- list ------------------------------------------------------------------------------
def _fmt(value: float | None, spec: str) -> str:
    return DASH if value is None else format(value, spec)


def _when(iso: str) -> str:
    """'2026-12-01T02:53:00.123456+00:00' -> '2026-12-01 02:53:00Z'."""
    return iso[:19].replace("T", " ") + "Z"


def _list_row(record: RunRecord) -> dict[str, Any]:
    cols = IndexedColumns.from_summary(record.summary)
    return {
        "run_id": record.run_id,
        "created_at": record.created_at,
        "status": record.status,
        "workload": record.workload,
        "size": record.size,
        "device": record.device,
        "dtype": record.dtype,
        "label": record.label,
        "n_steps": record.n_steps,
        "n_samples": record.n_samples,
        "median_step_time_s": cols.median_step_time_s,
        "samples_per_s": cols.samples_per_s,
        "tokens_per_s": cols.tokens_per_s,
        "mfu": cols.mfu,
        "energy_j": cols.energy_j,
    }


def _console() -> Any:
    from rich.console import Console

    # On a pipe, let tables take their natural width instead of wrapping at 80 columns.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def run_list(args: argparse.Namespace) -> int:
    path, runs, store = _filtered_runs(args)
    if store is not None:
        store.close()
    if args.json:
        print_json([_list_row(r) for r in runs])
        return 0
    if not runs:
        print(_empty_note(path) if store is None or not (args.workload or args.status)
              else f"No runs in {path} match the filters.")
        return 0
    from rich.table import Table as RichTable

    table = RichTable(title=f"{len(runs)} run(s) in {path}", title_justify="left")
    for name, justify in (("run id", "left"), ("time (UTC)", "left"), ("workload", "left"),
                          ("size", "left"), ("device", "left"), ("dtype", "left"),
                          ("status", "left"), ("median step s", "right"),
                          ("samples/s", "right"), ("MFU", "right"), ("label", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for record in runs:
        row = _list_row(record)
        mfu = row["mfu"]
        style = STATUS_STYLE.get(record.status, "")
        table.add_row(
            record.run_id, _when(record.created_at), record.workload, record.size, record.device,
            record.dtype, f"[{style}]{record.status}[/]" if style else record.status,
            _fmt(row["median_step_time_s"], ".4g"), _fmt(row["samples_per_s"], ",.1f"),
            DASH if mfu is None else f"{mfu:.1%}", record.label or "",
        )
    _console().print(table)
    return 0


# ---- show ------------------------------------------------------------------------------
def _step_stats(times: list[float]) -> dict[str, float | int] | None:
    if not times:
        return None
    from dcbench.harness.stats import StepTimeStats

    return StepTimeStats.from_times(times).to_dict()


def _alive_note(record: RunRecord) -> str | None:
    if record.status != "running":
        return None
    alive = process_alive(record, socket.gethostname())
    if alive is False:
        return f"process {record.writer_pid} on {record.writer_host} is not alive: the run was killed"
    if alive:
        return f"process {record.writer_pid} is still running"
    return None


def run_show(args: argparse.Namespace) -> int:
    store = _open_existing(args)
    if store is None:
        raise UsageError(f"no results store at {resolve_store_path(args)}; run 'dcbench bench' "
                         "first or pass --store PATH")
    with store:
        record = store.get_run(args.run)
        times = store.step_times(record.run_id)
        timeline = store.timeline(record.run_id) if args.json and args.timeline else None
    stats = _step_stats(times)
    note = _alive_note(record)
    if args.json:
        doc = {**record.to_dict(), "note": note, "step_times_s": times, "step_time_stats_s": stats}
        if args.timeline:
            doc["timeline"] = timeline
        print_json(doc)
        return 0
    _print_record(record, stats, note)
    return 0


def _section(console: Any, title: str, pairs: dict[str, Any]) -> None:
    from rich.table import Table as RichTable

    if not pairs:
        return
    table = RichTable(title=title, title_justify="left", show_header=False, box=None, pad_edge=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in pairs.items():
        table.add_row(key, DASH if value is None else str(value))
    console.print(table)
    console.print()


def _rounded(value: Any) -> Any:
    """``value`` with floats shown to 6 significant digits (4 inside lists), for reading;
    ``--json`` keeps every digit."""
    if isinstance(value, float):
        return format(value, ".6g")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [float(f"{v:.4g}") if isinstance(v, float) else _rounded(v) for v in value]
    return value


def _print_record(record: RunRecord, stats: dict[str, Any] | None, note: str | None) -> None:
    console = _console()
    style = STATUS_STYLE.get(record.status, "")
    status = f"[{style}]{record.status}[/]" if style else record.status
    console.print(f"[bold]{record.run_id}[/]  {status}" + (f"  ({note})" if note else ""))
    console.print()
    _section(console, "Run", {
        "created": record.created_at, "finished": record.finished_at, "workload": record.workload,
        "size": record.size, "device": record.device, "dtype": record.dtype, "label": record.label,
        "steps stored": record.n_steps, "telemetry samples": record.n_samples,
    })
    if stats:
        _section(console, "Step time (s)", {k: v if k == "n" else format(v, ".6g") for k, v in stats.items()})
    _section(console, "Summary", flatten(_rounded(record.summary or {})))
    _section(console, "Config", flatten(record.config))
    _section(console, "Metadata", flatten(record.metadata))
    if record.error:
        console.print("[bold]Error[/]")
        console.print(record.error, markup=False)


# ---- export ----------------------------------------------------------------------------
def _write_out(out: str, writer: Callable[[IO[str]], None]) -> None:
    """Write text to stdout ('-') or atomically to a file."""
    if out == "-":
        writer(sys.stdout)
        sys.stdout.flush()
        return
    _atomic(Path(out), lambda tmp: _write_text(tmp, writer))


def _write_text(path: Path, writer: Callable[[IO[str]], None]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer(stream)


def _atomic(target: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary sibling of ``target`` then rename it over ``target``."""
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise UsageError(
                f"cannot write --out {target}: {err.strerror or err}; choose a writable path"
            ) from None
        raise


def run_export(args: argparse.Namespace) -> int:
    fmt = check_format(args.format)
    if fmt == "parquet" and args.out == "-":
        raise UsageError("parquet is a binary format: pass --out FILE.parquet")
    path, runs, store = _filtered_runs(args)
    try:
        step_times = {r.run_id: store.step_times(r.run_id) for r in runs} if store and args.steps else {}
    finally:
        if store is not None:
            store.close()
    if fmt == "json":
        doc = json_records(runs, step_times if args.steps else None)
        _write_out(args.out, lambda stream: write_json(doc, stream))
    else:
        table: Table = (steps_table((r.run_id, step_times[r.run_id]) for r in runs)
                        if args.steps else runs_table(runs))
        if fmt == "csv":
            _write_out(args.out, lambda stream: write_csv(table, stream))
        else:
            _atomic(Path(args.out), lambda tmp: write_parquet(table, tmp))
    if not runs:
        sys.stderr.write(_empty_note(path) + "\n")
    elif args.out != "-":
        sys.stderr.write(f"exported {len(runs)} run(s) to {args.out}\n")
    return 0
