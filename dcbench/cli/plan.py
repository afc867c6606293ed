"""``dcbench plan``: GPUs, layout, memory, time, network, storage, power and cost for a run.

    dcbench plan --model NAME|FILE --tokens T --gpu NAME|FILE (--gpus N | --days D)
        [--seq-len S] [--global-batch SEQUENCES] [--tp N] [--pp N] [--dp N] [--cp N]
        [--microbatch N] [--zero 0-3] [--recompute none|selective|full]
        [--sequence-parallel | --no-sequence-parallel] [--virtual-stages V]
        [--attention flash|unfused] [--achieved-tflops X | --mfu F]
        [--objective time|cost|energy] [--top K] [--network NAME]
        [--assume SECTION.KEY=VALUE ...] [--bytes-per-sample B] [--json]

The work is done by :func:`simulator.plan.plan`; this module parses arguments and
prints the JSON or, through :mod:`dcbench.cli.plan_view`, the summary. The JSON
contract is in docs/planner.md.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from dcbench.cli.options import add_json_option, print_json, progress_enabled
from dcbench.errors import ConfigError, DcbenchError, UsageError, closest

ASSUMPTION_SECTIONS = ("network", "storage", "power", "cost", "memory")


def register(subparsers: Any) -> None:
    """Add the ``plan`` verb."""
    p = subparsers.add_parser(
        "plan",
        help="plan GPUs, parallel layout, memory, time, network, storage, power and cost",
        description=(
            "Plan a training run analytically (no GPU needed): the best parallel layouts on "
            "--gpus N, or the fewest GPUs that finish within --days D."
        ),
    )
    p.add_argument("--model", required=True, metavar="NAME|FILE", help="catalog model ('dcbench models list') or YAML/JSON file")
    p.add_argument("--tokens", required=True, metavar="T", help="training tokens: 300e9, 300B, 15.6T")
    p.add_argument("--gpu", required=True, metavar="NAME|FILE", help="catalog GPU or alias ('dcbench hw list') or hardware YAML")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--gpus", type=int, metavar="N", help="plan for exactly N GPUs")
    size.add_argument("--days", type=float, metavar="D", help="fewest GPUs (whole nodes) that finish within D days")
    p.add_argument("--seq-len", type=int, metavar="S", help="sequence length (default: the model's)")
    p.add_argument("--global-batch", type=int, metavar="SEQUENCES", help="sequences per step, fixed (default: the model's published batch, rounded per layout)")
    for dim, text in (("tp", "tensor"), ("pp", "pipeline"), ("dp", "data"), ("cp", "context")):
        p.add_argument(f"--{dim}", type=int, metavar="N", help=f"fix the {text}-parallel size")
    p.add_argument("--microbatch", type=int, metavar="N", help="fix the microbatch size (sequences)")
    p.add_argument("--zero", type=int, metavar="0-3", help="fix the ZeRO stage")
    p.add_argument("--recompute", choices=("none", "selective", "full"), help="fix activation recomputation")
    p.add_argument("--sequence-parallel", action=argparse.BooleanOptionalAction, default=None, help="fix sequence parallelism on or off")
    p.add_argument("--virtual-stages", type=int, metavar="V", help="fix model chunks per GPU (interleaved 1F1B)")
    p.add_argument("--attention", choices=("flash", "unfused"), default="flash", help="attention kernel (default flash)")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--achieved-tflops", type=float, metavar="X", help="hardware TFLOP/s per GPU incl. recompute (Megatron-LM style); overrides the roofline")
    rate.add_argument("--mfu", type=float, metavar="F", help="model FLOPs utilisation, e.g. 0.45; overrides the roofline")
    p.add_argument("--objective", choices=("time", "cost", "energy"), default="time", help="rank layouts by (default time)")
    p.add_argument("--top", type=int, default=5, metavar="K", help="candidate layouts to show (default 5)")
    p.add_argument("--network", metavar="NAME", help="scale-out network (default: the GPU's, e.g. infiniband-ndr)")
    p.add_argument("--assume", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override a sizing assumption, e.g. power.pue=1.3 or cost.pricing=cloud (repeatable)")
    p.add_argument("--bytes-per-sample", type=float, metavar="B", help="measured bytes read per training sample (from a bench run)")
    add_json_option(p)
    p.set_defaults(func=run)


def _value(text: str) -> Any:
    """Read an --assume value: true/false, a number (300e9, 1.5T, 0.8) or a word."""
    from simulator.units import parse_count

    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("none", "null"):
        return None
    try:
        number = parse_count(lowered.lstrip("-"))
    except UsageError:
        return text.strip()
    number = -number if lowered.startswith("-") else number
    return int(number) if number.is_integer() and "." not in lowered and "e" not in lowered else number


def _assumptions(pairs: list[str]) -> dict[str, Any]:
    """Turn ``SECTION.KEY=VALUE`` pairs into assumption objects for PlanRequest."""
    from simulator.search import MemoryAssumptions
    from simulator.sizing import (
        CostAssumptions,
        NetworkAssumptions,
        PowerAssumptions,
        StorageAssumptions,
    )

    classes: dict[str, type] = {
        "network": NetworkAssumptions, "storage": StorageAssumptions, "power": PowerAssumptions,
        "cost": CostAssumptions, "memory": MemoryAssumptions,
    }
    chosen: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        section, dot, field = key.strip().partition(".")
        if not sep or not dot:
            raise UsageError(f"--assume {pair!r}: write SECTION.KEY=VALUE, e.g. power.pue=1.3")
        if section not in classes:
            hint = closest(section, ASSUMPTION_SECTIONS)
            fix = f"; did you mean {hint!r}?" if hint else ""
            raise UsageError(f"--assume: unknown section {section!r}{fix} (choose from: {', '.join(ASSUMPTION_SECTIONS)})")
        names = [f.name for f in dataclasses.fields(classes[section])]
        if field not in names:
            hint = closest(field, names)
            fix = f"; did you mean {section}.{hint}?" if hint else ""
            raise ConfigError(f"--assume: {section} has no assumption {field!r}{fix} (see docs/planner.md)")
        chosen.setdefault(section, {})[field] = _value(raw)
    built: dict[str, Any] = {}
    for section, values in chosen.items():
        try:
            built[section] = classes[section](**values)
        except TypeError as err:
            raise UsageError(f"--assume {section}: {err}") from None
        except DcbenchError as err:  # a bad value: say which --assume section it came from
            raise type(err)(f"--assume {section}: {err}") from None
    return built


def build_request(args: argparse.Namespace) -> Any:
    """The :class:`simulator.plan.PlanRequest` the arguments describe."""
    from simulator.plan import PlanRequest

    return PlanRequest(
        model=args.model,
        tokens=args.tokens,
        gpu=args.gpu,
        gpus=args.gpus,
        days=args.days,
        seq_len=args.seq_len,
        global_batch=args.global_batch,
        tp=args.tp,
        pp=args.pp,
        dp=args.dp,
        cp=args.cp,
        microbatch=args.microbatch,
        zero=args.zero,
        recompute=args.recompute,
        sequence_parallel=args.sequence_parallel,
        virtual_stages=args.virtual_stages,
        attention=args.attention,
        achieved_flops_per_gpu=None if args.achieved_tflops is None else args.achieved_tflops * 1e12,
        mfu=args.mfu,
        objective=args.objective,
        top=args.top,
        network_name=args.network,
        bytes_per_sample=args.bytes_per_sample,
        **_assumptions(args.assume),
    )


def run(args: argparse.Namespace) -> int:
    """Run the verb; returns the exit code."""
    from simulator.plan import plan

    request = build_request(args)
    if args.days is not None and progress_enabled(args):
        from rich.console import Console

        with Console(stderr=True).status("searching GPU counts for the deadline"):
            result = plan(request)
    else:
        result = plan(request)
    if args.json:
        print_json(result.to_dict())
    else:
        from dcbench.cli.plan_view import print_plan

        print_plan(result)
    return 0
