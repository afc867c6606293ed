"""``dcbench simulate``: simulate training campaigns, shared clusters and pipeline iterations.

    dcbench simulate SCENARIO.yaml | --preset NAME [--replicas N] [--seed S]
        [--sweep KEY=V1,V2 ...] [--scheduler tcp://HOST:PORT [--connect-timeout S]]
        [--workers N] [--timeline PATH] [--json]
    dcbench simulate presets [--json]

The work is done by :mod:`simulator.sim`; this module parses arguments, draws the
progress bar and prints the summary. The JSON contract is in docs/simulate.md.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dcbench.cli.options import add_json_option, print_json, progress_enabled
from dcbench.errors import UsageError

DEFAULT_REPLICAS = 100


def register(subparsers: Any) -> None:
    """Add the ``simulate`` verb."""
    parser = subparsers.add_parser(
        "simulate",
        help="simulate failures, checkpoints, stragglers and queueing (SimPy, Monte Carlo)",
        description=(
            "Simulate a training campaign, a shared cluster or one pipeline iteration from a "
            "scenario YAML file or a built-in preset ('dcbench simulate presets' lists them)."
        ),
    )
    parser.add_argument("scenario", nargs="?", help="scenario YAML file, or 'presets' to list presets")
    parser.add_argument("--preset", metavar="NAME", help="run a built-in scenario")
    parser.add_argument(
        "--replicas", type=int, default=DEFAULT_REPLICAS, metavar="N",
        help=f"independent Monte Carlo replicas per point (default {DEFAULT_REPLICAS})",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument(
        "--sweep", action="append", default=[], metavar="KEY=V1,V2",
        help="sweep a scenario key (dotted, e.g. checkpoint.interval_s=600,1800); repeat for a cross product",
    )
    parser.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="run replicas on this Dask distributed scheduler"
    )
    parser.add_argument(
        "--connect-timeout", type=float, default=None, metavar="S",
        help="seconds to wait for the Dask scheduler and a worker before giving up (default 10)",
    )
    parser.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: CPU count)")
    parser.add_argument("--timeline", metavar="PATH", help="write replica 0's events as JSON to PATH")
    add_json_option(parser)
    parser.set_defaults(func=run)


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A replica progress bar on stderr (no refresh thread, so worker processes fork cleanly)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (TextColumn("simulate"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, auto_refresh=False) as progress:
        task = progress.add_task("simulate", total=total)
        progress.refresh()

        def advance(count: int) -> None:
            progress.advance(task, count)
            progress.refresh()

        yield advance


def _write_json(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` atomically (a temporary file, then a rename)."""
    folder = path.expanduser().absolute().parent
    if not folder.is_dir():
        raise UsageError(f"--timeline {str(path)!r}: folder {str(folder)!r} does not exist")
    try:
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as handle:
            json.dump(document, handle, default=str)
        os.replace(handle.name, path)
    except OSError as err:
        raise UsageError(f"--timeline {str(path)!r}: cannot write ({err.strerror})") from None


def _list_presets(args: argparse.Namespace) -> int:
    from simulator.sim.loading import list_presets

    presets = list_presets()
    if args.json:
        print_json([{"name": p.name, "kind": p.kind, "description": p.description} for p in presets])
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="dcbench simulate presets", title_justify="left")
    for column in ("name", "kind", "description"):
        table.add_column(column)
    for p in presets:
        table.add_row(p.name, p.kind, p.description)
    Console().print(table)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the verb; returns the exit code."""
    if args.scenario == "presets" and args.preset is None:
        return _list_presets(args)
    if (args.scenario is None) == (args.preset is None):
        raise UsageError(
            "give a scenario file or --preset NAME (not both); 'dcbench simulate presets' lists presets"
        )
    if args.replicas < 1:
        raise UsageError(f"--replicas must be >= 1, got {args.replicas}")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    if args.connect_timeout is not None and not args.connect_timeout > 0:
        raise UsageError(f"--connect-timeout must be > 0 seconds, got {args.connect_timeout:g}")
    if args.connect_timeout is not None and not args.scheduler:
        raise UsageError("--connect-timeout is for --scheduler; add --scheduler tcp://HOST:PORT or drop it")
    if args.scheduler and args.workers is not None:
        raise UsageError("--workers is for local processes; with --scheduler the Dask workers run the work")

    from simulator.sim.campaign import prepare, run_campaign, timeline, total_replicas
    from simulator.sim.loading import load_preset, load_scenario, parse_sweep
    from simulator.sim.runners import DaskRunner, LocalRunner, Runner

    if args.preset is not None:
        raw, _ = load_preset(args.preset)
        origin = f"preset {args.preset}"
    else:
        raw, _ = load_scenario(args.scenario)
        origin = str(args.scenario)
    sweeps = [parse_sweep(text) for text in args.sweep]
    campaign = prepare(raw, origin=origin, sweeps=sweeps)

    runner: Runner
    dask: DaskRunner | None = None
    if args.scheduler:
        runner = dask = DaskRunner(args.scheduler, timeout_s=args.connect_timeout)
    else:
        runner = LocalRunner(args.workers)
    try:
        total = total_replicas(campaign, args.replicas)
        with _progress(total, progress_enabled(args)) as advance:
            result = run_campaign(
                campaign, replicas=args.replicas, seed=args.seed, runner=runner, on_progress=advance
            )
    finally:
        if dask is not None:
            dask.close()
    if args.timeline:
        _write_json(Path(args.timeline), timeline(campaign, seed=args.seed))
    if args.json:
        print_json(result)
    else:
        from dcbench.cli.simulate_view import print_summary

        print_summary(result)
    return 0
