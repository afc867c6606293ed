"""Opening a store: creation, settings, and refusing files it must not touch."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from store_helpers import begin

from dcbench.errors import NotFoundError, StoreError
from dcbench.store import SCHEMA_VERSION, ResultsStore


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_open_creates_folders_schema_and_settings(store_path: Path) -> None:
    assert not store_path.parent.exists()
    with ResultsStore.open(store_path) as store:
        conn = store._live()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert store.integrity_check() == "ok"
    with sqlite3.connect(store_path) as conn:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert meta["schema_version"] == str(SCHEMA_VERSION) == "1"
    assert meta["application"] == "dcbench-results"
    assert {"meta", "runs", "step_times", "timelines"} <= tables


def test_reopening_keeps_runs(store_path: Path) -> None:
    with ResultsStore.open(store_path) as store:
        run_id = begin(store)
        store.finish_run(run_id, "ok", summary={"k": 1}, step_times_s=[0.75])
    with ResultsStore.open(store_path) as store:
        assert [r.run_id for r in store.list_runs()] == [run_id]
        assert store.step_times(run_id) == [0.75]


def test_another_schema_version_is_refused_untouched(store_path: Path) -> None:
    ResultsStore.open(store_path).close()
    with sqlite3.connect(store_path) as conn:
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    before = _digest(store_path)
    with pytest.raises(StoreError) as err:
        ResultsStore.open(store_path)
    assert str(err.value) == (
        f"store {store_path} has schema version 3, this dcbench reads 1: "
        "export it with the dcbench that wrote it or use --store NEW_PATH"
    )
    assert _digest(store_path) == before


def test_an_sqlite_file_of_something_else_is_refused_untouched(tmp_path: Path) -> None:
    other = tmp_path / "inventory.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE servers (name TEXT)")
        conn.execute("INSERT INTO servers VALUES ('a1')")
    before = _digest(other)
    with pytest.raises(StoreError, match="is an SQLite database but not a dcbench results store; use --store"):
        ResultsStore.open(other)
    assert _digest(other) == before
    with sqlite3.connect(other) as conn:  # still the other program's database, in its journal mode
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_meta_table_of_another_program_is_not_enough(tmp_path: Path) -> None:
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    with pytest.raises(StoreError, match="not a dcbench results store"):
        ResultsStore.open(other)


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("these are my notes, not a database\n" * 200)
    before = _digest(text)
    with pytest.raises(StoreError, match="is not an SQLite database; use --store"):
        ResultsStore.open(text)
    assert _digest(text) == before


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    with ResultsStore.open(empty) as store:
        assert store.list_runs() == []


def test_unwritable_path_is_one_line_with_the_fix(tmp_path: Path) -> None:
    """Tests run as root, so a parent that is a regular file stands in for no permission."""
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    with pytest.raises(StoreError) as err:
        ResultsStore.open(blocker / "sub" / "results.db")
    message = str(err.value)
    assert "\n" not in message
    assert f"cannot create the store folder {blocker / 'sub'}" in message
    assert "--store NEW_PATH" in message and "DCBENCH_STORE" in message
    assert blocker.read_text() == "x"


def test_a_directory_is_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        ResultsStore.open(tmp_path)


def test_create_false_does_not_create(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "results.db"
    with pytest.raises(NotFoundError, match="no results store at"):
        ResultsStore.open(path, create=False)
    assert not path.parent.exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(NotFoundError, match="the file is empty"):
        ResultsStore.open(empty, create=False)
    assert empty.read_bytes() == b""


def test_a_closed_store_says_so(store_path: Path) -> None:
    store = ResultsStore.open(store_path)
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="is closed"):
        store.list_runs()


def test_a_read_only_store_fails_writes_in_one_line_and_keeps_runs(store_path: Path) -> None:
    with ResultsStore.open(store_path) as store:
        kept = begin(store)
    ro = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True, isolation_level=None)
    store = ResultsStore(ro, store_path, busy_timeout_s=1.0)
    with pytest.raises(StoreError) as err:
        begin(store)
    assert "\n" not in str(err.value) and "read-only" in str(err.value)
    store.close()
    with ResultsStore.open(store_path) as store:
        assert [r.run_id for r in store.list_runs()] == [kept]
