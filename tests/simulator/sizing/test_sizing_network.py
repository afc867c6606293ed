"""Network sizing: hand-checked arithmetic, published NIC layouts and properties."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcbench.errors import UsageError
from simulator.sizing.network import NetworkAssumptions, NetworkInputs, size_network

NDR_BYTES_PER_S = 400e9 / 8  # one 400 Gb/s NDR port = 50 GB/s


def test_two_nodes_one_switch_by_hand() -> None:
    # 16 GPUs, one NIC each: 16 ports fit one 64-port switch. 10 GB per GPU at
    # 50 GB/s * 0.8 efficiency takes 0.25 s.
    sizing = size_network(
        NetworkInputs(gpus=16, gpus_per_node=8, compute_time_s=0.5, scale_out_bytes_per_gpu=10e9)
    )
    assert sizing.nodes == 2
    assert sizing.nics == 16
    assert sizing.injection_bytes_per_s_per_gpu == NDR_BYTES_PER_S
    assert sizing.injection_bytes_per_s == 16 * NDR_BYTES_PER_S
    assert sizing.fabric is not None and sizing.fabric.tiers == 1
    assert (sizing.switches, sizing.links, sizing.transceivers) == (1, 16, 32)
    assert sizing.scale_out_time_s == pytest.approx(0.25)
    assert sizing.scale_out_bytes_per_step == 160e9
    # 10 GB in 0.5 s = 20 GB/s payload; / 0.8 efficiency = 25 GB/s = 200 Gb/s line rate.
    assert sizing.required_scale_out_bytes_per_s_per_gpu == pytest.approx(20e9)
    assert sizing.required_nic_bits_per_s == pytest.approx(200e9)
    # Half of 16 * 10 GB crosses the cut in 0.5 s: 160 GB/s; the switch gives 8 * 50 GB/s.
    assert sizing.required_bisection_bytes_per_s == pytest.approx(160e9)
    assert sizing.bisection_bytes_per_s == pytest.approx(400e9)
    assert sizing.bisection_ok
    assert sizing.bound == "compute"
    assert sizing.bottleneck == "scale_out"


@pytest.mark.parametrize(("compute_time_s", "bound"), [(0.2, "network"), (0.3, "compute")])
def test_bound_flips_where_comm_time_passes_compute_time(compute_time_s: float, bound: str) -> None:
    sizing = size_network(
        NetworkInputs(
            gpus=16, gpus_per_node=8, compute_time_s=compute_time_s, scale_out_bytes_per_gpu=10e9
        )
    )
    assert sizing.bound == bound


def test_single_node_has_no_fabric_and_scale_up_can_bound() -> None:
    # 45 GB over NVLink at 450 GB/s * 0.8 = 0.125 s, longer than 0.1 s of compute.
    sizing = size_network(
        NetworkInputs(gpus=8, gpus_per_node=8, compute_time_s=0.1, scale_up_bytes_per_gpu=45e9)
    )
    assert sizing.fabric is None and sizing.fabric_note
    assert sizing.switches == sizing.links == sizing.transceivers == 0
    assert sizing.bisection_bytes_per_s is None and sizing.bisection_ok
    assert sizing.scale_up_time_s == pytest.approx(0.125)
    assert sizing.bottleneck == "scale_up"
    assert sizing.bound == "network"


def test_scale_out_bytes_on_one_node_are_rejected() -> None:
    with pytest.raises(UsageError, match="scale_up_bytes_per_gpu"):
        size_network(
            NetworkInputs(gpus=8, gpus_per_node=8, compute_time_s=1.0, scale_out_bytes_per_gpu=1.0)
        )


def test_leaf_oversubscription_makes_the_bisection_the_bottleneck() -> None:
    # 1024 ports, 1:3 leaves (48 down, 16 up): ceil(1024/48) = 22 leaves, 352 uplinks,
    # 6 spines; the cut carries 352/2 = 176 links * 50 GB/s = 8.8 TB/s.
    inputs = NetworkInputs(
        gpus=1024, gpus_per_node=8, compute_time_s=1.0, scale_out_bytes_per_gpu=10e9
    )
    sizing = size_network(inputs, NetworkAssumptions(leaf_oversubscription=3.0))
    assert sizing.fabric is not None
    assert (sizing.fabric.leaf_switches, sizing.fabric.spine_switches) == (22, 6)
    assert sizing.bisection_bytes_per_s == pytest.approx(176 * NDR_BYTES_PER_S)
    # Half of 1024 * 10 GB = 5.12 TB must cross at 8.8 TB/s * 0.8.
    assert sizing.scale_out_time_s == pytest.approx(5.12e12 / (8.8e12 * 0.8))
    assert sizing.bottleneck == "bisection"
    assert sizing.required_bisection_bytes_per_s == pytest.approx(5.12e12)
    assert sizing.bisection_ok  # 5.12 TB/s needed <= 7.04 TB/s effective
    # If only 1 GB per GPU is data-parallel (the rest stays near), the NICs bound again.
    local = NetworkInputs(
        gpus=1024,
        gpus_per_node=8,
        compute_time_s=1.0,
        scale_out_bytes_per_gpu=10e9,
        dp_bytes_per_gpu=1e9,
    )
    assert (
        size_network(local, NetworkAssumptions(leaf_oversubscription=3.0)).bottleneck == "scale_out"
    )


def test_bisection_shortfall_is_reported() -> None:
    inputs = NetworkInputs(
        gpus=1024, gpus_per_node=8, compute_time_s=0.5, scale_out_bytes_per_gpu=10e9
    )
    sizing = size_network(inputs, NetworkAssumptions(leaf_oversubscription=3.0))
    # Needs 1024 * 10 GB / 2 / 0.5 s = 10.24 TB/s; 8.8 TB/s * 0.8 = 7.04 TB/s is built.
    assert not sizing.bisection_ok
    assert sizing.bound == "network"


def test_uniform_traffic_estimate_of_bytes_leaving_leaves() -> None:
    # 1024 ports, 32 per leaf: a byte to a uniformly chosen other port leaves its
    # leaf with probability (1024 - 32) / 1023.
    sizing = size_network(
        NetworkInputs(gpus=1024, gpus_per_node=8, compute_time_s=1.0, scale_out_bytes_per_gpu=1e9)
    )
    assert sizing.leaf_uplink_bytes_per_step == pytest.approx(1024e9 * 992 / 1023)
    assert sizing.core_bytes_per_step == 0.0  # two tiers: no core


def test_nic_utilisation_and_two_nics_per_gpu() -> None:
    inputs = NetworkInputs(
        gpus=64, gpus_per_node=8, compute_time_s=1.0, scale_out_bytes_per_gpu=10e9, step_time_s=1.0
    )
    assert size_network(inputs).nic_utilization == pytest.approx(10e9 / NDR_BYTES_PER_S)
    doubled = size_network(inputs, NetworkAssumptions(nics_per_gpu=2))
    assert doubled.nics == 128
    assert doubled.injection_bytes_per_s_per_gpu == 2 * NDR_BYTES_PER_S
    assert doubled.scale_out_time_s == pytest.approx(10e9 / (2 * NDR_BYTES_PER_S * 0.8))


def test_to_dict_is_strict_json() -> None:
    sizing = size_network(
        NetworkInputs(gpus=4096, gpus_per_node=8, compute_time_s=1.0, scale_out_bytes_per_gpu=1e9)
    )
    data = json.loads(json.dumps(sizing.to_dict(), allow_nan=False))
    assert data["fabric"]["tiers"] == 3
    assert data["bound"] in ("network", "compute")
    assert data["switches"] == data["fabric"]["switches"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"nic_bits_per_s": 0}, "nic_bits_per_s"),
        ({"link_efficiency": 0.0}, "link_efficiency"),
        ({"link_efficiency": 1.5}, "link_efficiency"),
        ({"switch_radix": 1}, "switch_radix"),
        ({"spine_oversubscription": 0.5}, "spine_oversubscription"),
        ({"tiers": 4}, "tiers"),
        ({"nics_per_gpu": 0}, "nics_per_gpu"),
        ({"rail_optimized": "yes"}, "rail_optimized"),
    ],
)
def test_bad_assumptions_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(UsageError, match=field):
        NetworkAssumptions(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"gpus": 0}, "gpus"),
        ({"gpus_per_node": -8}, "gpus_per_node"),
        ({"compute_time_s": 0.0}, "compute_time_s"),
        ({"scale_out_bytes_per_gpu": -1.0}, "scale_out_bytes_per_gpu"),
        ({"scale_out_bytes_per_gpu": 1.0, "dp_bytes_per_gpu": 2.0}, "dp_bytes_per_gpu"),
        ({"step_time_s": float("nan")}, "step_time_s"),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"gpus": 16, "gpus_per_node": 8, "compute_time_s": 1.0}
    values.update(kwargs)
    with pytest.raises(UsageError, match=field) as info:
        NetworkInputs(**values)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


@settings(max_examples=40, deadline=None)
@given(nodes=st.integers(min_value=2, max_value=2000))
def test_more_gpus_never_need_less_network(nodes: int) -> None:
    def sized(n: int) -> tuple[int, int, float]:
        s = size_network(
            NetworkInputs(
                gpus=8 * n, gpus_per_node=8, compute_time_s=1.0, scale_out_bytes_per_gpu=1e9
            )
        )
        return s.switches, s.links, s.injection_bytes_per_s

    small, large = sized(nodes), sized(nodes + 1)
    assert all(b >= a for a, b in zip(small, large, strict=True))
