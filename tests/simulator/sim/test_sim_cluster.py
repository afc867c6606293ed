"""The shared-cluster engine: scheduling, failures, accounting."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from dcbench.errors import ConfigError
from simulator.sim.cluster import ClusterSetup, cluster_setup, cluster_trace, simulate_cluster
from simulator.sim.loading import validate
from simulator.sim.metrics import cluster_metrics
from simulator.sim.scenario_cluster import ClusterScenario

HOUR = 3600.0


def _setup(**fields: Any) -> ClusterSetup:
    raw = {"kind": "cluster", "gpus": 128, "gpus_per_node": 8, "duration_days": 2, "failures": "off",
           "checkpoint": "off", **fields}
    scn = validate(raw)
    assert isinstance(scn, ClusterScenario)
    return cluster_setup(scn)


def test_one_job_without_failures_runs_its_compute_plus_checkpoints() -> None:
    # 10 h of compute, checkpoints every hour (9 of them), each 1e12 B at 1e10 B/s = 100 s
    s = _setup(jobs=[{"name": "a", "gpus": 64, "work_s": "10h", "checkpoint_bytes": 1e12}],
               checkpoint={"interval_s": 3600, "storage_write_bytes_per_s": 1e10})
    trace = cluster_trace(s, seed=0, replica=0)
    done = [e for e in trace if e["event"] == "complete"]
    assert len(done) == 1 and done[0]["t_s"] == pytest.approx(10 * HOUR + 9 * 100.0)
    out = simulate_cluster(s, seed=0, replica=0)
    assert out.completed == 1 and out.waits_s == [0.0]
    assert out.allocated_node_s == pytest.approx(8 * (10 * HOUR + 900.0))
    assert out.useful_node_s == pytest.approx(8 * 10 * HOUR)
    assert out.checkpoint_node_s == pytest.approx(8 * 900.0)


def test_backfill_starts_a_small_job_that_fifo_keeps_waiting() -> None:
    jobs = [
        {"name": "big", "gpus": 96, "work_s": "10h", "submit_s": 0},
        {"name": "blocked", "gpus": 64, "work_s": "5h", "submit_s": 1},
        {"name": "small", "gpus": 32, "work_s": "2h", "submit_s": 2},
    ]
    fifo_setup, easy_setup = _setup(jobs=jobs, scheduler="fifo"), _setup(jobs=jobs, scheduler="backfill")

    def starts(setup: ClusterSetup) -> dict[str, float]:
        return {e["job"]: e["t_s"] for e in cluster_trace(setup, seed=0, replica=0) if e["event"] == "start"}

    fifo_start, easy_start = starts(fifo_setup), starts(easy_setup)
    # FIFO: 'small' waits for 'big' to end (10 h); EASY backfill starts it at once,
    # since it ends (2 h) before 'blocked' could start (10 h)
    assert fifo_start["small"] == pytest.approx(10 * HOUR)
    assert easy_start["small"] == pytest.approx(2.0)
    assert easy_start["blocked"] == pytest.approx(fifo_start["blocked"])  # the head is not delayed
    fifo = simulate_cluster(fifo_setup, seed=0, replica=0)
    easy = simulate_cluster(easy_setup, seed=0, replica=0)
    assert sum(easy.waits_s) < sum(fifo.waits_s)


def test_failures_interrupt_jobs_and_the_books_balance() -> None:
    s = _setup(duration_days=10, gpus=256,
               jobs=[{"name": "long", "gpus": 128, "work_s": "6d", "checkpoint_bytes": 1e11}],
               arrivals={"per_hour": 2, "gpus": [8, 32], "work_median_s": "1h", "checkpoint_bytes": 1e10},
               failures={"mtbf_s": 20_000, "replace_node": True}, restart_s=600, repair_s="12h",
               checkpoint={"interval_s": "auto", "storage_write_bytes_per_s": 1e10})
    outs = [simulate_cluster(s, seed=3, replica=i) for i in range(5)]
    assert sum(o.job_interruptions for o in outs) > 0
    for o in outs:
        assert o.allocated_node_s <= o.nodes * o.duration_s + 1e-6
        parts = o.useful_node_s + o.lost_node_s + o.checkpoint_node_s + o.restart_node_s
        assert parts == pytest.approx(o.allocated_node_s, rel=1e-9)
        assert sum(o.goodput_node_s) == pytest.approx(o.useful_node_s, rel=1e-9)
        assert o.lost_node_s > 0 or o.job_interruptions == 0
        row = cluster_metrics(o)
        assert 0 <= row["goodput_fraction"] <= row["utilisation"] <= 1  # type: ignore[operator]


def test_same_seed_same_cluster_replica() -> None:
    s = _setup(arrivals={"per_hour": 4, "gpus": [8, 16, 64], "work_median_s": "2h"},
               failures={"mtbf_s": 30_000})
    a, b = simulate_cluster(s, seed=5, replica=1), simulate_cluster(s, seed=5, replica=1)
    assert a == b
    assert simulate_cluster(s, seed=6, replica=1) != a


def test_more_load_means_longer_waits() -> None:
    waits = []
    for rate in (1, 8):
        s = _setup(duration_days=4, arrivals={"per_hour": rate, "gpus": [16, 32, 64], "work_median_s": "3h"})
        waits.append(np.mean([cluster_metrics(simulate_cluster(s, seed=1, replica=i))["queue_wait_mean_s"]
                              for i in range(5)]))
    assert waits[1] > waits[0]


def test_jobs_larger_than_the_cluster_are_refused() -> None:
    with pytest.raises(ConfigError, match="needs 256 GPUs but the cluster has 128"):
        _setup(jobs=[{"name": "huge", "gpus": 256, "work_s": 10}])
    with pytest.raises(ConfigError, match="blocking only"):
        _setup(jobs=[{"name": "a", "gpus": 8, "work_s": 10}], checkpoint={"mode": "async", "write_s": 1})
    with pytest.raises(ConfigError, match="give 'jobs'"):
        _setup()
