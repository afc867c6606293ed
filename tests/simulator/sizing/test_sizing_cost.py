"""Cost sizing: owned versus cloud arithmetic, amortisation and per-unit costs."""

from __future__ import annotations

import pytest

from dcbench.errors import UsageError
from simulator.sizing.cost import SECONDS_PER_YEAR, CostAssumptions, CostInputs, size_cost


def test_cloud_cost_is_gpu_hours_times_rate() -> None:
    # 1,024 GPUs for 10 h at $2/GPU-hour = 10,240 GPU-hours = $20,480.
    sizing = size_cost(
        CostInputs(
            gpus=1024, gpus_per_node=8, run_time_s=36_000.0, tokens=1e10, training_flops=1e21
        ),
        CostAssumptions(pricing="cloud", cloud_usd_per_gpu_hour=2.0),
    )
    assert sizing.gpu_hours == pytest.approx(10_240.0)
    assert sizing.total_usd == pytest.approx(20_480.0)
    assert sizing.usd_per_gpu_hour == pytest.approx(2.0)
    assert sizing.usd_per_token == pytest.approx(20_480.0 / 1e10)
    assert sizing.usd_per_pflop == pytest.approx(20_480.0 / 1e6)


def test_owned_capex_and_amortisation_by_hand() -> None:
    # 16 GPUs ($10k) in 2 nodes ($50k), 3 switches ($20k), 40 transceivers ($500),
    # 1e13 B storage ($100/TB), 30 kW IT ($10/W): 160k + 100k + 60k + 20k + 1k + 300k.
    assumptions = CostAssumptions(
        gpu_usd=10_000.0,
        host_usd_per_node=50_000.0,
        switch_usd=20_000.0,
        transceiver_usd=500.0,
        storage_usd_per_byte=100.0 / 1e12,
        facility_usd_per_w=10.0,
        hardware_life_years=4.0,
        facility_life_years=10.0,
    )
    one_year = SECONDS_PER_YEAR
    sizing = size_cost(
        CostInputs(
            gpus=16,
            gpus_per_node=8,
            run_time_s=one_year,
            switches=3,
            transceivers=40,
            storage_bytes=1e13,
            it_w=30_000.0,
            electricity_cost_usd=5_000.0,
        ),
        assumptions,
    )
    assert sizing.gpu_capex_usd == 160_000.0
    assert sizing.host_capex_usd == 100_000.0
    assert sizing.network_capex_usd == 80_000.0
    assert sizing.storage_capex_usd == pytest.approx(1_000.0)
    assert sizing.facility_capex_usd == 300_000.0
    assert sizing.capex_usd == pytest.approx(641_000.0)
    # One year of a 4-year hardware life and a 10-year facility life.
    assert sizing.amortized_capex_usd == pytest.approx(341_000.0 / 4 + 300_000.0 / 10)
    assert sizing.owned_total_usd == pytest.approx(341_000.0 / 4 + 30_000.0 + 5_000.0)
    assert sizing.total_usd == sizing.owned_total_usd
    assert sizing.usd_per_token is None and sizing.usd_per_pflop is None


def test_idle_hardware_costs_more_per_run() -> None:
    inputs = CostInputs(gpus=8, gpus_per_node=8, run_time_s=86_400.0)
    busy = size_cost(inputs)
    half = size_cost(inputs, CostAssumptions(utilization=0.5))
    assert half.amortized_capex_usd == pytest.approx(2 * busy.amortized_capex_usd)


def test_both_totals_are_always_reported() -> None:
    inputs = CostInputs(gpus=8, gpus_per_node=8, run_time_s=3600.0)
    owned = size_cost(inputs)
    cloud = size_cost(inputs, CostAssumptions(pricing="cloud"))
    assert owned.cloud_total_usd == cloud.cloud_total_usd == pytest.approx(8 * 3.0)
    assert cloud.owned_total_usd == owned.owned_total_usd


def test_unknown_pricing_suggests_the_closest() -> None:
    with pytest.raises(UsageError, match="did you mean 'cloud'"):
        CostAssumptions(pricing="clod")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"gpu_usd": -1.0}, "gpu_usd"),
        ({"hardware_life_years": 0.0}, "hardware_life_years"),
        ({"utilization": 1.5}, "utilization"),
        ({"cloud_usd_per_gpu_hour": float("nan")}, "cloud_usd_per_gpu_hour"),
    ],
)
def test_bad_assumptions_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(UsageError, match=field):
        CostAssumptions(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"run_time_s": 0.0}, "run_time_s"),
        ({"tokens": 0.0}, "tokens"),
        ({"transceivers": 1.5}, "transceivers"),
        ({"electricity_cost_usd": -1.0}, "electricity_cost_usd"),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"gpus": 8, "gpus_per_node": 8, "run_time_s": 1.0}
    values.update(kwargs)
    with pytest.raises(UsageError, match=field):
        CostInputs(**values)  # type: ignore[arg-type]
