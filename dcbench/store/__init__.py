"""The results store: every benchmark run in one embedded SQLite file (docs/store.md).

Public API::

    from dcbench.store import ResultsStore, RunRecord, SCHEMA_VERSION, STATUSES
    with ResultsStore.open(path) as store:
        run_id = store.begin_run(workload=..., size=..., device=..., dtype=..., label=...,
                                 config={...}, metadata={...})
        store.finish_run(run_id, "ok", summary={...}, step_times_s=[...], timeline={...})
"""

from __future__ import annotations

from dcbench.store.records import RunRecord, process_alive
from dcbench.store.schema import SCHEMA_VERSION, STATUSES
from dcbench.store.store import BUSY_TIMEOUT_S, LATEST, ResultsStore

__all__ = [
    "BUSY_TIMEOUT_S",
    "LATEST",
    "SCHEMA_VERSION",
    "STATUSES",
    "ResultsStore",
    "RunRecord",
    "process_alive",
]
