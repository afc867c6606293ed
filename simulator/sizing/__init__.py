"""Network, storage, power and cost sizing for a planned training run.

Four pure functions, each taking ``*Inputs`` (numbers the planner computes)
and ``*Assumptions`` (named, documented defaults) and returning a ``*Sizing``
result with ``to_dict()``. See docs/sizing.md for every formula and source.
This package never imports torch.
"""

from __future__ import annotations

from simulator.sizing.cost import CostAssumptions, CostInputs, CostSizing, size_cost
from simulator.sizing.fattree import FatTree, size_fat_tree
from simulator.sizing.network import NetworkAssumptions, NetworkInputs, NetworkSizing, size_network
from simulator.sizing.power import PowerAssumptions, PowerInputs, PowerSizing, size_power
from simulator.sizing.storage import StorageAssumptions, StorageInputs, StorageSizing, size_storage

__all__ = [
    "CostAssumptions",
    "CostInputs",
    "CostSizing",
    "FatTree",
    "NetworkAssumptions",
    "NetworkInputs",
    "NetworkSizing",
    "PowerAssumptions",
    "PowerInputs",
    "PowerSizing",
    "StorageAssumptions",
    "StorageInputs",
    "StorageSizing",
    "size_cost",
    "size_fat_tree",
    "size_network",
    "size_power",
    "size_storage",
]
