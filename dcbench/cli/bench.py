"""``dcbench bench``: train real workloads while telemetry records what the hardware did.

One workload runs in this process. Several workloads (or ``all``) run each in
its own child process (``--in-process`` is the child's hidden flag), so a crash
or out-of-memory in one loses nothing else. Exit code: 0 when every run is
``ok``, 130 after Ctrl-C (the partial run is stored as ``interrupted``), else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dcbench.cli.options import add_json_option, add_store_option, resolve_store_path
from dcbench.errors import UsageError
from dcbench.hardware.detect import SUITE_COMMAND_ENV
from dcbench.harness.config import BenchConfig

WORKLOAD_CHOICES_HINT = "cnn, mlp, gpt, bert, resnet or all"
CHILD_STOP_GRACE_S = 60.0  # after Ctrl-C, how long a child may take to store its partial run


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "bench",
        help="train real workloads and record throughput, memory, power and network",
        description="Train real PyTorch workloads on this machine and store the measurements.",
    )
    p.add_argument("workloads", nargs="+", metavar="WORKLOAD", help=f"{WORKLOAD_CHOICES_HINT}")
    p.add_argument("--size", default="tiny", help="tiny | small | medium | large (default tiny)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N (default auto)")
    p.add_argument("--dtype", default="fp32", help="fp32 | bf16 | fp16 (default fp32)")
    p.add_argument("--batch-size", default=None, help="samples per step, or 'auto' for the largest that fits")
    p.add_argument("--steps", type=int, default=20, help="measured steps (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="warm-up steps, not measured (default 3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--sample-hz", type=float, default=10.0, help="telemetry sampling rate in Hz (default 10)")
    p.add_argument("--label", default=None, help="free text stored with the run")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--channels-last", action="store_true", help="NHWC memory format (cnn, resnet)")
    p.add_argument("--data-dir", default=None, help="cnn: train from an image folder ROOT/<class>/*.png|*.jpg")
    p.add_argument("--num-workers", type=int, default=2, help="DataLoader workers for --data-dir (default 2)")
    p.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    add_store_option(p)
    add_json_option(p)
    p.set_defaults(func=run)


def _parse_batch(text: str | None) -> tuple[int | None, bool]:
    if text is None:
        return None, False
    if text == "auto":
        return None, True
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--batch-size must be a positive integer or 'auto', got {text!r}") from None
    return value, False


def _expand(names: list[str]) -> list[str]:
    from dcbench.errors import unknown
    from workloads.registry import WORKLOAD_NAMES

    out: list[str] = []
    for name in names:
        if name == "all":
            out.extend(WORKLOAD_NAMES)
        elif name in WORKLOAD_NAMES:
            out.append(name)
        else:
            raise unknown("workload", name, (*WORKLOAD_NAMES, "all"))
    return list(dict.fromkeys(out))


def _config(args: argparse.Namespace, workload: str) -> BenchConfig:
    batch_size, auto = _parse_batch(args.batch_size)
    return BenchConfig(
        workload=workload,
        size=args.size,
        device=args.device,
        dtype=args.dtype,
        batch_size=batch_size,
        auto_batch=auto,
        steps=args.steps,
        warmup=args.warmup,
        seed=args.seed,
        sample_hz=args.sample_hz,
        label=args.label,
        compile=args.compile,
        channels_last=args.channels_last,
        data_dir=args.data_dir,
        num_workers=args.num_workers,
    )


def run(args: argparse.Namespace) -> int:
    names = _expand(args.workloads)
    configs = [_config(args, name) for name in names]
    from dcbench.harness.device import resolve_device
    from dcbench.harness.run import check_config

    in_process = len(configs) == 1 and (args.in_process or args.workloads != ["all"])
    for cfg in configs:  # bad input for any workload stops the suite before the first one runs
        check_config(cfg, scan_images=not in_process)
    device = resolve_device(args.device)  # a missing device fails here, before any child starts
    store_path = resolve_store_path(args)
    if in_process:
        return _run_in_process(configs[0], store_path, args)
    return _run_children(names, store_path, args, device)


def _run_in_process(config: BenchConfig, store_path: Path, args: argparse.Namespace) -> int:
    from dcbench.cli.bench_view import print_summaries, step_progress
    from dcbench.harness.record import run_and_record

    show_progress = not args.json and not args.in_process
    with step_progress(config.workload, enabled=show_progress) as on_step:
        summary = run_and_record(config, store_path, on_step=on_step)
    if args.json or args.in_process:
        print(json.dumps(summary), flush=True)
    else:
        print_summaries([summary])
    return _exit_code([summary])


def _exit_code(summaries: list[dict[str, Any]]) -> int:
    """0 when every run is ok, 130 when one was interrupted (Ctrl-C), else 1."""
    if any(s["status"] == "interrupted" for s in summaries):
        return 130
    return 0 if all(s["status"] == "ok" for s in summaries) else 1


def _child_argv(args: argparse.Namespace, workload: str, store_path: Path) -> list[str]:
    argv = [sys.executable, "-m", "dcbench", "bench", workload, "--in-process", "--json"]
    for flag, value in (
        ("--size", args.size), ("--device", args.device), ("--dtype", args.dtype),
        ("--batch-size", args.batch_size), ("--steps", args.steps), ("--warmup", args.warmup),
        ("--seed", args.seed), ("--sample-hz", args.sample_hz), ("--label", args.label),
        ("--data-dir", args.data_dir), ("--num-workers", args.num_workers),
    ):
        if value is not None:
            argv += [flag, str(value)]
    if args.compile:
        argv.append("--compile")
    if args.channels_last:
        argv.append("--channels-last")
    return [*argv, "--store", str(store_path)]


def _child_failure(returncode: int, stderr: str) -> str:
    """One line saying how a child that printed no result ended."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        why = (" (the kernel's out-of-memory killer sends SIGKILL when host memory runs out; "
               "try a smaller --batch-size)") if -returncode == signal.SIGKILL else ""
        return f"child process was killed by {name}{why}"
    last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {returncode}"
    return f"child process failed: {last}"


