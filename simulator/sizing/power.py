"""Power sizing: IT and facility power, energy, electricity cost, carbon and racks.

Formulas (W, J, s):

* gpu_w = gpus * per-GPU power, where per-GPU power is a measured average
  from a profile when given, else TDP * gpu_tdp_fraction.
* host_w = nodes * host_power_w_per_node (CPUs, memory, fans, NICs, NVSwitch).
* network_w = switches * switch_power_w; storage_w = storage_bytes * storage_w_per_byte.
* it_w = gpu_w + host_w + network_w + storage_w.
* facility_w = it_w * pue. PUE is total facility power over IT power
  (The Green Grid, "PUE: A Comprehensive Examination of the Metric", 2012).
* energy_j = facility_w * run_time_s; kWh = J / 3.6e6.
* electricity_cost_usd = kWh * electricity_usd_per_kwh.
* carbon_kg = kWh * carbon_g_per_kwh / 1000 (location-based CO2).
* racks = ceil(it_w / rack_power_w).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from simulator.sizing import checks

#: Joules in one kilowatt-hour (1000 W * 3600 s).
J_PER_KWH = 3.6e6

GpuPowerSource = Literal["tdp", "measured"]


@dataclass(frozen=True, kw_only=True, slots=True)
class PowerAssumptions:
    """Named power inputs; each default says where it comes from."""

    # Fraction of TDP each GPU draws when no measurement is given; 1.0 = TDP (conservative).
    gpu_tdp_fraction: float = 1.0
    # Non-GPU power per 8-GPU node: DGX H100 system power 10.2 kW max (NVIDIA DGX H100
    # datasheet) minus 8 x 700 W H100 SXM TDP (Llama 3 paper §3.3.1) = 4,600 W.
    host_power_w_per_node: float = 4600.0
    # Per 64-port 400G switch incl. optics. NVIDIA Quantum-2 QM9700 datasheet, max
    # power with active cables, as commonly quoted (verified: false, secondary).
    switch_power_w: float = 1720.0
    # Storage servers per stored byte. Illustrative (2025): 10 W per TB of capacity.
    storage_w_per_byte: float = 10.0 / 1e12
    # Facility / IT power. Illustrative (2025) for a new AI facility, between Google's
    # 2023 fleet PUE of 1.10 (Google 2024 Environmental Report) and the Uptime Institute
    # 2023 global survey average of 1.58.
    pue: float = 1.2
    # US industrial average retail price 2023: 8.06 cents/kWh (EIA Electric Power Annual).
    electricity_usd_per_kwh: float = 0.0806
    # US 2023 grid average: 1.53e9 t CO2 / 4.18e12 kWh = 366 g/kWh (EIA FAQ "How much
    # carbon dioxide is produced per kilowatthour of U.S. electricity generation?").
    carbon_g_per_kwh: float = 366.0
    # IT power one rack can feed and cool. Illustrative: four 10.2 kW DGX H100 per rack.
    rack_power_w: float = 40_800.0

    def __post_init__(self) -> None:
        checks.positive("gpu_tdp_fraction", self.gpu_tdp_fraction)
        checks.non_negative("host_power_w_per_node", self.host_power_w_per_node)
        checks.non_negative("switch_power_w", self.switch_power_w)
        checks.non_negative("storage_w_per_byte", self.storage_w_per_byte)
        checks.at_least("pue", self.pue, 1.0)
        checks.non_negative("electricity_usd_per_kwh", self.electricity_usd_per_kwh)
        checks.non_negative("carbon_g_per_kwh", self.carbon_g_per_kwh)
        checks.positive("rack_power_w", self.rack_power_w)


@dataclass(frozen=True, kw_only=True, slots=True)
class PowerInputs:
    """What the planner supplies (W, s, bytes); switches and storage come from the other sizings."""

    gpus: int
    gpus_per_node: int
    gpu_tdp_w: float  # from the GPU catalog
    run_time_s: float  # wall-clock time of the run
    measured_gpu_power_w: float | None = None  # average per-GPU power from a profile
    switches: int = 0  # from NetworkSizing.switches
    storage_bytes: float = 0.0  # from StorageSizing.capacity_bytes

    def __post_init__(self) -> None:
        checks.positive_int("gpus", self.gpus)
        checks.positive_int("gpus_per_node", self.gpus_per_node)
        checks.positive("gpu_tdp_w", self.gpu_tdp_w)
        checks.positive("run_time_s", self.run_time_s)
        checks.optional_positive("measured_gpu_power_w", self.measured_gpu_power_w)
        checks.non_negative_int("switches", self.switches)
        checks.non_negative("storage_bytes", self.storage_bytes)


@dataclass(frozen=True, kw_only=True, slots=True)
class PowerSizing:
    """Power, energy, cost of electricity and carbon for the run."""

    gpu_power_w_each: float
    gpu_power_source: GpuPowerSource
    nodes: int
    gpu_w: float
    host_w: float
    network_w: float
    storage_w: float
    it_w: float
    pue: float
    facility_w: float
    run_time_s: float
    it_energy_j: float
    energy_j: float  # facility energy for the run
    electricity_cost_usd: float
    carbon_kg: float  # kg CO2, location-based
    racks: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field."""
        return asdict(self)


def size_power(inputs: PowerInputs, assumptions: PowerAssumptions | None = None) -> PowerSizing:
    """Size power, energy, electricity cost, carbon and racks for ``inputs`` (pure)."""
    a = assumptions or PowerAssumptions()
    if inputs.measured_gpu_power_w is not None:
        per_gpu, source = inputs.measured_gpu_power_w, "measured"
    else:
        per_gpu, source = inputs.gpu_tdp_w * a.gpu_tdp_fraction, "tdp"
    nodes = math.ceil(inputs.gpus / inputs.gpus_per_node)
    gpu_w = inputs.gpus * per_gpu
    host_w = nodes * a.host_power_w_per_node
    network_w = inputs.switches * a.switch_power_w
    storage_w = inputs.storage_bytes * a.storage_w_per_byte
    it_w = gpu_w + host_w + network_w + storage_w
    facility_w = it_w * a.pue
    energy_j = facility_w * inputs.run_time_s
    kwh = energy_j / J_PER_KWH
    return PowerSizing(
        gpu_power_w_each=per_gpu,
        gpu_power_source=source,  # type: ignore[arg-type]
        nodes=nodes,
        gpu_w=gpu_w,
        host_w=host_w,
        network_w=network_w,
        storage_w=storage_w,
        it_w=it_w,
        pue=a.pue,
        facility_w=facility_w,
        run_time_s=float(inputs.run_time_s),
        it_energy_j=it_w * inputs.run_time_s,
        energy_j=energy_j,
        electricity_cost_usd=kwh * a.electricity_usd_per_kwh,
        carbon_kg=kwh * a.carbon_g_per_kwh / 1000.0,
        racks=math.ceil(it_w / a.rack_power_w),
    )
