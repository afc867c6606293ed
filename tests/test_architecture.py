"""The import rules of the architecture (README "Layout"), checked on the source text.

- ``simulator/`` never imports torch (planning runs on any laptop).
- No package imports the CLI (``dcbench.cli``): imports flow one way.
- ``workloads/`` and ``simulator/`` use nothing of ``dcbench`` but ``dcbench.errors``.
- ``reports/`` reads data and never runs workloads: it does not import ``workloads``
  or the harness.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.extend((path, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


def _violations(package: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    bad = []
    for path, module in _imports(package):
        if module in allowed:
            continue
        if any(module == f or module.startswith(f + ".") for f in forbidden):
            bad.append(f"{path.relative_to(ROOT)} imports {module}")
    return bad


@pytest.mark.parametrize("package", ["workloads", "simulator", "reports"])
def test_no_package_imports_the_cli(package: str) -> None:
    assert _violations(package, ("dcbench.cli",)) == []


@pytest.mark.parametrize("package", ["workloads", "simulator"])
def test_models_and_simulator_use_only_dcbench_errors(package: str) -> None:
    assert _violations(package, ("dcbench",), allowed=("dcbench.errors",)) == []


def test_simulator_never_imports_torch_in_source() -> None:
    assert _violations("simulator", ("torch",)) == []


def test_reports_never_run_workloads() -> None:
    assert _violations("reports", ("workloads", "torch", "dcbench.harness")) == []


def test_the_harness_does_not_import_the_cli() -> None:
    for sub in ("harness", "telemetry", "store", "hardware"):
        assert _violations(f"dcbench/{sub}", ("dcbench.cli",)) == []
