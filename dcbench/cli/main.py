"""Entry point of the ``dcbench`` command: registers one sub-command per verb module.

Each verb module in this package exposes ``register(subparsers)``, which adds its
parser and sets ``func`` (a callable taking the parsed ``argparse.Namespace`` and
returning an exit code). Heavy imports (torch, simpy, dask) stay inside the verb's
run function so ``dcbench --help`` and ``dcbench plan`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from dcbench import __version__
from dcbench.errors import DcbenchError

# Verb modules, in the order ``--help`` lists them.
VERB_MODULES = (
    "bench",
    "probe",
    "results",
    "data",
    "plan",
    "models",
    "hw",
    "simulate",
    "report",
    "demo",
)


class OneLineArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (no usage dump) and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available verb registered."""
    parser = OneLineArgumentParser(
        prog="dcbench",
        description="Measure, plan and simulate large-model training data centers.",
    )
    parser.add_argument("--version", action="version", version=f"dcbench {__version__}")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=OneLineArgumentParser)
    for name in VERB_MODULES:
        module_name = f"dcbench.cli.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name == module_name:
                continue  # verb not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (also used by ``python -m dcbench``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except DcbenchError as err:
        sys.stderr.write(f"dcbench: error: {err}\n")
        return err.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("dcbench: interrupted\n")
        return 130
    except BrokenPipeError:  # e.g. `dcbench results export | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
