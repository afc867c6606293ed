"""Fixtures for the results-store tests: a fresh store file in a folder that does not exist yet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dcbench.store import ResultsStore


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "results.db"


@pytest.fixture
def store(store_path: Path) -> Iterator[ResultsStore]:
    with ResultsStore.open(store_path) as opened:
        yield opened

