"""A child process that writes runs into a store, for the crash, Ctrl-C and concurrency tests.

Usage: ``python store_writer.py STORE MODE [COUNT]`` with MODE one of
- ``loop``: write complete runs forever, printing ``done I RUN_ID`` after each commit;
- ``count``: write COUNT complete runs, then exit;
- ``stall``: write COUNT complete runs, then begin one more and, inside the open
  ``finish_run`` transaction (after some step rows are inserted), print ``stalled RUN_ID``
  and sleep, so the parent can SIGKILL it mid-transaction;
- ``interrupt``: write two complete runs, begin a third, print ``measuring RUN_ID`` and
  append step times until SIGINT, then finish it as 'interrupted' and print
  ``interrupted RUN_ID N_STEPS``.

The payload of run ``i`` is a pure function of ``i`` so the parent can check
every committed run read back bit for bit.
"""

from __future__ import annotations

import sys
import time
from itertools import count
from typing import Any

N_STEPS = 2000  # large enough that a good share of the loop is spent inside a transaction
N_SAMPLES = 300


def step_times(i: int) -> list[float]:
    """Step times of run ``i`` in seconds: distinct, non-round doubles."""
    return [(i * 100_003 + k) / 7919.0 for k in range(N_STEPS)]


def summary(i: int) -> dict[str, Any]:
    return {
        "throughput": {"samples_per_s": i / 3.0, "tokens_per_s": None},
        "step_time_s": {"median": 1.0 / (i + 7)},
        "flops": {"mfu": (i % 97) / 97.0},
        "index": i,
    }


def timeline(i: int) -> dict[str, Any]:
    return {
        "samples": [{"t_s": k / 10.0, "power_w": i + k / 3.0} for k in range(N_SAMPLES)],
        "marks": [{"name": "measure", "t_s": 0.5}],
    }


def config(i: int) -> dict[str, Any]:
    return {"index": i, "seed": i * 31}


def _write_one(store: Any, i: int, workload: str = "mlp") -> str:
    run_id: str = store.begin_run(
        workload=workload, size="tiny", device="cpu", dtype="fp32", label=f"run {i}",
        config=config(i), metadata={"writer": "store_writer"},
    )
    store.finish_run(
        run_id, "ok", summary=summary(i), step_times_s=step_times(i), timeline=timeline(i)
    )
    return run_id


def main(argv: list[str]) -> int:
    from dcbench.store import ResultsStore

    path, mode = argv[0], argv[1]
    store = ResultsStore.open(path)
    if mode == "loop":
        for i in count():
            run_id = _write_one(store, i)
            print(f"done {i} {run_id}", flush=True)
    if mode == "count":
        for i in range(int(argv[2])):
            _write_one(store, i, workload=argv[3] if len(argv) > 3 else "mlp")
        return 0
    if mode == "stall":
        for i in range(int(argv[2])):
            print(f"done {i} {_write_one(store, i)}", flush=True)
        run_id = store.begin_run(
            workload="mlp", size="tiny", device="cpu", dtype="fp32", label="stalled",
            config=config(-1), metadata={},
        )
        conn = store._live()
        calls = 0

        def stall() -> int:
            # SQLite calls this every 1000 VM instructions while a statement runs.
            nonlocal calls
            calls += 1
            if calls == 50 and conn.in_transaction:
                print(f"stalled {run_id}", flush=True)
                time.sleep(600)
            return 0

        conn.set_progress_handler(stall, 1000)
        store.finish_run(run_id, "ok", summary=summary(-1), step_times_s=step_times(0),
                         timeline=timeline(0))
        return 3  # not reached when the parent kills the process
    if mode == "interrupt":
        for i in range(2):
            print(f"done {i} {_write_one(store, i)}", flush=True)
        run_id = store.begin_run(
            workload="gpt", size="tiny", device="cpu", dtype="fp32", label="partial",
            config={}, metadata={},
        )
        times: list[float] = []
        try:
            print(f"measuring {run_id}", flush=True)
            while True:
                times.append(0.25 + len(times) / 1024.0)
                time.sleep(0.002)
        except KeyboardInterrupt:
            store.finish_run(run_id, "interrupted", summary={"steps": len(times)}, step_times_s=times)
            print(f"interrupted {run_id} {len(times)}", flush=True)
        store.close()
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
