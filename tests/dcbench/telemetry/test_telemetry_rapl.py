"""RAPL through powercap files: a real file tree in tmp_path, its wrap, and unreadable zones."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcbench.telemetry.energy import counter_delta
from dcbench.telemetry.rapl import RaplBackend, find_zones

MAX_RANGE_UJ = 262_143_328_850  # a real Skylake-SP package's max_energy_range_uj


def _zone(root: Path, name: str, label: str, energy_uj: int, max_uj: int = MAX_RANGE_UJ) -> Path:
    zone = root / name
    zone.mkdir(parents=True)
    (zone / "name").write_text(f"{label}\n")
    (zone / "energy_uj").write_text(f"{energy_uj}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return zone


def test_reads_package_zones_only(tmp_path: Path) -> None:
    _zone(tmp_path, "intel-rapl:0", "package-0", 1_500_000)
    _zone(tmp_path, "intel-rapl:0:0", "core", 700_000)  # a subzone: not a package
    _zone(tmp_path, "intel-rapl:1", "psys", 9_000_000)  # platform zone: not a package
    _zone(tmp_path, "intel-rapl:2", "package-1", 2_250_000)
    backend = RaplBackend(root=tmp_path)
    assert backend.available() == (True, None)
    reading = backend.read()
    # 1,500,000 uJ = 1.5 J; 2,250,000 uJ = 2.25 J.
    assert reading.values == {
        "rapl.package-0.energy_counter_j": pytest.approx(1.5),
        "rapl.package-1.energy_counter_j": pytest.approx(2.25),
    }
    # Wrap modulus: (262,143,328,850 + 1) uJ = 262,143.328851 J.
    assert backend.counter_ranges()["rapl.package-0.energy_counter_j"] == pytest.approx(262143.328851)
    assert backend.counter_update_periods_s()["rapl.package-1.energy_counter_j"] == pytest.approx(1e-3)


def test_a_wrap_read_from_files_is_recovered(tmp_path: Path) -> None:
    zone = _zone(tmp_path, "intel-rapl:0", "package-0", MAX_RANGE_UJ - 4_000_000)  # 4 J below the top
    backend = RaplBackend(root=tmp_path)
    backend.available()
    first = backend.read().values["rapl.package-0.energy_counter_j"]
    (zone / "energy_uj").write_text("6000000\n")  # wrapped: 6 J past zero
    second = backend.read().values["rapl.package-0.energy_counter_j"]
    assert isinstance(first, float) and isinstance(second, float)
    key = "rapl.package-0.energy_counter_j"
    delta = counter_delta([(0.0, first), (1.0, second)], 0.0, 1.0, backend.counter_ranges()[key])
    # 4 J to the top, 1 uJ for the step from max to 0, then 6 J: 10.000001 J.
    assert delta is not None and delta.delta == pytest.approx(10.000001)


def test_no_powercap_tree(tmp_path: Path) -> None:
    ok, reason = RaplBackend(root=tmp_path / "missing").available()
    assert not ok
    assert reason is not None and reason.startswith("RAPL not readable:")
    assert "does not exist" in reason


def test_no_package_zone(tmp_path: Path) -> None:
    _zone(tmp_path, "intel-rapl:0", "psys", 1)
    zones, reason = find_zones(tmp_path)
    assert zones == []
    assert reason == f"RAPL not readable: no package zones (intel-rapl:N) under {tmp_path}"


def test_permission_denied_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Linux 5.10+ makes energy_uj root-only. Tests may run as root, where chmod cannot deny a read,
    # so the kernel's answer (EACCES) is reproduced for that one file.
    zone = _zone(tmp_path, "intel-rapl:0", "package-0", 10)
    denied = zone / "energy_uj"
    real_read_text = Path.read_text

    def read_text(self: Path, *args: object, **kwargs: object) -> str:
        if self == denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", read_text)
    ok, reason = RaplBackend(root=tmp_path).available()
    assert not ok
    assert reason == (
        f"RAPL not readable: permission denied on {denied}; run as root, or let this user read it: "
        "sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj"
    )


def test_a_zone_that_breaks_after_opening_becomes_null(tmp_path: Path) -> None:
    zone = _zone(tmp_path, "intel-rapl:0", "package-0", 10)
    backend = RaplBackend(root=tmp_path)
    assert backend.available()[0]
    (zone / "energy_uj").unlink()
    (zone / "energy_uj").mkdir()  # reading a directory fails with an OSError
    reading = backend.read()
    assert reading.values["rapl.package-0.energy_counter_j"] is None
    assert reading.null_reasons["rapl.package-0.energy_counter_j"].startswith("RAPL not readable:")
