"""The default failure table (Llama 3 Table 5) and the straggler model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.sim.failure_table import LLAMA3_TABLE5, table_rate_per_day
from simulator.sim.job_model import JobModel
from simulator.sim.scenario import FailureCause, Failures
from simulator.sim.setup import SECONDS_PER_DAY, resolve_causes
from simulator.sim.stragglers import expected_max_standard_normal, straggler_model

# Table 5 of arXiv:2407.21783 (copied independently of the package's table)
TABLE5_COUNTS = {
    "faulty_gpu": 148, "gpu_hbm3_memory": 72, "software_bug": 54, "network_switch_or_cable": 35,
    "host_maintenance": 32, "gpu_sram_memory": 19, "gpu_system_processor": 17, "nic": 7,
    "nccl_watchdog_timeout": 7, "silent_data_corruption": 6, "gpu_thermal_interface_or_sensor": 6,
    "ssd": 3, "power_supply": 3, "server_chassis": 2, "io_expansion_board": 2, "dependency": 2,
    "cpu": 2, "system_memory": 2,
}


def _job(gpus: int) -> JobModel:
    return JobModel(step_time_s=1, tokens_per_step=1, total_tokens=1, checkpoint_bytes=0, gpus=gpus)


def test_table_matches_the_paper() -> None:
    assert {row.name: row.count for row in LLAMA3_TABLE5} == TABLE5_COUNTS
    assert sum(TABLE5_COUNTS.values()) == 419


def test_rates_scale_back_to_419_at_16k_gpus_and_scale_with_size() -> None:
    full = resolve_causes(_job(16_384), Failures(), load_s=0.0, restart_override_s=None)
    per_54_days = {c.name: c.rate_per_s * 54 * SECONDS_PER_DAY for c in full}
    for name, count in TABLE5_COUNTS.items():
        assert per_54_days[name] == pytest.approx(count)
    half = {c.name: c.rate_per_s for c in resolve_causes(_job(8192), Failures(), load_s=0.0, restart_override_s=None)}
    rates = {c.name: c.rate_per_s for c in full}
    assert half["faulty_gpu"] == pytest.approx(rates["faulty_gpu"] / 2)  # per GPU
    assert half["nic"] == pytest.approx(rates["nic"] / 2)  # per node
    assert half["network_switch_or_cable"] == pytest.approx(rates["network_switch_or_cable"] / 2)
    assert half["dependency"] == pytest.approx(rates["dependency"])  # per job


def test_a_gpu_day_rate_is_count_over_gpu_days() -> None:
    row = next(r for r in LLAMA3_TABLE5 if r.name == "faulty_gpu")
    assert table_rate_per_day(row) == pytest.approx(148 / (54 * 16_384))


def test_causes_override_and_add_to_the_table() -> None:
    failures = Failures(
        causes={
            "faulty_gpu": FailureCause(restart_s=1000.0),  # keeps the table's rate
            "cosmic_rays": FailureCause(per_gpu_day=1e-4, replace_node=False),
        },
        detect_s=0.0,
    )
    causes = {c.name: c for c in resolve_causes(_job(1000), failures, load_s=5.0, restart_override_s=None)}
    assert causes["faulty_gpu"].downtime_s == pytest.approx(1005.0)
    assert causes["faulty_gpu"].replace_node is True
    assert causes["cosmic_rays"].rate_per_s == pytest.approx(1e-4 * 1000 / SECONDS_PER_DAY)
    assert causes["nic"].downtime_s == pytest.approx(Failures().restart_s + 5.0)


def test_expected_maximum_of_normals_matches_known_values() -> None:
    # E[max of 2] = 1/sqrt(pi); E[max of 3] = 3/(2 sqrt(pi)); E[max of 100] = 2.50759
    # (tables of normal order statistics, e.g. Harter 1961)
    assert expected_max_standard_normal(1) == 0.0
    assert expected_max_standard_normal(2) == pytest.approx(1 / math.sqrt(math.pi), rel=1e-6)
    assert expected_max_standard_normal(3) == pytest.approx(1.5 / math.sqrt(math.pi), rel=1e-6)
    assert expected_max_standard_normal(100) == pytest.approx(2.50759, abs=1e-4)


def test_straggler_inflation_matches_sampling() -> None:
    rng = np.random.default_rng(0)
    workers, cv = 64, 0.05
    sigma = math.sqrt(math.log1p(cv * cv))
    draws = np.exp(sigma * rng.standard_normal((20_000, workers)) - sigma * sigma / 2).max(axis=1)
    model = straggler_model(cv=cv, workers=workers, distribution="lognormal")
    assert model.inflation == pytest.approx(draws.mean(), rel=1e-3)
    assert model.step_sd_fraction == pytest.approx(draws.std(), rel=0.05)


def test_straggler_inflation_grows_with_workers_and_vanishes_without_jitter() -> None:
    values = [straggler_model(cv=0.02, workers=n, distribution="normal").inflation for n in (1, 8, 1024, 16_384)]
    assert values[0] == pytest.approx(1.0)
    assert values == sorted(values)
    assert straggler_model(cv=0.0, workers=16_384, distribution="normal").inflation == 1.0
