"""CPU package energy from RAPL through the Linux powercap files.

Each top-level zone ``/sys/class/powercap/intel-rapl:<n>`` whose ``name`` starts
with ``package`` is one CPU package (socket); AMD CPUs appear under the same
driver and names. ``energy_uj`` is a cumulative counter in microjoules that
wraps to 0 after ``max_energy_range_uj`` (Linux kernel documentation,
``Documentation/power/powercap/powercap.rst``: "energy_uj: Current energy
counter in micro joules", "max_energy_range_uj: Range of the above energy
counter in micro-joules"). The counter therefore counts modulo
``max_energy_range_uj + 1`` microjoules; the aggregation unwraps it with that
modulus (``counter_ranges``).

Keys: ``rapl.<zone name>.energy_counter_j`` (joules, raw counter, not a delta).

Since Linux 5.10 ``energy_uj`` is readable by root only (CVE-2020-8694), so on
most machines an ordinary user gets "RAPL not readable" and the energy of the
CPU stays null with that reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dcbench.telemetry.base import Reading, SensorBackend

POWERCAP_ROOT = Path("/sys/class/powercap")

# Intel SDM Vol. 3B, "Package RAPL Domain" (MSR_PKG_ENERGY_STATUS): the package
# energy status counter "is updated every ~1msec".
RAPL_COUNTER_UPDATE_S = 1e-3

_TOP_LEVEL_ZONE = re.compile(r"^intel-rapl:\d+$")
_FIX = (
    "run as root, or let this user read it: "
    "sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj"
)


@dataclass(frozen=True, slots=True)
class RaplZone:
    """One readable package zone: its key label, counter file and wrap modulus."""

    label: str  # "package-0"
    energy_path: Path  # .../intel-rapl:0/energy_uj
    range_j: float  # wrap modulus in joules: (max_energy_range_uj + 1) / 1e6

    @property
    def key(self) -> str:
        return f"rapl.{self.label}.energy_counter_j"


def find_zones(root: Path = POWERCAP_ROOT) -> tuple[list[RaplZone], str | None]:
    """The readable package zones under ``root``, or ([], reason) when there are none."""
    if not root.is_dir():
        return [], f"RAPL not readable: {root} does not exist (not Linux, or no powercap driver)"
    zones: list[RaplZone] = []
    problems: list[str] = []
    for zone_dir in sorted(root.iterdir()):
        if not _TOP_LEVEL_ZONE.match(zone_dir.name):
            continue
        try:
            label = (zone_dir / "name").read_text().strip()
            if not label.startswith("package"):
                continue
            range_uj = int((zone_dir / "max_energy_range_uj").read_text().strip())
            int((zone_dir / "energy_uj").read_text().strip())  # readable now?
        except PermissionError:
            problems.append(f"permission denied on {zone_dir / 'energy_uj'}; {_FIX}")
            continue
        except (OSError, ValueError) as err:
            problems.append(f"{zone_dir.name}: {err}")
            continue
        if any(z.label == label for z in zones):
            label = f"{label}-{zone_dir.name}"
        zones.append(RaplZone(label=label, energy_path=zone_dir / "energy_uj", range_j=(range_uj + 1) / 1e6))
    if zones:
        return zones, None
    if problems:
        return [], "RAPL not readable: " + "; ".join(problems)
    return [], f"RAPL not readable: no package zones (intel-rapl:N) under {root}"


class RaplBackend(SensorBackend):
    """Reads the package energy counters of every CPU socket."""

    name = "rapl"

    def __init__(self, root: Path = POWERCAP_ROOT) -> None:
        self.root = root
        self._zones: list[RaplZone] = []

    def available(self) -> tuple[bool, str | None]:
        self._zones, reason = find_zones(self.root)
        return bool(self._zones), reason

    def read(self) -> Reading:
        reading = Reading()
        for zone in self._zones:
            try:
                micro_j = int(zone.energy_path.read_text().strip())
            except PermissionError:
                reading.put(zone.key, None, f"RAPL not readable: permission denied on {zone.energy_path}")
                continue
            except (OSError, ValueError) as err:
                reading.put(zone.key, None, f"RAPL not readable: {err}")
                continue
            reading.put(zone.key, micro_j / 1e6)
        return reading

    def counter_ranges(self) -> dict[str, float]:
        return {zone.key: zone.range_j for zone in self._zones}

    def counter_update_periods_s(self) -> dict[str, float]:
        return {zone.key: RAPL_COUNTER_UPDATE_S for zone in self._zones}

    def details(self) -> dict[str, str]:
        return {zone.label: str(zone.energy_path.parent) for zone in self._zones}
