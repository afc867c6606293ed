"""Switch, link and port counts for a folded-Clos ("fat-tree") fabric.

Model (one switch model of ``switch_radix`` ports everywhere, every link at
the endpoint port rate):

* **Leaf** switches split their ports into ``leaf_down_ports`` towards the
  endpoints (NIC ports) and ``leaf_up_ports`` towards the spines, in the ratio
  ``leaf_oversubscription : 1``. Down ports = floor(R * o / (1 + o)), the rest
  go up, so the built ratio never exceeds the one asked for.
* **Two tiers** (leaf-spine): spines = ceil(leaves * leaf_up_ports / R), and
  every spine reaches every leaf, so at most R leaves: R * leaf_down_ports
  endpoints (R^2 / 2 when non-blocking).
* **Three tiers**: leaves are grouped into pods of ``spine_down_ports`` leaves
  with ``leaf_up_ports`` spines each (one link from every leaf to every spine of
  its pod); core switches = ceil(spines * spine_up_ports / R); every core
  switch reaches every pod once, so at most R pods: R * spine_down_ports *
  leaf_down_ports endpoints (R^3 / 4 when non-blocking).

Sources: Al-Fares, Loukissas, Vahdat, "A Scalable, Commodity Data Center Network
Architecture", SIGCOMM 2008, §3 (k-ary fat tree of k-port switches: k pods of
k/2 edge + k/2 aggregation switches, (k/2)^2 core switches, k^3/4 hosts);
Leiserson, "Fat-Trees: Universal Networks for Hardware-Efficient
Supercomputing", IEEE Trans. Computers C-34(10), 1985. The rail-optimised
layout (each leaf serves one NIC rail, i.e. the same local GPU index on every
node of a scalable unit) follows the NVIDIA DGX SuperPOD reference
architecture, whose published leaf/spine/core and cable counts this model
reproduces (see tests and docs/sizing.md).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from dcbench.errors import InfeasibleError, UsageError
from simulator.sizing import checks

#: Most tiers this model builds; larger fabrics need a bigger switch radix.
MAX_TIERS = 3


@dataclass(frozen=True, kw_only=True, slots=True)
class FatTree:
    """A sized fat-tree fabric. Counts are whole switches, links and ports."""

    endpoints: int  # NIC ports attached to the fabric
    switch_radix: int  # ports per switch
    tiers: int  # 1 = one switch, 2 = leaf-spine, 3 = leaf-spine-core
    rail_optimized: bool  # leaves are dedicated to one NIC rail each
    rails: int  # NIC ports per node (rail count) used for the rail-optimised layout
    leaf_down_ports: int  # leaf ports facing endpoints
    leaf_up_ports: int  # leaf ports facing spines (0 for one tier)
    spine_down_ports: int  # spine ports facing leaves (all R in two tiers, 0 in one)
    spine_up_ports: int  # spine ports facing core switches (0 below three tiers)
    leaf_oversubscription: float  # built leaf down:up ratio (1.0 = non-blocking)
    spine_oversubscription: float  # built spine down:up ratio (1.0 = non-blocking)
    pods: int  # three-tier pods (1 otherwise)
    leaf_switches: int
    spine_switches: int
    core_switches: int
    switches: int  # leaf + spine + core
    host_links: int  # endpoint-to-leaf links (one per NIC port)
    leaf_spine_links: int
    spine_core_links: int
    links: int  # all cables: host + leaf-spine + spine-core
    bisection_links: float  # links crossing the narrowest balanced cut, one direction
    max_endpoints: int  # endpoints this radix, oversubscription and tier count can hold

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field."""
        return asdict(self)


def split_ports(switch_radix: int, oversubscription: float) -> tuple[int, int]:
    """Split a switch's ports into (down, up) in the ratio ``oversubscription : 1``.

    Down = floor(R * o / (1 + o)) so the built ratio is never above ``o``;
    for o = 1 this is the R/2 : R/2 split of Al-Fares et al. 2008 §3.
    """
    down = math.floor(switch_radix * oversubscription / (1.0 + oversubscription) + 1e-9)
    down = min(max(down, 1), switch_radix - 1)
    return down, switch_radix - down


def _leaves_needed(endpoints: int, leaf_down: int, rails: int, rail_optimized: bool) -> int:
    """Leaves to attach every endpoint; rail-optimised leaves serve one rail each."""
    if rail_optimized:
        per_rail = math.ceil(endpoints / rails)
        return rails * math.ceil(per_rail / leaf_down)
    return math.ceil(endpoints / leaf_down)


