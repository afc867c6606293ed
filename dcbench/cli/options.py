"""Options and output helpers shared by the CLI verbs (``--store``, ``--json``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

STORE_ENV = "DCBENCH_STORE"  # environment variable naming the results store
DEFAULT_STORE = Path(".dcbench") / "results.db"  # under the current working directory


def add_store_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--store PATH`` (default: $DCBENCH_STORE, else .dcbench/results.db here)."""
    parser.add_argument(
        "--store",
        metavar="PATH",
        default=None,
        help=f"results database (default: ${STORE_ENV}, else {DEFAULT_STORE} in this folder)",
    )


def resolve_store_path(args: argparse.Namespace) -> Path:
    """The store path: ``--store``, then $DCBENCH_STORE, then ./.dcbench/results.db; absolute.

    The path is made absolute against the current folder so child processes that
    run elsewhere write to the same file; ``~`` is expanded.
    """
    chosen = getattr(args, "store", None) or os.environ.get(STORE_ENV) or str(DEFAULT_STORE)
    return Path(chosen).expanduser().absolute()


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--json``: machine-readable output on stdout, no progress bars."""
    parser.add_argument(
        "--json", action="store_true", help="print machine-readable JSON on stdout"
    )


def _strict(obj: Any) -> Any:
    """Replace NaN and infinities with None so the output is valid JSON (RFC 8259)."""
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {str(k): _strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_strict(v) for v in obj]
    return obj


def print_json(obj: Any, *, indent: int | None = 2) -> None:
    """Print ``obj`` as strict JSON on stdout (NaN/infinity as null), then a newline."""
    text = json.dumps(_strict(obj), indent=indent, allow_nan=False, default=str)
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (e.g. `| head`) stopped early: not an error. Point stdout at
        # /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def progress_enabled(args: argparse.Namespace) -> bool:
    """Whether to draw progress bars: only on a terminal's stderr and never with --json."""
    return not getattr(args, "json", False) and sys.stderr.isatty()


def add_catalog_verb(
    subparsers: Any, name: str, *, help: str, description: str, list_help: str, show_help: str,
    run: Any,
) -> None:
    """Add a catalog verb with ``list`` (the default) and ``show NAME|FILE``, each taking ``--json``."""
    parser = subparsers.add_parser(name, help=help, description=description)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    lister = actions.add_parser("list", help=list_help)
    add_json_option(lister)
    shower = actions.add_parser("show", help=show_help)
    shower.add_argument("name", metavar="NAME|FILE")
    add_json_option(shower)
    add_json_option(parser)
    parser.set_defaults(func=run)
