"""Catalogs of published models, accelerators and networks, and their loaders.

Data lives in ``models.yaml``, ``hardware.yaml`` and ``networks.yaml`` (a source on
every figure); ``specs.py`` holds the plain data objects; ``loader.py`` reads
catalog entries and user files.
"""

from __future__ import annotations

from simulator.catalog.loader import (
    hardware_names,
    load_hardware,
    load_model,
    load_network,
    model_names,
    network_names,
)
from simulator.catalog.specs import EfficiencySpec, HardwareSpec, ModelSpec, NetworkSpec

__all__ = [
    "EfficiencySpec",
    "HardwareSpec",
    "ModelSpec",
    "NetworkSpec",
    "hardware_names",
    "load_hardware",
    "load_model",
    "load_network",
    "model_names",
    "network_names",
]
