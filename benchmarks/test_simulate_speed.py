"""Speed targets of ``dcbench simulate`` (issue 4, §5), run by ``make bench``.

* The Llama 3 preset (54 days, 16,384 GPUs, every failure cause): one replica < 1 s.
* 1,000 replicas of it on the local process pool: < 60 s on 2 cores.
* One pipeline iteration with 16 stages and 64 microbatches: < 0.2 s.

The assertions use the benchmark's own statistics, so ``make test`` (which runs
with ``--benchmark-disable``) never asserts on timing.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulator.sim.campaign import prepare, run_campaign
from simulator.sim.loading import load_preset, validate
from simulator.sim.pipeline import pipeline_setup, simulate_pipeline
from simulator.sim.runners import LocalRunner
from simulator.sim.scenario_pipeline import PipelineScenario
from simulator.sim.setup import TrainingSetup
from simulator.sim.training import simulate_training


@pytest.fixture(scope="module")
def llama3() -> Any:
    raw, _ = load_preset("llama3-405b-16k")
    return raw


def _check(benchmark: Any, limit_s: float) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is not None and stats.stats.rounds:  # absent with --benchmark-disable
        assert stats.stats.mean < limit_s


def test_llama3_one_replica_under_1s(benchmark: Any, llama3: Any) -> None:
    setup = prepare(llama3).points[0].setup
    assert isinstance(setup, TrainingSetup)
    counter = iter(range(10**9))
    outcome = benchmark(lambda: simulate_training(setup, seed=0, replica=next(counter)))
    assert outcome.unexpected > 300
    _check(benchmark, 1.0)


def test_llama3_1000_replicas_under_60s(benchmark: Any, llama3: Any) -> None:
    campaign = prepare(llama3)
    result = benchmark.pedantic(
        lambda: run_campaign(campaign, replicas=1000, seed=0, runner=LocalRunner(2)), rounds=1, iterations=1
    )
    assert result["replicas"] == 1000
    _check(benchmark, 60.0)


def test_pipeline_16_stages_64_microbatches_under_0_2s(benchmark: Any) -> None:
    scn = validate({"kind": "pipeline", "stages": 16, "microbatches": 64, "forward_s": 0.01})
    assert isinstance(scn, PipelineScenario)
    setup = pipeline_setup(scn)
    outcome = benchmark(lambda: simulate_pipeline(setup))
    assert outcome.bubble_fraction == pytest.approx(15 / 79)
    _check(benchmark, 0.2)
