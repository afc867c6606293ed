"""``dcbench hw``: list the accelerator catalog or show one entry with the source of every figure.

    dcbench hw [list] [--json]
    dcbench hw show NAME|FILE [--json]
"""

from __future__ import annotations

import argparse
from typing import Any

from dcbench.cli.options import add_catalog_verb, print_json
from dcbench.cli.plan_view import catalog_table


def register(subparsers: Any) -> None:
    """Add the ``hw`` verb with ``list`` and ``show``."""
    add_catalog_verb(
        subparsers, "hw", help="list or show accelerators",
        description="Accelerators the planner knows, with sources.",
        list_help="list catalog accelerators",
        show_help="show one accelerator (name, alias or YAML file)", run=run,
    )


def hardware_dict(spec: Any) -> dict[str, Any]:
    """Every field of a HardwareSpec (sources and unverified flags included) as plain JSON."""
    out: dict[str, Any] = spec.model_dump()
    out["aliases"] = list(spec.aliases)
    out["unverified"] = list(spec.unverified)
    return out


WIDE = 110  # columns from which `hw list` also shows aliases, GPUs per node and network


def _show(spec: Any) -> None:
    from rich.console import Console

    from simulator.units import format_bytes, format_rate

    console = Console(highlight=False)
    aliases = f" · aliases: {', '.join(spec.aliases)}" if spec.aliases else ""
    console.print(f"[bold]{spec.name}[/] ({spec.vendor or 'vendor unknown'}){aliases}")
    figures = catalog_table("figures")
    for column in ("figure", "value", "source"):
        figures.add_column(column, no_wrap=column != "source", overflow="fold")
    rows: list[tuple[str, str]] = [
        *((f"dense_flops_per_s.{k}", format_rate(v, "FLOP/s")) for k, v in spec.dense_flops_per_s.items()),
        ("hbm_bytes", format_bytes(spec.hbm_bytes)),
        ("hbm_bytes_per_s", format_rate(spec.hbm_bytes_per_s, "B/s")),
        ("intra_node_bytes_per_s", format_rate(spec.intra_node_bytes_per_s, "B/s")),
        ("gpus_per_node", str(spec.gpus_per_node)),
        ("tdp_w", f"{spec.tdp_w:g} W"),
        ("nics_per_gpu", str(spec.nics_per_gpu)),
        ("default_network", spec.default_network),
    ]
    for key, value in rows:
        mark = " (unverified)" if key in spec.unverified else ""
        figures.add_row(key, value, spec.sources.get(key, "") + mark)
    console.print()
    console.print(figures)
    eff = spec.efficiency
    status = "calibrated on this GPU" if eff.calibrated else "NOT calibrated on this GPU"
    console.print()
    console.print(f"[bold]roofline efficiency[/]: {status}; {eff.source or 'no source given'}")
    fractions = catalog_table("")
    fractions.add_column("fraction", no_wrap=True)
    fractions.add_column("value", justify="right", no_wrap=True)
    for key, value in eff.model_dump().items():
        if key not in ("source", "calibrated"):
            fractions.add_row(key, f"{value:g}")
    console.print(fractions)


def run(args: argparse.Namespace) -> int:
    """Run the verb; returns the exit code."""
    from simulator.catalog import hardware_names, load_hardware

    if args.action == "show":
        spec = load_hardware(args.name)
        if args.json:
            print_json(hardware_dict(spec))
        else:
            _show(spec)
        return 0
    specs = [load_hardware(name) for name in hardware_names()]
    if args.json:
        print_json([hardware_dict(s) for s in specs])
        return 0
    from rich.console import Console

    from simulator.units import format_bytes, format_rate

    console = Console(highlight=False)
    wide = console.width >= WIDE
    table = catalog_table("dcbench accelerator catalog")
    columns = ["name", "bf16 peak", "HBM", "HBM B/W", "node link", "TDP", "calibrated"]
    if wide:
        columns += ["GPUs/node", "network"]
    for column in columns:
        table.add_column(column, no_wrap=True, justify="left" if column in ("name", "calibrated", "network") else "right")
    for s in specs:
        cells = [
            s.name, format_rate(s.peak(), "FLOP/s"), format_bytes(s.hbm_bytes), format_rate(s.hbm_bytes_per_s, "B/s"),
            format_rate(s.intra_node_bytes_per_s, "B/s"), f"{s.tdp_w:g} W", "yes" if s.efficiency.calibrated else "no",
        ]
        if wide:
            cells += [str(s.gpus_per_node), s.default_network]
        table.add_row(*cells)
    console.print(table)
    console.print("calibrated: whether the roofline efficiency was fitted on that GPU (else carried over).")
    console.print("'dcbench hw show NAME' lists aliases and every figure with its source.")
    return 0
