"""The four sizings chained as the planner chains them; JSON contract; no torch; config keys."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from dcbench.errors import ConfigError, UsageError
from simulator.sizing import (
    CostInputs,
    NetworkAssumptions,
    NetworkInputs,
    PowerInputs,
    StorageInputs,
    size_cost,
    size_network,
    size_power,
    size_storage,
)
from simulator.sizing.checks import from_mapping, positive_int

DAY_S = 86_400.0


def _plan_like() -> dict[str, dict[str, Any]]:
    gpus, per_node, run_time_s = 1024, 8, 30 * DAY_S
    network = size_network(
        NetworkInputs(
            gpus=gpus, gpus_per_node=per_node, compute_time_s=1.0, scale_out_bytes_per_gpu=5e9
        )
    )
    storage = size_storage(
        StorageInputs(params=70e9, dataset_tokens=2e12, vocab_size=128_256, nodes=network.nodes)
    )
    power = size_power(
        PowerInputs(
            gpus=gpus,
            gpus_per_node=per_node,
            gpu_tdp_w=700.0,
            run_time_s=run_time_s,
            switches=network.switches,
            storage_bytes=storage.capacity_bytes,
        )
    )
    cost = size_cost(
        CostInputs(
            gpus=gpus,
            gpus_per_node=per_node,
            run_time_s=run_time_s,
            switches=network.switches,
            transceivers=network.transceivers,
            storage_bytes=storage.capacity_bytes,
            it_w=power.it_w,
            electricity_cost_usd=power.electricity_cost_usd,
            tokens=2e12,
        )
    )
    return {
        "network": network.to_dict(),
        "storage": storage.to_dict(),
        "power": power.to_dict(),
        "cost": cost.to_dict(),
    }


def test_issue_json_keys_exist_and_are_strict_json() -> None:
    plan = json.loads(json.dumps(_plan_like(), allow_nan=False))
    for key in (
        "dataset_bytes",
        "checkpoint_bytes",
        "checkpoint_write_bytes_per_s",
        "capacity_bytes",
    ):
        assert plan["storage"][key] > 0
    for key in ("it_w", "facility_w", "energy_j"):
        assert plan["power"][key] > 0
    assert plan["network"]["bound"] in ("network", "compute")
    assert plan["cost"]["total_usd"] > 0


def test_chained_numbers_agree() -> None:
    plan = _plan_like()
    # 1024 ports on 64-port switches, non-blocking: 32 leaves + 16 spines (DGX SuperPOD 4 SU).
    assert plan["network"]["switches"] == 48
    assert plan["power"]["network_w"] == pytest.approx(48 * 1720.0)
    assert plan["power"]["energy_j"] == pytest.approx(plan["power"]["facility_w"] * 30 * DAY_S)
    assert plan["cost"]["electricity_cost_usd"] == plan["power"]["electricity_cost_usd"]


def test_sizing_never_imports_torch() -> None:
    code = "import sys, simulator.sizing; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_from_mapping_builds_assumptions_and_names_typos() -> None:
    built = from_mapping(NetworkAssumptions, {"switch_radix": 32, "leaf_oversubscription": 2})
    assert built.switch_radix == 32 and built.leaf_oversubscription == 2
    with pytest.raises(ConfigError, match="did you mean 'switch_radix'"):
        from_mapping(NetworkAssumptions, {"switch_radx": 32})
    with pytest.raises(UsageError, match="switch_radix must be a whole number"):
        from_mapping(NetworkAssumptions, {"switch_radix": "64"})
    with pytest.raises(ConfigError, match="missing key.*compute_time_s"):
        from_mapping(NetworkInputs, {"gpus": 16, "gpus_per_node": 8}, where="network inputs")


def test_whole_numbers_accept_integral_floats_only() -> None:
    assert positive_int("gpus", 8.0) == 8
    with pytest.raises(UsageError, match="whole number"):
        positive_int("gpus", 8.5)
    with pytest.raises(UsageError, match="whole number"):
        positive_int("gpus", True)