def size_fat_tree(
    *,
    endpoints: int,
    switch_radix: int,
    leaf_oversubscription: float = 1.0,
    spine_oversubscription: float = 1.0,
    tiers: int | None = None,
    rails: int = 1,
    rail_optimized: bool = False,
) -> FatTree:
    """Size the fabric for ``endpoints`` NIC ports.

    ``tiers=None`` picks the fewest tiers that fit; a given ``tiers`` is built
    as asked (e.g. three tiers to leave room to grow). Raises ``UsageError``
    for bad values and ``InfeasibleError`` when the endpoints do not fit in
    three tiers of this radix (the message says the largest that fits).
    """
    endpoints = checks.positive_int("endpoints", endpoints)
    switch_radix = checks.positive_int("switch_radix", switch_radix)
    if switch_radix < 2:
        raise UsageError(
            f"switch_radix must be >= 2 (got {switch_radix}); a 64-port switch is typical"
        )
    leaf_o = checks.at_least("leaf_oversubscription", leaf_oversubscription, 1.0)
    spine_o = checks.at_least("spine_oversubscription", spine_oversubscription, 1.0)
    rails = checks.positive_int("rails", rails)
    if tiers is not None:
        tiers = checks.positive_int("tiers", tiers)
        if tiers > MAX_TIERS:
            raise UsageError(f"tiers must be 1, 2 or 3 (got {tiers})")

    leaf_down, leaf_up = split_ports(switch_radix, leaf_o)
    spine_down, spine_up = split_ports(switch_radix, spine_o)
    leaves = _leaves_needed(endpoints, leaf_down, rails, rail_optimized)
    pods = math.ceil(leaves / spine_down)
    capacity = {
        1: switch_radix,
        2: switch_radix * leaf_down,
        3: switch_radix * spine_down * leaf_down,
    }
    fits = {1: endpoints <= switch_radix, 2: leaves <= switch_radix, 3: pods <= switch_radix}
    if tiers is None:
        fitting = [t for t in (1, 2, 3) if fits[t]]
        if not fitting:
            raise InfeasibleError(
                f"{endpoints} NIC ports do not fit in a {MAX_TIERS}-tier fat tree of "
                f"{switch_radix}-port switches (at most {capacity[3]} with these "
                "oversubscription ratios); use a larger switch_radix or more oversubscription"
            )
        tiers = fitting[0]
    elif not fits[tiers]:
        raise InfeasibleError(
            f"{endpoints} NIC ports do not fit in {tiers} tier(s) of {switch_radix}-port "
            f"switches (at most {capacity[tiers]}); allow more tiers or a larger switch_radix"
        )

    if tiers == 1:
        return FatTree(
            endpoints=endpoints, switch_radix=switch_radix, tiers=1,
            rail_optimized=rail_optimized, rails=rails,
            leaf_down_ports=switch_radix, leaf_up_ports=0, spine_down_ports=0, spine_up_ports=0,
            leaf_oversubscription=1.0, spine_oversubscription=1.0, pods=1,
            leaf_switches=1, spine_switches=0, core_switches=0, switches=1,
            host_links=endpoints, leaf_spine_links=0, spine_core_links=0, links=endpoints,
            bisection_links=endpoints / 2, max_endpoints=capacity[1],
        )  # fmt: skip

    leaf_spine_links = leaves * leaf_up
    if tiers == 2:
        spines = math.ceil(leaf_spine_links / switch_radix)
        cores, spine_core_links, pods = 0, 0, 1
        spine_down_used, spine_up_used, spine_o_built = switch_radix, 0, 1.0
        cut_links = min(endpoints, leaf_spine_links)
    else:
        spines = pods * leaf_up
        spine_core_links = spines * spine_up
        cores = math.ceil(spine_core_links / switch_radix)
        spine_down_used, spine_up_used = spine_down, spine_up
        spine_o_built = spine_down / spine_up
        cut_links = min(endpoints, leaf_spine_links, spine_core_links)
    links = endpoints + leaf_spine_links + spine_core_links
    return FatTree(
        endpoints=endpoints, switch_radix=switch_radix, tiers=tiers,
        rail_optimized=rail_optimized, rails=rails,
        leaf_down_ports=leaf_down, leaf_up_ports=leaf_up,
        spine_down_ports=spine_down_used, spine_up_ports=spine_up_used,
        leaf_oversubscription=leaf_down / leaf_up, spine_oversubscription=spine_o_built,
        pods=pods, leaf_switches=leaves, spine_switches=spines, core_switches=cores,
        switches=leaves + spines + cores, host_links=endpoints,
        leaf_spine_links=leaf_spine_links, spine_core_links=spine_core_links, links=links,
        bisection_links=cut_links / 2, max_endpoints=capacity[tiers],
    )  # fmt: skip
