"""Human output for ``dcbench simulate``: rich summary tables (stdout)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from simulator.units import format_duration

Stats = dict[str, float | None]


def _dur(value: float | None) -> str:
    return "-" if value is None else format_duration(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _stats_row(table: Table, label: str, stats: Stats | None, fmt: Any) -> None:
    stats = stats or {}
    table.add_row(label, *(fmt(stats.get(k)) for k in ("mean", "p5", "p50", "p95")))


def _stats_table(title: str) -> Table:
    table = Table(title=title, title_justify="left", min_width=len(title))
    table.add_column("output")
    for name in ("mean", "p5", "p50", "p95"):
        table.add_column(name, justify="right")
    return table


def _training(console: Console, doc: dict[str, Any], title: str) -> None:
    table = _stats_table(title)
    window = doc.get("window_s")
    ttt = "projected time to train" if window and (doc.get("completed_fraction") or 0) < 1 else "time to train"
    _stats_row(table, ttt, doc["time_to_train_s"], _dur)
    _stats_row(table, "effective training time", doc["effective_training_time_fraction"], _pct)
    _stats_row(table, "unexpected interruptions", doc["interruptions"]["unexpected"], _num)
    _stats_row(table, "planned interruptions", doc["interruptions"]["planned"], _num)
    for key, label in (
        ("lost_work_s", "lost work"),
        ("checkpoint_overhead_s", "checkpoint overhead"),
        ("restart_overhead_s", "restart overhead"),
        ("maintenance_overhead_s", "maintenance"),
        ("spare_wait_s", "waiting for spares"),
        ("straggler_overhead_s", "straggler slowdown"),
    ):
        _stats_row(table, label, doc[key], _dur)
    console.print(table)
    ck = doc.get("checkpoint")
    interval, daly = doc.get("checkpoint_interval_s"), doc.get("young_daly_interval_s")
    lines = [f"job: {doc['job']['gpus']} GPUs, step {_dur(doc['job']['step_time_s'])}, "
             f"healthy compute {_dur(doc['job']['compute_s'])} ({doc['job']['source']})"]
    if doc.get("mtbf_s"):
        lines.append(f"MTBF {_dur(doc['mtbf_s'])}, downtime per failure {_dur(doc.get('failure_downtime_s'))}")
    if ck:
        lines.append(
            f"checkpoint: every {_dur(interval)} of training ({ck['mode']}, write {_dur(ck['write_s'])}); "
            f"Young/Daly optimum {_dur(daly)}"
        )
    if window:
        expected = doc.get("expected_unexpected_interruptions")
        lines.append(f"window {_dur(window)}; expected unexpected interruptions {_num(expected)}")
    causes = sorted(doc["interruptions"]["by_cause"].items(), key=lambda kv: -(kv[1] or 0))
    if len(causes) > 1:
        top = ", ".join(f"{name} {count:.1f}" for name, count in causes[:5] if count is not None)
        lines.append(f"top causes (mean count): {top}")
    for line in lines:
        console.print(line, highlight=False)


def _cluster(console: Console, doc: dict[str, Any], title: str) -> None:
    table = _stats_table(title)
    _stats_row(table, "utilisation", doc["utilisation"], _pct)
    _stats_row(table, "goodput", doc["goodput_fraction"], _pct)
    _stats_row(table, "queue wait p50", doc["queue_wait_s"]["p50"], _dur)
    _stats_row(table, "queue wait p95", doc["queue_wait_s"]["p95"], _dur)
    _stats_row(table, "completed jobs", doc["completed_jobs"], _num)
    _stats_row(table, "jobs submitted", doc["jobs_submitted"], _num)
    _stats_row(table, "failures", doc["interruptions"]["unexpected"], _num)
    _stats_row(table, "jobs interrupted", doc["interruptions"]["jobs_interrupted"], _num)
    console.print(table)
    series = doc["goodput_over_time"]
    values = " ".join(_pct(v) for v in series["mean"])
    console.print(f"goodput per {_dur(series['bucket_s'])} (mean): {values}", highlight=False)


def _pipeline(console: Console, doc: dict[str, Any], title: str) -> None:
    table = Table(title=title, title_justify="left", min_width=len(title))
    table.add_column("output")
    table.add_column("simulated", justify="right")
    table.add_column("closed form", justify="right")
    cf = doc["closed_form"]
    table.add_row("iteration", _dur(doc["iteration_s"]), _dur(cf["iteration_s"]))
    table.add_row("bubble", _pct(doc["bubble_fraction"]), _pct(cf["bubble_fraction"]))
    table.add_row("exposed communication", _dur(doc["exposed_comm_s"]), "-")
    planner = doc.get("planner")
    if planner:
        table.add_row("planner step", _dur(doc["iteration_s"]), _dur(planner["step_time_s"]))
        table.add_row("planner bubble", _pct(doc["bubble_fraction"]), _pct(planner["bubble_fraction"]))
    console.print(table)
    console.print(
        f"{doc['schedule']}: p={doc['stages']}, m={doc['microbatches']}, v={doc['virtual_stages']}",
        highlight=False,
    )
    for note in doc.get("notes", []):
        console.print(note, highlight=False)


def _sweep(console: Console, doc: dict[str, Any]) -> None:
    keys = list(doc["sweep"])
    count = doc["replicas"]
    runs = "1 deterministic run" if doc["kind"] == "pipeline" else f"{count} replica{'s' if count != 1 else ''}"
    title = f"{doc['scenario']}: sweep ({runs} per point)"
    table = Table(title=title, title_justify="left", min_width=len(title))
    for key in keys:
        table.add_column(key, justify="right", overflow="fold")
    kind = doc["kind"]
    if kind == "training":
        heads = ("time to train p50", "ETTR mean", "unexpected mean", "interval")
    elif kind == "cluster":
        heads = ("utilisation", "goodput", "wait p95", "completed")
    else:
        heads = ("iteration", "bubble", "closed-form bubble", "exposed comm")
    for head in heads:
        table.add_column(head, justify="right")
    for point in doc["points"]:
        cells = [str(point["values"][k]) for k in keys]
        if kind == "training":
            cells += [_dur(point["time_to_train_s"]["p50"]), _pct(point["effective_training_time_fraction"]["mean"]),
                      _num(point["interruptions"]["unexpected"]["mean"]), _dur(point["checkpoint_interval_s"])]
        elif kind == "cluster":
            cells += [_pct(point["utilisation"]["mean"]), _pct(point["goodput_fraction"]["mean"]),
                      _dur(point["queue_wait_s"]["p95"]["mean"]), _num(point["completed_jobs"]["mean"])]
        else:
            cells += [_dur(point["iteration_s"]), _pct(point["bubble_fraction"]),
                      _pct(point["closed_form"]["bubble_fraction"]), _dur(point["exposed_comm_s"])]
        table.add_row(*cells)
    console.print(table)


def print_summary(doc: dict[str, Any]) -> None:
    """Print the result document of ``simulator.sim.campaign.run_campaign``."""
    console = Console()
    if "points" in doc:
        _sweep(console, doc)
        return
    count = doc["replicas"]
    runs = "1 deterministic run" if doc["kind"] == "pipeline" else f"{count} replica{'s' if count != 1 else ''}"
    title = f"{doc['scenario']} ({doc['kind']}, {runs}, seed {doc['seed']})"
    {"training": _training, "cluster": _cluster, "pipeline": _pipeline}[doc["kind"]](console, doc, title)
