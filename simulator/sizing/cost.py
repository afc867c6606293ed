"""Cost sizing: owned (amortised capital + electricity) or cloud ($/GPU-hour).

Formulas (USD, s):

* gpu_hours = gpus * run_time_s / 3600.
* capex_usd = gpus * gpu_usd + nodes * host_usd_per_node + switches *
  switch_usd + transceivers * transceiver_usd + storage_bytes *
  storage_usd_per_byte + it_w * facility_usd_per_w.
* amortized_capex_usd = hardware capex * run_time_s / hardware_life_s +
  facility capex * run_time_s / facility_life_s, straight-line
  depreciation at full use; divide by ``utilization`` when the cluster idles.
* owned_total_usd = amortized_capex_usd + electricity_cost_usd.
* cloud_total_usd = gpu_hours * cloud_usd_per_gpu_hour (power, network and
  storage included in the rate).
* total_usd follows ``pricing``; usd_per_token = total / tokens;
  usd_per_pflop = total / (training_flops / 1e15).

Every price default is an ILLUSTRATIVE assumption dated 2025, not a quote:
replace them with real prices for any decision.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from simulator.sizing import checks

#: Seconds in one Julian year (365.25 days), for amortisation.
SECONDS_PER_YEAR = 365.25 * 24 * 3600
PRICINGS = ("owned", "cloud")
Pricing = Literal["owned", "cloud"]


@dataclass(frozen=True, kw_only=True, slots=True)
class CostAssumptions:
    """Named cost inputs. All prices are illustrative 2025 assumptions, not quotes."""

    pricing: Pricing = "owned"  # which total is `total_usd`: owned or cloud
    gpu_usd: float = 25_000.0  # per H100-class GPU (illustrative, 2025)
    host_usd_per_node: float = 75_000.0  # chassis, CPUs, memory, NICs per 8-GPU node (illustrative)
    switch_usd: float = 25_000.0  # per 64-port 400G switch (illustrative)
    transceiver_usd: float = 800.0  # per 400G optical transceiver (illustrative)
    storage_usd_per_byte: float = 200.0 / 1e12  # $200 per TB of capacity (illustrative)
    facility_usd_per_w: float = 10.0  # build cost per W of IT load, $10M/MW (illustrative)
    hardware_life_years: float = 5.0  # straight-line depreciation of IT hardware (illustrative)
    facility_life_years: float = 15.0  # depreciation of the building and plant (illustrative)
    utilization: float = 1.0  # fraction of the hardware's life it is busy (1.0 = always)
    cloud_usd_per_gpu_hour: float = 3.0  # on-demand H100-class rate (illustrative, 2025)

    def __post_init__(self) -> None:
        checks.choice("pricing", self.pricing, PRICINGS)
        for name in (
            "gpu_usd",
            "host_usd_per_node",
            "switch_usd",
            "transceiver_usd",
            "storage_usd_per_byte",
            "facility_usd_per_w",
            "cloud_usd_per_gpu_hour",
        ):
            checks.non_negative(name, getattr(self, name))
        checks.positive("hardware_life_years", self.hardware_life_years)
        checks.positive("facility_life_years", self.facility_life_years)
        checks.fraction("utilization", self.utilization)


@dataclass(frozen=True, kw_only=True, slots=True)
class CostInputs:
    """What the planner and the other sizings supply."""

    gpus: int
    gpus_per_node: int
    run_time_s: float
    switches: int = 0  # NetworkSizing.switches
    transceivers: int = 0  # NetworkSizing.transceivers
    storage_bytes: float = 0.0  # StorageSizing.capacity_bytes
    it_w: float = 0.0  # PowerSizing.it_w, for facility capex
    electricity_cost_usd: float = 0.0  # PowerSizing.electricity_cost_usd
    tokens: float | None = None  # training tokens, for $/token
    training_flops: float | None = None  # total training FLOPs, for $ per 1e15 FLOP

    def __post_init__(self) -> None:
        checks.positive_int("gpus", self.gpus)
        checks.positive_int("gpus_per_node", self.gpus_per_node)
        checks.positive("run_time_s", self.run_time_s)
        checks.non_negative_int("switches", self.switches)
        checks.non_negative_int("transceivers", self.transceivers)
        checks.non_negative("storage_bytes", self.storage_bytes)
        checks.non_negative("it_w", self.it_w)
        checks.non_negative("electricity_cost_usd", self.electricity_cost_usd)
        checks.optional_positive("tokens", self.tokens)
        checks.optional_positive("training_flops", self.training_flops)


@dataclass(frozen=True, kw_only=True, slots=True)
class CostSizing:
    """Cost of the run in US dollars."""

    pricing: Pricing
    gpu_hours: float
    gpu_capex_usd: float
    host_capex_usd: float
    network_capex_usd: float
    storage_capex_usd: float
    facility_capex_usd: float
    capex_usd: float
    amortized_capex_usd: float  # share of capex this run uses up
    electricity_cost_usd: float
    owned_total_usd: float
    cloud_total_usd: float
    total_usd: float  # owned_total_usd or cloud_total_usd, per `pricing`
    usd_per_gpu_hour: float  # total_usd / gpu_hours
    usd_per_token: float | None  # None without tokens
    usd_per_pflop: float | None  # per 1e15 FLOP; None without training_flops

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field."""
        return asdict(self)


def size_cost(inputs: CostInputs, assumptions: CostAssumptions | None = None) -> CostSizing:
    """Price the run for ``inputs`` under ``assumptions`` (pure)."""
    a = assumptions or CostAssumptions()
    nodes = math.ceil(inputs.gpus / inputs.gpus_per_node)
    gpu_hours = inputs.gpus * inputs.run_time_s / 3600.0
    gpu_capex = inputs.gpus * a.gpu_usd
    host_capex = nodes * a.host_usd_per_node
    network_capex = inputs.switches * a.switch_usd + inputs.transceivers * a.transceiver_usd
    storage_capex = inputs.storage_bytes * a.storage_usd_per_byte
    facility_capex = inputs.it_w * a.facility_usd_per_w
    hardware_capex = gpu_capex + host_capex + network_capex + storage_capex
    hardware_share = inputs.run_time_s / (a.hardware_life_years * SECONDS_PER_YEAR)
    facility_share = inputs.run_time_s / (a.facility_life_years * SECONDS_PER_YEAR)
    amortized = (hardware_capex * hardware_share + facility_capex * facility_share) / a.utilization
    owned = amortized + inputs.electricity_cost_usd
    cloud = gpu_hours * a.cloud_usd_per_gpu_hour
    total = owned if a.pricing == "owned" else cloud
    return CostSizing(
        pricing=a.pricing,
        gpu_hours=gpu_hours,
        gpu_capex_usd=gpu_capex,
        host_capex_usd=host_capex,
        network_capex_usd=network_capex,
        storage_capex_usd=storage_capex,
        facility_capex_usd=facility_capex,
        capex_usd=hardware_capex + facility_capex,
        amortized_capex_usd=amortized,
        electricity_cost_usd=inputs.electricity_cost_usd,
        owned_total_usd=owned,
        cloud_total_usd=cloud,
        total_usd=total,
        usd_per_gpu_hour=total / gpu_hours,
        usd_per_token=None if inputs.tokens is None else total / inputs.tokens,
        usd_per_pflop=None
        if inputs.training_flops is None
        else total / (inputs.training_flops / 1e15),
    )
