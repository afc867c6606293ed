"""``dcbench models``: list the model catalog or show one architecture.

    dcbench models [list] [--json]
    dcbench models show NAME|FILE [--json]
"""

from __future__ import annotations

import argparse
from typing import Any

from dcbench.cli.options import add_catalog_verb, print_json


def register(subparsers: Any) -> None:
    """Add the ``models`` verb with ``list`` and ``show``."""
    add_catalog_verb(
        subparsers, "models", help="list or show model architectures",
        description="Model architectures the planner knows.",
        list_help="list catalog models",
        show_help="show one model (catalog name or YAML/JSON file)", run=run,
    )


def model_dict(model: Any) -> dict[str, Any]:
    """A model's fields plus derived counts (params, head_dim) as plain JSON."""
    out: dict[str, Any] = model.model_dump()
    out.update(params=model.params, head_dim=model.head_dim, layer_params=model.layer_params)
    return out


def run(args: argparse.Namespace) -> int:
    """Run the verb; returns the exit code."""
    from simulator.catalog import load_model, model_names
    from simulator.units import format_count

    if args.action == "show":
        model = load_model(args.name)
        if args.json:
            print_json(model_dict(model))
            return 0
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{model.name} ({format_count(model.params)} parameters)", title_justify="left", show_header=False)
        table.add_column(style="bold")
        table.add_column()
        for key, value in model_dict(model).items():
            table.add_row(key, format_count(value) if key in ("params", "layer_params", "published_params") and value else str(value))
        Console(highlight=False).print(table)
        return 0

    models = [load_model(name) for name in model_names()]
    if args.json:
        print_json([model_dict(m) for m in models])
        return 0
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="dcbench model catalog", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
        padding=(0, 1), collapse_padding=True,
    )
    columns = ("name", "params", "layers", "hidden", "heads", "kv", "ffn", "vocab", "seq", "mlp")
    for column in columns:
        table.add_column(column, justify="left" if column in ("name", "mlp") else "right", no_wrap=True)
    for m in models:
        table.add_row(
            m.name, format_count(m.params), str(m.layers), str(m.hidden), str(m.heads), str(m.kv_heads),
            str(m.ffn_hidden), str(m.vocab), str(m.seq_len), m.mlp,
        )
    console = Console(highlight=False)
    console.print(table)
    console.print("kv: key/value heads (grouped-query attention); seq: training sequence length in tokens.")
    return 0
