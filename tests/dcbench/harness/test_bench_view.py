"""Human output of ``dcbench bench``: number formats, the results table on an 80-column terminal,
and progress bars that appear on a terminal's stderr and never with ``--json``."""

from __future__ import annotations

import fcntl
import json
import os
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path
from typing import Any

import pytest

from dcbench.cli.bench_view import percent, si


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "-"),
        (0.0, "0"),
        (0.2314, "0.231"),
        (4.6, "4.60"),
        (18.04, "18.0"),
        (889.0, "889"),
        (999.6, "1.00k"),  # rounds up into the next prefix, never '1e+03'
        (1740.0, "1.74k"),
        (278_000.0, "278k"),
        (7.85e10, "78.5G"),
        (9.894e14, "989T"),
        (1.5e15, "1.50P"),
    ],
)
def test_si_prefixes_keep_three_significant_digits(value: float | None, text: str) -> None:
    assert si(value) == text


@pytest.mark.parametrize(
    ("ratio", "text"), [(None, "-"), (0.4567, "45.7%"), (0.118, "11.8%"), (1.0, "100%"), (6.1e-5, "0.0061%")]
)
def test_mfu_as_a_percentage(ratio: float | None, text: str) -> None:
    assert percent(ratio) == text


def _summary(workload: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "run_id": f"r20260101-000000-{workload}", "workload": workload, "size": "small",
        "device": "cuda:0", "device_name": "NVIDIA H100 80GB HBM3", "dtype": "bf16", "status": "ok",
        "error": None, "batch_size": 32,
        "step_time_s": {"median": 0.0123, "p95": 0.0150},
        "throughput": {"samples_per_s": 1234.5, "tokens_per_s": 2.53e6 if workload in ("gpt", "bert") else None},
        "flops": {"achieved_per_s": 4.52e14, "mfu": 0.4567, "peak_source": "catalog:h100-sxm5-80gb",
                  "counter_note": None},
        "memory": {"peak_host_rss_bytes": 3 * 2**30, "peak_device_bytes": 41 * 2**30},
        "energy": {"total_j": 5321.0, "null_reason": None},
        "warnings": [],
    }
    base.update(overrides)
    return base


def _with_terminal(argv: list[str], *, on: str, columns: int = 80, stdin: str | None = None,
                   env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run ``argv`` with its ``on`` stream ("stdout" or "stderr") on a pseudo-terminal ``columns``
    wide and the other stream piped; return the finished process and what the terminal showed."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    streams = {"stdout": slave, "stderr": subprocess.PIPE} if on == "stdout" else {
        "stdout": subprocess.PIPE, "stderr": slave}
    proc = subprocess.run(argv, input=stdin, text=True, env=env, timeout=300, **streams)  # type: ignore[call-overload]
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    return proc, b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")


def _run_on_terminal(code: str, stdin: str, columns: int) -> str:
    """Run ``code`` with stdout on a pseudo-terminal ``columns`` wide; return what it printed."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc, terminal = _with_terminal([sys.executable, "-c", code], on="stdout", columns=columns, stdin=stdin,
                                    env={**env, "TERM": "dumb", "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    return terminal


PRINT = "import json, sys; from dcbench.cli.bench_view import print_summaries; print_summaries(json.load(sys.stdin))"


def test_the_table_fits_an_80_column_terminal_without_cutting_numbers() -> None:
    summaries = [_summary(name) for name in ("cnn", "mlp", "gpt", "bert", "resnet")]
    summaries[3] = _summary("bert", status="oom", error="out of memory at batch size 32: CUDA out of memory")
    text = _run_on_terminal(PRINT, json.dumps(summaries), columns=80)
    lines = text.splitlines()
    assert lines[0] == "dcbench bench: small, cuda:0 (NVIDIA H100 80GB HBM3), bf16"
    assert all(len(line) <= 80 for line in lines), text
    assert "…" not in text
    gpt = next(line.split() for line in lines if line.startswith("gpt "))
    # 12.3 ms median, 1.23k samples/s, 2.53M tokens/s, 45.7% MFU, 5.32k J
    assert gpt[:4] == ["gpt", "ok", "32", "12.3"]
    assert {"1.23k", "2.53M", "45.7%", "5.32k"} <= set(gpt)
    assert any(line.split()[:2] == ["bert", "oom"] for line in lines)
    assert "all: MFU against catalog:h100-sxm5-80gb" in text
    assert "bert: oom: out of memory at batch size 32" in text


def test_columns_nobody_measured_are_left_out() -> None:
    cpu = {"device": "cpu", "device_name": "Some CPU", "memory": {"peak_host_rss_bytes": 2**30,
                                                                    "peak_device_bytes": None},
           "energy": {"total_j": None, "null_reason": "RAPL not readable: permission denied"}}
    text = _run_on_terminal(PRINT, json.dumps([_summary("cnn", **cpu), _summary("resnet", **cpu)]), columns=120)
    header = "\n".join(text.splitlines()[1:3])
    assert "tokens" not in header and "GPU" not in header and "energy" not in header
    assert "MFU" in header and "RSS" in header
    assert "all: energy not measured: RAPL not readable: permission denied" in text


def _bench_on_terminal(tmp_path: Path, *extra: str) -> tuple[str, str, int]:
    """Run ``dcbench bench mlp`` with stderr on a pseudo-terminal; return (stdout, terminal, exit code)."""
    proc, terminal = _with_terminal(
        [sys.executable, "-m", "dcbench", "bench", "mlp", "--steps", "3", "--warmup", "1",
         "--store", str(tmp_path / "r.db"), *extra],
        on="stderr",
    )
    return proc.stdout, terminal, proc.returncode


def test_a_progress_bar_is_drawn_on_a_terminal(tmp_path: Path) -> None:
    out, terminal, code = _bench_on_terminal(tmp_path)
    assert code == 0
    assert "mlp: " in terminal and "━" in terminal  # the step bar, on stderr
    assert "━" not in out and out.startswith("dcbench bench: tiny, cpu")


def test_json_output_has_no_progress_bar(tmp_path: Path) -> None:
    out, terminal, code = _bench_on_terminal(tmp_path, "--json")
    assert code == 0
    assert terminal == ""
    assert json.loads(out)["workload"] == "mlp"
