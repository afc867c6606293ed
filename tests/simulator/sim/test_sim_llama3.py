"""The Llama 3 preset against the paper (arXiv:2407.21783 §3.3.4, Table 5).

Published: 419 unexpected and 47 planned interruptions in 54 days on 16,384
H100s, with effective training time above 90%.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.sim.campaign import prepare, run_campaign
from simulator.sim.failure_table import LLAMA3_TABLE5
from simulator.sim.loading import load_preset
from simulator.sim.runners import InlineRunner
from simulator.sim.setup import TrainingSetup
from simulator.sim.training import simulate_training

PUBLISHED_UNEXPECTED = 419  # Table 5 total
PUBLISHED_PLANNED = 47  # §3.3.4
WINDOW_S = 54 * 86400.0
REPLICAS = 40


@pytest.fixture(scope="module")
def llama3_setup() -> TrainingSetup:
    raw, _ = load_preset("llama3-405b-16k")
    setup = prepare(raw).points[0].setup
    assert isinstance(setup, TrainingSetup)
    return setup


def test_configured_rates_give_419_expected_interruptions(llama3_setup: TrainingSetup) -> None:
    assert llama3_setup.failure_rate_per_s * WINDOW_S == pytest.approx(PUBLISHED_UNEXPECTED, rel=1e-9)
    assert llama3_setup.job.gpus == 16_384
    assert llama3_setup.window_s == WINDOW_S
    # every Table 5 cause is simulated
    assert {c.name for c in llama3_setup.causes} == {row.name for row in LLAMA3_TABLE5}


def test_preset_interruptions_are_consistent_with_the_paper(llama3_setup: TrainingSetup) -> None:
    outcomes = [simulate_training(llama3_setup, seed=2024, replica=i) for i in range(REPLICAS)]
    unexpected = np.array([o.unexpected for o in outcomes], dtype=float)
    planned = np.array([o.planned for o in outcomes], dtype=float)
    # each replica within the Poisson spread of the configured rate
    assert np.all(np.abs(unexpected - PUBLISHED_UNEXPECTED) < 4 * math.sqrt(PUBLISHED_UNEXPECTED))
    # the mean within 4 standard errors of 419 (Poisson: sd = sqrt(419))
    assert abs(unexpected.mean() - PUBLISHED_UNEXPECTED) < 4 * math.sqrt(PUBLISHED_UNEXPECTED / REPLICAS)
    assert abs(planned.mean() - PUBLISHED_PLANNED) < 4 * math.sqrt(PUBLISHED_PLANNED / REPLICAS)
    # the spread is Poisson: the sample variance over 40 replicas, x 39 / 419, is chi-square
    # with 39 degrees of freedom; its 0.1% and 99.9% points by Wilson-Hilferty,
    # k (1 - 2/9k +- 3.09 sqrt(2/9k))^3, are about 17.2 and 72.1
    k = REPLICAS - 1
    low, high = (k * (1 - 2 / (9 * k) + z * math.sqrt(2 / (9 * k))) ** 3 for z in (-3.09, 3.09))
    dispersion = unexpected.var(ddof=1) * k / PUBLISHED_UNEXPECTED
    assert low < dispersion < high, (dispersion, low, high)
    # faulty GPUs are the largest cause, as in Table 5 (148 of 419)
    faulty = np.mean([o.by_cause.get("faulty_gpu", 0) for o in outcomes])
    assert abs(faulty - 148) < 4 * math.sqrt(148 / REPLICAS)
    ettr = np.array([o.effective_training_time_fraction for o in outcomes])
    assert ettr.min() > 0.90


def test_preset_json_has_the_stable_keys() -> None:
    raw, _ = load_preset("llama3-405b-16k")
    result = run_campaign(prepare(raw), replicas=3, seed=1, runner=InlineRunner())
    assert result["replicas"] == 3
    for key in ("time_to_train_s", "effective_training_time_fraction"):
        assert set(result[key]) >= {"mean", "p5", "p50", "p95"}
    assert set(result["interruptions"]["unexpected"]) >= {"mean", "p5", "p50", "p95"}
    assert "mean" in result["interruptions"]["planned"]
    assert result["interruptions"]["by_cause"]["faulty_gpu"] > 0
    for key in ("lost_work_s", "checkpoint_overhead_s", "restart_overhead_s"):
        assert "mean" in result[key]
    assert result["checkpoint_interval_s"] == pytest.approx(result["young_daly_interval_s"])
    assert result["effective_training_time_fraction"]["mean"] > 0.9
