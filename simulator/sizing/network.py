"""Network sizing: NICs, injection and bisection bandwidth, per-step traffic, fat-tree counts.

Two network tiers carry a training step's traffic:

* **scale-up**: the NVLink/NVSwitch domain inside a node (tensor parallelism,
  in-node expert parallelism);
* **scale-out**: the NICs and the fat-tree fabric between nodes (data-parallel
  gradient sync, pipeline send/recv, context parallelism, cross-node experts).

The planner supplies the bytes each GPU sends per step on each tier (see
:mod:`simulator.sizing.traffic` for the nccl-tests factors) and the
compute-only step time; this module says how many NICs, switches and cables
that needs and whether the network or the compute bounds the step.

Formulas (all rates in bytes/s, one direction):

* injection per GPU = nics_per_gpu * nic_bits_per_s / 8
* time on a tier = bytes per GPU / (tier bandwidth per GPU * link_efficiency)
* required scale-out rate to hide comm inside compute = scale_out_bytes_per_gpu / compute_time_s
* required bisection = gpus * crossing_bytes_per_gpu / 2 / compute_time_s: with
  destinations spread over the cluster (data-parallel groups span it), half
  of all bytes sent cross any balanced cut (uniform-traffic bound; a single
  ring crosses it twice only, so this is the conservative figure)
* built bisection = fat-tree bisection links * nic_bits_per_s / 8
  (:mod:`simulator.sizing.fattree`)
* bound = "network" when the slowest tier needs longer than compute_time_s,
  i.e. even perfect overlap cannot hide the communication, else "compute".

Bytes crossing each fabric level assume uniform destinations: a byte leaves
its leaf with probability (N - n_leaf) / (N - 1) for N endpoints and n_leaf
endpoints per leaf (likewise per pod). Rail-aligned rings keep more traffic
local, so these are upper estimates.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from dcbench.errors import UsageError
from simulator.sizing import checks
from simulator.sizing.fattree import FatTree, size_fat_tree

Bound = Literal["network", "compute"]


@dataclass(frozen=True, kw_only=True, slots=True)
class NetworkAssumptions:
    """Named network inputs with their defaults and sources (rates in bits/s or bytes/s)."""

    # InfiniBand NDR, 400 Gb/s per port, one NIC per GPU: Llama 3 cluster
    # (Dubey et al., "The Llama 3 Herd of Models", arXiv:2407.21783, §3.3.1) and
    # MLPerf system descriptions ("ConnectX-7 IB NDR 400Gb/Sec").
    nic_bits_per_s: float = 400e9
    # One scale-out NIC port per GPU (Llama 3 §3.3.1; DGX H100: 8 ConnectX-7 per 8 GPUs).
    nics_per_gpu: int = 1
    # Scale-up (NVLink) bandwidth per GPU per direction: H100 NVLink 4 is 900 GB/s
    # total, 450 GB/s each way (MLPerf system description files). Override from
    # the GPU catalog for other GPUs.
    scale_up_bytes_per_s: float = 450e9
    # Fraction of line rate a large collective achieves: NVIDIA/nccl-tests issue 212
    # reports ~370 GB/s ring busbw on 450 GB/s/direction H100 NVLink (~20% protocol
    # overhead); dcbench applies the same 0.8 to NICs (assumption).
    link_efficiency: float = 0.8
    # 64-port switches: NVIDIA Quantum-2 QM9700, 64 x NDR 400 Gb/s (used in every
    # DGX SuperPOD H100/B200 reference architecture).
    switch_radix: int = 64
    # Leaf down:up port ratio; 1.0 = non-blocking (DGX SuperPOD compute fabric).
    leaf_oversubscription: float = 1.0
    # Spine down:up ratio in three-tier fabrics; Llama 3 used 1:7 at the
    # aggregation layer above its 3,072-GPU full-bisection pods (§3.3.1).
    spine_oversubscription: float = 1.0
    # Dedicate each leaf to one NIC rail (DGX SuperPOD reference architecture).
    rail_optimized: bool = False
    # None: fewest tiers that fit; 1, 2 or 3 forces a tier count.
    tiers: int | None = None
    # Pluggable transceivers per link (one at each end; twin-port OSFP parts carry
    # two links per module on the switch side, halving that side's count).
    transceivers_per_link: int = 2

    def __post_init__(self) -> None:
        checks.positive("nic_bits_per_s", self.nic_bits_per_s)
        checks.positive_int("nics_per_gpu", self.nics_per_gpu)
        checks.positive("scale_up_bytes_per_s", self.scale_up_bytes_per_s)
        checks.fraction("link_efficiency", self.link_efficiency)
        checks.positive_int("switch_radix", self.switch_radix)
        if self.switch_radix < 2:
            raise UsageError(f"switch_radix must be >= 2 (got {self.switch_radix})")
        checks.at_least("leaf_oversubscription", self.leaf_oversubscription, 1.0)
        checks.at_least("spine_oversubscription", self.spine_oversubscription, 1.0)
        if not isinstance(self.rail_optimized, bool):
            raise UsageError(f"rail_optimized must be true or false (got {self.rail_optimized!r})")
        if self.tiers is not None and checks.positive_int("tiers", self.tiers) > 3:
            raise UsageError(
                f"tiers must be 1, 2 or 3 (got {self.tiers}); or omit it for automatic"
            )
        checks.non_negative_int("transceivers_per_link", self.transceivers_per_link)


@dataclass(frozen=True, kw_only=True, slots=True)
class NetworkInputs:
    """What the planner computes for one training step (bytes per GPU, seconds)."""

    gpus: int
    gpus_per_node: int  # GPUs in one scale-up (NVLink) domain
    compute_time_s: float  # step time with no exposed communication
    scale_up_bytes_per_gpu: float = 0.0  # bytes each GPU sends per step over NVLink
    scale_out_bytes_per_gpu: float = 0.0  # bytes each GPU sends per step over its NICs
    # Part of scale_out_bytes_per_gpu that spreads over the whole cluster (data-parallel
    # gradient sync) and so must cross the bisection; None = all of it.
    dp_bytes_per_gpu: float | None = None
    step_time_s: float | None = None  # planner's step time incl. exposed comm, for NIC utilisation

    def __post_init__(self) -> None:
        checks.positive_int("gpus", self.gpus)
        checks.positive_int("gpus_per_node", self.gpus_per_node)
        checks.positive("compute_time_s", self.compute_time_s)
        checks.non_negative("scale_up_bytes_per_gpu", self.scale_up_bytes_per_gpu)
        scale_out = checks.non_negative("scale_out_bytes_per_gpu", self.scale_out_bytes_per_gpu)
        if self.dp_bytes_per_gpu is not None:
            dp = checks.non_negative("dp_bytes_per_gpu", self.dp_bytes_per_gpu)
            if dp > scale_out:
                raise UsageError(
                    f"dp_bytes_per_gpu ({dp:g}) exceeds scale_out_bytes_per_gpu ({scale_out:g}); "
                    "data-parallel bytes are part of the scale-out bytes"
                )
        checks.optional_positive("step_time_s", self.step_time_s)


@dataclass(frozen=True, kw_only=True, slots=True)
class NetworkSizing:
    """Network sizing result. Rates are bytes/s in one direction unless named bits."""

    gpus: int
    nodes: int
    nics_per_gpu: int
    nics: int  # scale-out NIC ports in the cluster
    nic_bits_per_s: float
    injection_bytes_per_s_per_gpu: float  # NIC line rate per GPU
    injection_bytes_per_s: float  # all GPUs together
    scale_up_bytes_per_step: float  # all GPUs, one step, NVLink tier
    scale_out_bytes_per_step: float  # all GPUs, one step, NIC tier
    leaf_uplink_bytes_per_step: float  # uniform-destination estimate of bytes leaving leaves
    core_bytes_per_step: float  # uniform-destination estimate of bytes leaving pods (3 tiers)
    scale_up_time_s: float  # one step's NVLink traffic at effective rate
    scale_out_time_s: float  # one step's NIC traffic at effective rate (NIC or bisection limit)
    required_scale_out_bytes_per_s_per_gpu: float  # payload rate to hide comm in compute
    required_nic_bits_per_s: float  # line rate per NIC port to hide comm (payload / efficiency)
    required_bisection_bytes_per_s: float  # to hide cluster-wide traffic inside compute
    bisection_bytes_per_s: float | None  # built by the fabric; None without a fabric (one node)
    bisection_ok: bool  # built bisection covers the requirement (True without a fabric)
    nic_utilization: float | None  # scale-out payload / (line rate * step time); None w/o step time
    bound: Bound  # "network" if a tier needs longer than compute_time_s, else "compute"
    bottleneck: str  # tier with the longest time: "scale_up", "scale_out" or "bisection"
    fabric: FatTree | None  # None when the job fits in one node (no scale-out fabric)
    fabric_note: str  # why there is no fabric, or "" when there is one
    switches: int
    links: int  # cables, host and inter-switch
    transceivers: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict; ``fabric`` is nested (or None)."""
        return asdict(self)