def _failed_child(
    workload: str, args: argparse.Namespace, device: str, returncode: int, stderr: str
) -> dict[str, Any]:
    return {
        "run_id": None, "workload": workload, "size": args.size, "device": device,
        "dtype": args.dtype, "status": "failed", "error": _child_failure(returncode, stderr),
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class _ChildResult:
    returncode: int
    stdout: str
    stderr: str
    interrupted: bool  # the suite got Ctrl-C while this child ran


def _run_child(argv: list[str]) -> _ChildResult:
    """Run one workload's child process to the end, passing Ctrl-C on to it once.

    The child runs in its own process group, so a Ctrl-C at the terminal reaches only
    this process; it then sends the child one SIGINT and waits for it to store its
    partial run as ``interrupted`` (a second SIGINT could cut that write short).
    """
    env = {**os.environ, SUITE_COMMAND_ENV: json.dumps(sys.argv)}
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, process_group=0)
    try:
        out, err = proc.communicate()
        return _ChildResult(returncode=proc.returncode, stdout=out, stderr=err, interrupted=False)
    except KeyboardInterrupt:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=CHILD_STOP_GRACE_S)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            proc.kill()  # it did not stop in time; its run stays 'running' (results show says so)
            out, err = proc.communicate()
        return _ChildResult(returncode=proc.returncode, stdout=out, stderr=err, interrupted=True)


def _run_children(names: list[str], store_path: Path, args: argparse.Namespace, device: str) -> int:
    from dcbench.cli.bench_view import print_summaries, suite_progress

    summaries: list[dict[str, Any]] = []
    with suite_progress(len(names), enabled=not args.json) as advance:
        for name in names:
            advance(name)
            child = _run_child(_child_argv(args, name, store_path))
            lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
            said = child.stderr.strip().splitlines()
            if child.returncode == 2 and not lines and not child.interrupted and said:
                # bad input the up-front checks could not see: same one line as a direct run
                raise UsageError(said[-1].removeprefix("dcbench: error: "))
            if lines:
                summary = json.loads(lines[-1])
            elif child.interrupted:
                summary = {**_failed_child(name, args, device, child.returncode, ""), "status": "interrupted",
                           "error": "interrupted (Ctrl-C) before the run printed its result"}
            else:
                summary = _failed_child(name, args, device, child.returncode, child.stderr)
            summaries.append(summary)
            if args.json:
                print(json.dumps(summary), flush=True)
            if child.interrupted or child.returncode == 130:
                break
        advance(None)
    if not args.json:
        print_summaries(summaries)
    return _exit_code(summaries)
