"""``dcbench data``: make data sets for the benchmarks.

``dcbench data make-images DIR --count N [--size PX] [--seed S] [--json]`` writes
a deterministic synthetic image folder (DIR/cats/NNNNN.png, DIR/dogs/NNNNN.png)
so the cnn workload's disk input pipeline can be measured on any machine
(``dcbench bench cnn --data-dir DIR``). The JSON output is documented in
docs/workloads.md.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator

from dcbench.cli.options import add_json_option, print_json, progress_enabled
from dcbench.errors import UsageError

MIN_IMAGE_SIZE_PX = 8
MAX_IMAGE_SIZE_PX = 4096


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "data",
        help="make data sets for the benchmarks (synthetic image folders)",
        description="Make data sets for the benchmarks.",
    )
    actions = p.add_subparsers(dest="data_action", metavar="ACTION", parser_class=type(p))
    make = actions.add_parser(
        "make-images",
        help="write a deterministic synthetic image folder DIR/<class>/*.png",
        description=(
            "Write N deterministic PNG images into DIR/cats and DIR/dogs (horizontal vs vertical "
            "stripes), for 'dcbench bench cnn --data-dir DIR'. DIR must be new or empty."
        ),
    )
    make.add_argument("dir", metavar="DIR", help="folder to create (must not exist, or be empty)")
    make.add_argument("--count", type=int, required=True, help="number of images in total (>= 2)")
    make.add_argument("--size", type=int, default=150, help="image width and height in pixels (default 150)")
    make.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed, same images")
    add_json_option(make)
    make.set_defaults(func=run_make_images)
    p.set_defaults(func=lambda _args: _missing_action(p))


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.error("choose an action: make-images")
    return 2


@contextlib.contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("writing images"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("images", total=total)
        yield lambda done: progress.update(task, completed=done)


def run_make_images(args: argparse.Namespace) -> int:
    if args.count < 2:
        raise UsageError(f"--count must be at least 2 (one image per class), got {args.count}")
    if not MIN_IMAGE_SIZE_PX <= args.size <= MAX_IMAGE_SIZE_PX:
        raise UsageError(
            f"--size must be between {MIN_IMAGE_SIZE_PX} and {MAX_IMAGE_SIZE_PX} pixels, got {args.size}"
        )
    from workloads.images import write_image_folder

    with _progress(args.count, progress_enabled(args)) as on_image:
        written = write_image_folder(args.dir, count=args.count, size=args.size, seed=args.seed, on_image=on_image)
    if args.json:
        print_json(
            {
                "dir": written.root,
                "count": written.count,
                "per_class": written.per_class,
                "size_px": written.size_px,
                "seed": written.seed,
                "bytes_written": written.bytes_written,
                "bytes_per_image": written.bytes_written / written.count,
            }
        )
    else:
        classes = ", ".join(f"{n} {name}" for name, n in written.per_class.items())
        sys.stdout.write(
            f"wrote {written.count} images ({classes}; {written.size_px}x{written.size_px} px; "
            f"{written.bytes_written / 1e6:.1f} MB) to {written.root}\n"
        )
    return 0
