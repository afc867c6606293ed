"""Shared helpers for the telemetry tests: recorded streams and the real-GPU skip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dcbench.telemetry import Timeline

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def recorded():
    """Load a recorded sample stream from ``data/<name>.json`` as a Timeline."""

    def load(name: str) -> Timeline:
        return Timeline.from_dict(json.loads((DATA / f"{name}.json").read_text()))

    return load


@pytest.fixture
def nvml_gpus():
    """The visible GPUs via real NVML; skips the test where there is no driver or no GPU."""
    from dcbench.telemetry import gpu_inventory

    gpus, reason = gpu_inventory()
    if not gpus:
        pytest.skip(f"needs a real NVIDIA GPU: {reason}")
    return gpus
