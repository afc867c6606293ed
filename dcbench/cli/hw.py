"""``dcbench hw``: list the accelerator catalog or show one entry with the source of every figure.

    dcbench hw [list] [--json]
    dcbench hw show NAME|FILE [--json]
"""

from __future__ import annotations

import argparse
from typing import Any

from dcbench.cli.options import add_json_option, print_json


def register(subparsers: Any) -> None:
    """Add the ``hw`` verb with ``list`` and ``show``."""
    parser = subparsers.add_parser(
        "hw", help="list or show accelerators", description="Accelerators the planner knows, with sources."
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    lister = actions.add_parser("list", help="list catalog accelerators")
    add_json_option(lister)
    shower = actions.add_parser("show", help="show one accelerator (name, alias or YAML file)")
    shower.add_argument("name", metavar="NAME|FILE")
    add_json_option(shower)
    add_json_option(parser)
    parser.set_defaults(func=run)


def hardware_dict(spec: Any) -> dict[str, Any]:
    """Every field of a HardwareSpec (sources and unverified flags included) as plain JSON."""
    out: dict[str, Any] = spec.model_dump()
    out["aliases"] = list(spec.aliases)
    out["unverified"] = list(spec.unverified)
    return out


def _show(spec: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from simulator.units import format_bytes, format_rate

    table = Table(title=spec.name, title_justify="left")
    for column in ("figure", "value", "source"):
        table.add_column(column)
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
        table.add_row(key, value, spec.sources.get(key, "") + mark)
    eff = spec.efficiency
    for key, value in eff.model_dump().items():
        if key != "source":
            table.add_row(f"efficiency.{key}", f"{value:g}", eff.source)
    Console(highlight=False).print(table)


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
    from rich.table import Table

    from simulator.units import format_bytes, format_rate

    table = Table(title="dcbench accelerator catalog", title_justify="left")
    for column in ("name", "aliases", "bf16 peak", "HBM", "HBM bandwidth", "node link", "GPUs/node", "TDP", "network"):
        table.add_column(column)
    for s in specs:
        table.add_row(
            s.name, ", ".join(s.aliases), format_rate(s.peak(), "FLOP/s"), format_bytes(s.hbm_bytes),
            format_rate(s.hbm_bytes_per_s, "B/s"), format_rate(s.intra_node_bytes_per_s, "B/s"),
            str(s.gpus_per_node), f"{s.tdp_w:g} W", s.default_network,
        )
    Console(highlight=False).print(table)
    return 0