def size_network(
    inputs: NetworkInputs, assumptions: NetworkAssumptions | None = None
) -> NetworkSizing:
    """Size the scale-out network for ``inputs`` under ``assumptions`` (pure).

    Raises ``UsageError`` for inconsistent inputs (scale-out traffic on a
    single node) and ``InfeasibleError`` when no three-tier fat tree of the
    given radix holds the NICs.
    """
    a = assumptions or NetworkAssumptions()
    n = inputs.gpus
    nodes = math.ceil(n / inputs.gpus_per_node)
    nics = n * a.nics_per_gpu
    nic_bytes_per_s = a.nic_bits_per_s / 8.0
    injection_per_gpu = a.nics_per_gpu * nic_bytes_per_s
    crossing = (
        inputs.scale_out_bytes_per_gpu
        if inputs.dp_bytes_per_gpu is None
        else inputs.dp_bytes_per_gpu
    )

    fabric: FatTree | None
    if nodes == 1:
        if inputs.scale_out_bytes_per_gpu > 0:
            raise UsageError(
                f"scale_out_bytes_per_gpu is {inputs.scale_out_bytes_per_gpu:g} but all {n} GPUs "
                "fit in one node; put in-node traffic in scale_up_bytes_per_gpu"
            )
        fabric, note = None, "all GPUs are in one node: no scale-out fabric"
    else:
        fabric = size_fat_tree(
            endpoints=nics,
            switch_radix=a.switch_radix,
            leaf_oversubscription=a.leaf_oversubscription,
            spine_oversubscription=a.spine_oversubscription,
            tiers=a.tiers,
            rails=inputs.gpus_per_node * a.nics_per_gpu,
            rail_optimized=a.rail_optimized,
        )
        note = ""

    scale_out_step = n * inputs.scale_out_bytes_per_gpu
    leaf_up_step = core_step = 0.0
    bisection: float | None = None
    if fabric is not None and nics > 1:
        per_leaf = nics / fabric.leaf_switches
        leaf_up_step = scale_out_step * (nics - min(per_leaf, nics)) / (nics - 1)
        if fabric.tiers == 3:
            per_pod = nics / fabric.pods
            core_step = scale_out_step * (nics - min(per_pod, nics)) / (nics - 1)
        bisection = fabric.bisection_links * nic_bytes_per_s

    eff = a.link_efficiency
    scale_up_time = inputs.scale_up_bytes_per_gpu / (a.scale_up_bytes_per_s * eff)
    nic_time = inputs.scale_out_bytes_per_gpu / (injection_per_gpu * eff)
    crossing_step = n * crossing / 2.0
    bisection_time = crossing_step / (bisection * eff) if bisection else 0.0
    times = {"scale_up": scale_up_time, "scale_out": nic_time, "bisection": bisection_time}
    # Ties (a non-blocking fabric gives equal NIC and bisection times) go to the
    # earlier tier; the relative tolerance absorbs float rounding.
    bottleneck = "scale_up"
    for tier in ("scale_out", "bisection"):
        if times[tier] > times[bottleneck] * (1.0 + 1e-9):
            bottleneck = tier
    required_rate = inputs.scale_out_bytes_per_gpu / inputs.compute_time_s
    required_bisection = crossing_step / inputs.compute_time_s
    utilization = None
    if inputs.step_time_s is not None:
        utilization = inputs.scale_out_bytes_per_gpu / (injection_per_gpu * inputs.step_time_s)
    switches = fabric.switches if fabric else 0
    links = fabric.links if fabric else 0
    return NetworkSizing(
        gpus=n,
        nodes=nodes,
        nics_per_gpu=a.nics_per_gpu,
        nics=nics,
        nic_bits_per_s=a.nic_bits_per_s,
        injection_bytes_per_s_per_gpu=injection_per_gpu,
        injection_bytes_per_s=n * injection_per_gpu,
        scale_up_bytes_per_step=n * inputs.scale_up_bytes_per_gpu,
        scale_out_bytes_per_step=scale_out_step,
        leaf_uplink_bytes_per_step=leaf_up_step,
        core_bytes_per_step=core_step,
        scale_up_time_s=scale_up_time,
        scale_out_time_s=max(nic_time, bisection_time),
        required_scale_out_bytes_per_s_per_gpu=required_rate,
        required_nic_bits_per_s=required_rate * 8.0 / eff / a.nics_per_gpu,
        required_bisection_bytes_per_s=required_bisection,
        bisection_bytes_per_s=bisection,
        bisection_ok=bisection is None or required_bisection <= bisection * eff,
        nic_utilization=utilization,
        bound="network" if times[bottleneck] > inputs.compute_time_s else "compute",
        bottleneck=bottleneck,
        fabric=fabric,
        fabric_note=note,
        switches=switches,
        links=links,
        transceivers=links * a.transceivers_per_link,
    )
