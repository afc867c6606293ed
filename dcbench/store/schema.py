"""The SQLite schema of a dcbench results store, its version, and the version check.

Version policy (docs/store.md): ``SCHEMA_VERSION`` is one integer kept in the
``meta`` table. It changes whenever a table or column changes meaning, is
renamed or removed. A dcbench reads and writes only stores of its own version;
any other version is refused with a message naming both versions and the fix,
and the file is left untouched. Adding an index does not change the version.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dcbench.errors import StoreError, unknown

SCHEMA_VERSION = 1

# The statuses a run can have. 'running' until finished; 'oom' when the device ran
# out of memory; 'interrupted' after Ctrl-C (partial steps are kept).
STATUSES: tuple[str, ...] = ("running", "ok", "failed", "oom", "interrupted")

# A marker in ``meta`` so a store is told apart from any other SQLite file.
APPLICATION = "dcbench-results"

_STATUS_LIST = ", ".join(f"'{s}'" for s in STATUSES)

# Every time is a UTC ISO 8601 string; every duration is in seconds (``_s``).
SCHEMA_SQL: tuple[str, ...] = (
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    f"""
    CREATE TABLE runs (
        run_id             TEXT PRIMARY KEY,
        created_at         TEXT NOT NULL,
        finished_at        TEXT,
        status             TEXT NOT NULL CHECK (status IN ({_STATUS_LIST})),
        workload           TEXT NOT NULL,
        size               TEXT NOT NULL,
        device             TEXT NOT NULL,
        dtype              TEXT NOT NULL,
        label              TEXT,
        config_json        TEXT NOT NULL,
        metadata_json      TEXT NOT NULL,
        summary_json       TEXT,
        error              TEXT,
        n_steps            INTEGER NOT NULL DEFAULT 0,
        n_samples          INTEGER NOT NULL DEFAULT 0,
        median_step_time_s REAL,
        samples_per_s      REAL,
        tokens_per_s       REAL,
        mfu                REAL,
        energy_j           REAL,
        writer_pid         INTEGER NOT NULL,
        writer_host        TEXT NOT NULL
    )
    """,
    "CREATE INDEX runs_created_at ON runs (created_at)",
    "CREATE INDEX runs_workload ON runs (workload, created_at)",
    "CREATE INDEX runs_status ON runs (status, created_at)",
    """
    CREATE TABLE step_times (
        run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        step_index  INTEGER NOT NULL,
        step_time_s REAL NOT NULL,
        PRIMARY KEY (run_id, step_index)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE timelines (
        run_id        TEXT PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
        n_samples     INTEGER NOT NULL,
        timeline_json TEXT NOT NULL
    )
    """,
)

_FIX = "use --store NEW_PATH (or DCBENCH_STORE) to keep results elsewhere"


def user_tables(conn: sqlite3.Connection) -> set[str]:
    """Names of the tables in the database (SQLite's internal tables excluded)."""
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return {str(r[0]) for r in rows}


def stored_version(conn: sqlite3.Connection, path: Path) -> int | None:
    """The store's schema version; None for an empty database (no tables yet).

    Raises StoreError when the file is a database of something else or of another
    schema version. Reads only; never changes the file.
    """
    tables = user_tables(conn)
    if not tables:
        return None
    if "meta" not in tables:
        raise StoreError(
            f"{path} is an SQLite database but not a dcbench results store; {_FIX}"
        )
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if meta.get("application") != APPLICATION or "schema_version" not in meta:
        raise StoreError(
            f"{path} is an SQLite database but not a dcbench results store; {_FIX}"
        )
    try:
        version = int(meta["schema_version"])
    except ValueError:
        raise StoreError(
            f"store {path} has an unreadable schema version {meta['schema_version']!r}; {_FIX}"
        ) from None
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"store {path} has schema version {version}, this dcbench reads {SCHEMA_VERSION}: "
            "export it with the dcbench that wrote it or use --store NEW_PATH"
        )
    return version


def create_schema(conn: sqlite3.Connection, created_at: str, dcbench_version: str) -> None:
    """Create every table and the ``meta`` rows; the caller holds the write transaction."""
    for statement in SCHEMA_SQL:
        conn.execute(statement)
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [
            ("application", APPLICATION),
            ("schema_version", str(SCHEMA_VERSION)),
            ("created_at", created_at),
            ("created_by", f"dcbench {dcbench_version}"),
        ],
    )


def check_status(status: str, *, final: bool) -> None:
    """Raise the standard 'unknown run status' error unless ``status`` is valid.

    ``final`` excludes 'running' (a run is finished with an outcome, not 'running').
    """
    allowed = tuple(s for s in STATUSES if not (final and s == "running"))
    if status not in allowed:
        raise unknown("run status", str(status), allowed)
