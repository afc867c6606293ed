"""Power sizing: a DGX H100 node's datasheet power, PUE, energy, cost and carbon."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcbench.errors import UsageError
from simulator.sizing.power import PowerAssumptions, PowerInputs, size_power

HOUR_S = 3600.0


def test_one_dgx_h100_node_draws_its_datasheet_maximum() -> None:
    # NVIDIA DGX H100 datasheet: 10.2 kW max for 8 H100 SXM (700 W TDP each).
    sizing = size_power(PowerInputs(gpus=8, gpus_per_node=8, gpu_tdp_w=700.0, run_time_s=HOUR_S))
    assert sizing.gpu_power_source == "tdp"
    assert sizing.it_w == pytest.approx(10_200.0)
    assert sizing.racks == 1


def test_energy_cost_and_carbon_by_hand() -> None:
    # 1,000 GPUs at 1 kW, no overheads, PUE 1.5: 1.5 MW. For 2 h: 3 MWh = 1.08e10 J,
    # $0.10/kWh -> $300, 400 g/kWh -> 1,200 kg CO2.
    assumptions = PowerAssumptions(
        host_power_w_per_node=0.0,
        pue=1.5,
        electricity_usd_per_kwh=0.10,
        carbon_g_per_kwh=400.0,
    )
    sizing = size_power(
        PowerInputs(gpus=1000, gpus_per_node=8, gpu_tdp_w=1000.0, run_time_s=2 * HOUR_S),
        assumptions,
    )
    assert sizing.facility_w == pytest.approx(1.5e6)
    assert sizing.energy_j == pytest.approx(1.08e10)
    assert sizing.it_energy_j == pytest.approx(0.72e10)
    assert sizing.electricity_cost_usd == pytest.approx(300.0)
    assert sizing.carbon_kg == pytest.approx(1200.0)


def test_overheads_add_up() -> None:
    # 16 GPUs (2 nodes) at 700 W, 4.6 kW host per node, 3 switches at 1 kW,
    # 100 TB at 10 W/TB: 11,200 + 9,200 + 3,000 + 1,000 = 24,400 W; racks of 20 kW: 2.
    sizing = size_power(
        PowerInputs(
            gpus=16,
            gpus_per_node=8,
            gpu_tdp_w=700.0,
            run_time_s=1.0,
            switches=3,
            storage_bytes=100e12,
        ),
        PowerAssumptions(switch_power_w=1000.0, rack_power_w=20_000.0),
    )
    assert (sizing.gpu_w, sizing.host_w, sizing.network_w) == (11_200.0, 9_200.0, 3_000.0)
    assert sizing.storage_w == pytest.approx(1_000.0)
    assert sizing.it_w == pytest.approx(24_400.0)
    assert sizing.racks == 2


def test_measured_power_replaces_tdp() -> None:
    inputs = PowerInputs(
        gpus=8, gpus_per_node=8, gpu_tdp_w=700.0, run_time_s=1.0, measured_gpu_power_w=510.0
    )
    sizing = size_power(inputs)
    assert sizing.gpu_power_source == "measured"
    assert sizing.gpu_w == pytest.approx(8 * 510.0)


def test_tdp_fraction_scales_gpu_power() -> None:
    inputs = PowerInputs(gpus=8, gpus_per_node=8, gpu_tdp_w=700.0, run_time_s=1.0)
    assert size_power(inputs, PowerAssumptions(gpu_tdp_fraction=0.75)).gpu_w == pytest.approx(
        4200.0
    )


@settings(max_examples=30, deadline=None)
@given(
    pue=st.floats(min_value=1.0, max_value=3.0),
    run_time_s=st.floats(min_value=1.0, max_value=1e8),
    gpus=st.integers(min_value=1, max_value=100_000),
)
def test_facility_power_is_linear_in_pue_and_energy_is_power_times_time(
    pue: float, run_time_s: float, gpus: int
) -> None:
    inputs = PowerInputs(gpus=gpus, gpus_per_node=8, gpu_tdp_w=700.0, run_time_s=run_time_s)
    base = size_power(inputs, PowerAssumptions(pue=1.0))
    sized = size_power(inputs, PowerAssumptions(pue=pue))
    assert sized.facility_w == pytest.approx(base.facility_w * pue)
    assert sized.energy_j == pytest.approx(sized.facility_w * run_time_s)
    assert sized.racks * PowerAssumptions().rack_power_w >= sized.it_w


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"pue": 0.9}, "pue"),
        ({"rack_power_w": 0.0}, "rack_power_w"),
        ({"host_power_w_per_node": -1.0}, "host_power_w_per_node"),
        ({"gpu_tdp_fraction": 0.0}, "gpu_tdp_fraction"),
        ({"carbon_g_per_kwh": -5.0}, "carbon_g_per_kwh"),
    ],
)
def test_bad_assumptions_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(UsageError, match=field):
        PowerAssumptions(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"gpu_tdp_w": 0.0}, "gpu_tdp_w"),
        ({"run_time_s": -1.0}, "run_time_s"),
        ({"measured_gpu_power_w": 0.0}, "measured_gpu_power_w"),
        ({"switches": -1}, "switches"),
        ({"gpus": True}, "gpus"),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "gpus": 8,
        "gpus_per_node": 8,
        "gpu_tdp_w": 700.0,
        "run_time_s": 1.0,
    }
    values.update(kwargs)
    with pytest.raises(UsageError, match=field):
        PowerInputs(**values)  # type: ignore[arg-type]
