"""The results store: one SQLite file holding every run, its step times and telemetry.

Durability choices (docs/store.md explains them):

- WAL journal: readers (``dcbench results``) never block the writer and a
  crashed writer never leaves a half-written run visible; SQLite's atomic
  commit guarantees a transaction is either fully in the file or not at all
  (https://www.sqlite.org/atomiccommit.html, https://www.sqlite.org/wal.html).
- ``synchronous=FULL``: each commit is fsynced before it returns, so a run that
  was reported stored also survives a power cut. In WAL mode ``NORMAL`` is
  equally safe against process crashes but may lose the last commits on power
  loss (https://www.sqlite.org/pragma.html#pragma_synchronous); a run commits
  twice (begin, finish), so the fsync costs nothing next to minutes of training.
- Every write is one ``BEGIN IMMEDIATE`` transaction: it takes the write lock
  up front, so concurrent writers (``dcbench bench all`` runs one process per
  workload) wait on the busy timeout instead of failing on a lock upgrade.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from dcbench import __version__
from dcbench.errors import NotFoundError, StoreError, UsageError
from dcbench.store.records import (
    IndexedColumns,
    RunRecord,
    checked_step_times,
    count_samples,
    dumps,
    iso_utc,
    loads,
    new_run_id,
    record_from_row,
    utc_now,
)
from dcbench.store.schema import check_status, create_schema, stored_version

BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another writer's transaction
LATEST = "latest"  # get_run alias for the newest run
_FIX = "use --store NEW_PATH (or set DCBENCH_STORE) to keep results somewhere writable"
_ID_RETRIES = 8


def _hint(err: sqlite3.Error, busy_timeout_s: float) -> str:
    """The fix to suggest for an SQLite error, by its message."""
    text = str(err).lower()
    if "locked" in text or "busy" in text:
        return f"another process held the store for over {busy_timeout_s:g} s; retry when it is done"
    if "readonly" in text or "read-only" in text:
        return "the store is read-only; make it writable or " + _FIX
    if "malformed" in text or "not a database" in text:
        return "the file is damaged or not a store and was left as it is; " + _FIX
    if "disk" in text or "full" in text or "unable to open" in text:
        return "check free disk space and permissions, or " + _FIX
    return _FIX


class ResultsStore:
    """An open results store; use :meth:`open`. Also a context manager that closes it."""

    def __init__(self, conn: sqlite3.Connection, path: Path, busy_timeout_s: float) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.path = path
        self._busy_timeout_s = busy_timeout_s
        self._pid = os.getpid()
        self._host = socket.gethostname()

    # ---- opening and closing -------------------------------------------------------
    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, create: bool = True, busy_timeout_s: float = BUSY_TIMEOUT_S
    ) -> ResultsStore:
        """Open the store at ``path``, creating its folder and schema if ``create``.

        Raises StoreError (one line naming the fix) when the path cannot be written,
        is not a dcbench store, or has another schema version; the file is then
        left unchanged. With ``create=False`` a missing store raises NotFoundError.
        """
        store_path = Path(path)
        if store_path.is_dir():
            raise StoreError(f"store path {store_path} is a directory, not a file; {_FIX}")
        if not store_path.exists():
            if not create:
                raise NotFoundError(
                    f"no results store at {store_path}; run 'dcbench bench WORKLOAD' first "
                    "or pass --store PATH"
                )
            try:
                store_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                reason = err.strerror or type(err).__name__
                raise StoreError(
                    f"cannot create the store folder {store_path.parent}: {reason}; {_FIX}"
                ) from None
        try:
            conn = sqlite3.connect(str(store_path), timeout=busy_timeout_s, isolation_level=None)
        except sqlite3.Error as err:
            raise StoreError(
                f"cannot open store {store_path}: {err}; {_hint(err, busy_timeout_s)}"
            ) from None
        store = cls(conn, store_path, busy_timeout_s)
        try:
            store._prepare(create)
        except BaseException:
            conn.close()
            raise
        return store

    def _prepare(self, create: bool) -> None:
        conn = self._live()
        conn.row_factory = sqlite3.Row
        with self._errors("open"):
            try:
                version = stored_version(conn, self.path)
            except sqlite3.DatabaseError as err:
                if "not a database" in str(err):
                    raise StoreError(
                        f"{self.path} is not an SQLite database; {_FIX}"
                    ) from None
                raise
            if version is None and not create:
                raise NotFoundError(
                    f"no results store at {self.path} (the file is empty); run 'dcbench bench "
                    "WORKLOAD' first or pass --store PATH"
                )
            if version is None:
                with self._transaction():
                    # Another process may have created the schema while we waited.
                    if stored_version(conn, self.path) is None:
                        create_schema(conn, iso_utc(utc_now()), __version__)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        """Close the connection (idempotent); committed runs are already on disk."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"store {self.path} is closed; open it again")
        return self._conn

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn SQLite errors into one-line StoreErrors that name the store and the fix."""
        try:
            yield
        except sqlite3.Error as err:
            raise StoreError(
                f"cannot {action} store {self.path}: {err}; {_hint(err, self._busy_timeout_s)}"
            ) from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole, or rolled back on any exception (Ctrl-C too)."""
        conn = self._live()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @staticmethod
    @contextmanager
    def _fresh_id_or_retry() -> Iterator[None]:
        """Turn a primary-key clash on ``runs.run_id`` into :class:`_IdClash`."""
        try:
            yield
        except sqlite3.IntegrityError as err:
            if "runs.run_id" in str(err):
                raise _IdClash from None
            raise

    # ---- writing -------------------------------------------------------------------
    def begin_run(
        self,
        *,
        workload: str,
        size: str,
        device: str,
        dtype: str,
        label: str | None = None,
        config: dict[str, Any],
        metadata: dict[str, Any],
    ) -> str:
        """Insert a run with status 'running' in its own transaction and return its id."""
        config_json, metadata_json = dumps(config), dumps(metadata)
        for _ in range(_ID_RETRIES):
            now = utc_now()
            run_id = new_run_id(now)
            try:
                with self._errors("write to"), self._fresh_id_or_retry(), self._transaction() as conn:
                    conn.execute(
                        """INSERT INTO runs (run_id, created_at, status, workload, size, device,
                               dtype, label, config_json, metadata_json, writer_pid, writer_host)
                           VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        (run_id, iso_utc(now), workload, size, device, dtype, label,
                         config_json, metadata_json, self._pid, self._host),
                    )
            except _IdClash:
                continue  # same second and same random part: draw again
            return run_id
        raise StoreError(f"could not draw a unique run id in {self.path}; try again")

    def finish_run(
        self,
        run_id: str,
        status: str,
        *,
        summary: dict[str, Any] | None,
        step_times_s: Sequence[float],
        timeline: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Write the run's outcome in ONE transaction: status, summary, every step time, timeline.

        ``step_times_s`` are durations in seconds (finite, >= 0); calling again
        replaces what an earlier call wrote.
        """
        check_status(status, final=True)
        times = checked_step_times(step_times_s)
        summary_json = None if summary is None else dumps(summary)
        timeline_json = None if timeline is None else dumps(timeline)
        n_samples = count_samples(timeline)
        cols = IndexedColumns.from_summary(summary)
        with self._errors("write to"), self._transaction() as conn:
            cur = conn.execute(
                """UPDATE runs SET status = ?, finished_at = ?, summary_json = ?, error = ?,
                       n_steps = ?, n_samples = ?, median_step_time_s = ?, samples_per_s = ?,
                       tokens_per_s = ?, mfu = ?, energy_j = ?
                   WHERE run_id = ?""",
                (status, iso_utc(utc_now()), summary_json, error, len(times), n_samples,
                 cols.median_step_time_s, cols.samples_per_s, cols.tokens_per_s, cols.mfu,
                 cols.energy_j, run_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no run {run_id!r} in {self.path} to finish")
            conn.execute("DELETE FROM step_times WHERE run_id = ?", (run_id,))
            conn.executemany(
                "INSERT INTO step_times (run_id, step_index, step_time_s) VALUES (?, ?, ?)",
                ((run_id, i, t) for i, t in enumerate(times)),
            )
            conn.execute("DELETE FROM timelines WHERE run_id = ?", (run_id,))
            if timeline_json is not None:
                conn.execute(
                    "INSERT INTO timelines (run_id, n_samples, timeline_json) VALUES (?, ?, ?)",
                    (run_id, n_samples, timeline_json),
                )

    def mark_status(self, run_id: str, status: str) -> None:
        """Set a run's status alone (e.g. 'interrupted' after Ctrl-C), keeping what it stored."""
        check_status(status, final=False)
        finished_at = None if status == "running" else iso_utc(utc_now())
        with self._errors("write to"), self._transaction() as conn:
            cur = conn.execute(
                "UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?",
                (status, finished_at, run_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no run {run_id!r} in {self.path}")

    # ---- reading -------------------------------------------------------------------
    def list_runs(
        self, limit: int | None = None, workload: str | None = None, status: str | None = None
    ) -> list[RunRecord]:
        """Runs newest first, optionally only one workload and/or status, at most ``limit``."""
        clauses: list[str] = []
        params: list[Any] = []
        if workload is not None:
            clauses.append("workload = ?")
            params.append(workload)
        if status is not None:
            check_status(status, final=False)
            clauses.append("status = ?")
            params.append(status)
        sql = "SELECT * FROM runs"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY created_at DESC, rowid DESC"
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise UsageError(f"--limit must be a positive number of runs, got {limit!r}")
            sql += " LIMIT ?"
            params.append(limit)
        with self._errors("read"):
            rows = self._live().execute(sql, params).fetchall()
        return [record_from_row(row) for row in rows]

    def get_run(self, ref: str) -> RunRecord:
        """The run whose id is ``ref`` or uniquely starts with it; 'latest' is the newest run."""
        conn = self._live()
        with self._errors("read"):
            if ref == LATEST:
                rows = conn.execute(
                    "SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1"
                ).fetchall()
                if not rows:
                    raise NotFoundError(f"no runs stored in {self.path} yet")
                return record_from_row(rows[0])
            row = conn.execute("SELECT * FROM runs WHERE run_id = ?", (ref,)).fetchone()
            if row is not None:
                return record_from_row(row)
            if not ref:
                raise NotFoundError("give a run id (see 'dcbench results list')")
            rows = conn.execute(
                "SELECT * FROM runs WHERE substr(run_id, 1, ?) = ? ORDER BY run_id LIMIT 6",
                (len(ref), ref),
            ).fetchall()
        if not rows:
            raise NotFoundError(
                f"no run {ref!r} in {self.path}; see 'dcbench results list' for run ids"
            )
        if len(rows) > 1:
            shown = ", ".join(r["run_id"] for r in rows[:5])
            more = ", ..." if len(rows) > 5 else ""
            raise NotFoundError(
                f"run id prefix {ref!r} is ambiguous ({shown}{more}); type more of the id"
            )
        return record_from_row(rows[0])

    def step_times(self, run_id: str) -> list[float]:
        """The run's measured step times in seconds, in step order."""
        with self._errors("read"):
            conn = self._live()
            rows = conn.execute(
                "SELECT step_time_s FROM step_times WHERE run_id = ? ORDER BY step_index",
                (run_id,),
            ).fetchall()
            if not rows:
                self._require(run_id)
        return [float(r[0]) for r in rows]

    def timeline(self, run_id: str) -> dict[str, Any] | None:
        """The run's telemetry timeline as stored (None when the run stored none)."""
        with self._errors("read"):
            row = self._live().execute(
                "SELECT timeline_json FROM timelines WHERE run_id = ?", (run_id,)
            ).fetchone()
            if row is None:
                self._require(run_id)
                return None
        result = loads(row[0])
        return result if isinstance(result, dict) else None

    def _require(self, run_id: str) -> None:
        found = self._live().execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if found is None:
            raise NotFoundError(f"no run {run_id!r} in {self.path}")

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` answer ('ok' when the file is sound)."""
        with self._errors("check"):
            rows = self._live().execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(r[0]) for r in rows)


class _IdClash(Exception):
    """A freshly drawn run id already exists (drawn again by begin_run)."""
