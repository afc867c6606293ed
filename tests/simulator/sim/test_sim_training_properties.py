"""Properties of the training engine: monotonicity, reproducibility, accounting, features."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simtest_helpers import accounted_s, asynchronous, blocking, mean_and_stderr, run, setup

from simulator.sim.setup import MaintenancePlan, SparePool
from simulator.sim.stragglers import StragglerModel
from simulator.sim.training import simulate_training

WORK_S = 50 * 3600.0


def test_more_failures_never_shorten_training() -> None:
    means = []
    for mtbf_s in (40_000.0, 20_000.0, 10_000.0, 5_000.0, 2_500.0):
        s = setup(compute_s=WORK_S, mtbf_s=mtbf_s, restart_s=300.0, checkpoint=blocking(1800.0, 60.0))
        means.append(mean_and_stderr([o.wall_s for o in run(s, 80, seed=2)]))
    for (shorter, se1), (longer, se2) in zip(means, means[1:], strict=False):
        assert longer > shorter - 3 * math.hypot(se1, se2)
    assert means[-1][0] > means[0][0]


def test_longer_checkpoint_write_never_raises_efficiency_at_a_fixed_interval() -> None:
    effs = []
    for write_s in (0.0, 30.0, 120.0, 480.0):
        s = setup(compute_s=WORK_S, mtbf_s=7200.0, restart_s=300.0, checkpoint=blocking(1800.0, write_s))
        effs.append(mean_and_stderr([o.effective_training_time_fraction for o in run(s, 80, seed=4)]))
    for (higher, se1), (lower, se2) in zip(effs, effs[1:], strict=False):
        assert lower < higher + 3 * math.hypot(se1, se2)
    assert effs[-1][0] < effs[0][0]


def test_same_seed_same_replica_is_identical_and_seeds_differ() -> None:
    s = setup(compute_s=WORK_S, mtbf_s=5000.0, restart_s=300.0, checkpoint=blocking(1800.0, 60.0),
              maintenance=MaintenancePlan(rate_per_s=1 / 40_000, duration_s=600.0, checkpoint_first=True))
    a = simulate_training(s, seed=9, replica=3, record=True)
    b = simulate_training(s, seed=9, replica=3, record=True)
    assert a == b
    c = simulate_training(s, seed=10, replica=3)
    d = simulate_training(s, seed=9, replica=4)
    assert c.wall_s != a.wall_s and d.wall_s != a.wall_s


def test_window_counts_failures_at_the_configured_rate() -> None:
    # 30 days at an MTBF of 3 h: 240 expected failures; Poisson spread sqrt(240)
    window_s = 30 * 86400.0
    s = setup(compute_s=1e9, mtbf_s=3 * 3600.0, restart_s=600.0, checkpoint=blocking(1800.0, 10.0),
              window_s=window_s)
    outcomes = run(s, 60, seed=1)
    counts = [o.unexpected for o in outcomes]
    mean, stderr = mean_and_stderr(counts)
    assert abs(mean - 240.0) < 4 * math.sqrt(240.0 / len(counts))
    assert all(o.wall_s == pytest.approx(window_s) for o in outcomes)
    assert all(not o.completed and o.time_to_train_s is not None for o in outcomes)


def test_planned_maintenance_with_a_checkpoint_first_loses_no_work() -> None:
    maint = MaintenancePlan(rate_per_s=1 / 20_000.0, duration_s=900.0, checkpoint_first=True)
    s = setup(compute_s=WORK_S, mtbf_s=None, checkpoint=blocking(3600.0, 60.0), maintenance=maint)
    outcomes = run(s, 30, seed=6)
    assert sum(o.planned for o in outcomes) > 0
    for o in outcomes:
        assert o.lost_work_s == 0.0
        assert o.maintenance_s <= o.planned * 900.0 + 1e-6
        assert accounted_s(o) == pytest.approx(o.wall_s)


def test_maintenance_without_checkpoint_first_loses_unsaved_work() -> None:
    maint = MaintenancePlan(rate_per_s=1 / 20_000.0, duration_s=900.0, checkpoint_first=False)
    s = setup(compute_s=WORK_S, mtbf_s=None, checkpoint=blocking(3600.0, 60.0), maintenance=maint)
    assert sum(o.lost_work_s for o in run(s, 30, seed=6)) > 0


def test_an_empty_spare_pool_makes_node_failures_wait_for_repairs() -> None:
    base = dict(compute_s=WORK_S, mtbf_s=3600.0, restart_s=300.0, checkpoint=blocking(1800.0, 60.0),
                replace_node=True)
    ample = setup(**base, spares=SparePool(nodes=1000, repair_s=86400.0))  # type: ignore[arg-type]
    none = setup(**base, spares=SparePool(nodes=0, repair_s=4 * 3600.0))  # type: ignore[arg-type]
    ample_out, none_out = run(ample, 20, seed=8), run(none, 20, seed=8)
    assert all(o.spare_wait_s == 0 for o in ample_out)
    assert all(o.spare_wait_s > 0 for o in none_out)
    assert np.mean([o.wall_s for o in none_out]) > np.mean([o.wall_s for o in ample_out])
    for o in none_out:
        assert o.spare_wait_s <= o.restart_s + 1e-6
        assert accounted_s(o) == pytest.approx(o.wall_s)


def test_async_checkpoints_cost_no_stall_but_lose_the_write_window() -> None:
    # with M >> tau, failures fall uniformly in the cycle: lost work per failure is
    # tau/2 + D for an async write of D (it counts only once written)
    tau, d = 600.0, 200.0
    s = setup(compute_s=WORK_S * 4, mtbf_s=60_000.0, restart_s=0.0, checkpoint=asynchronous(tau, d))
    outcomes = run(s, 60, seed=12)
    assert all(o.checkpoint_s == 0.0 for o in outcomes)
    lost = sum(o.lost_work_s for o in outcomes) / sum(o.unexpected for o in outcomes)
    assert lost == pytest.approx(tau / 2 + d, rel=0.1)


def test_stragglers_inflate_training_by_the_expected_maximum() -> None:
    # two workers, normal jitter with CV 5%: E[max of 2 standard normals] = 1/sqrt(pi)
    inflation = 1 + 0.05 / math.sqrt(math.pi)
    s = setup(compute_s=WORK_S, mtbf_s=None, checkpoint=None,
              stragglers=StragglerModel(inflation=inflation, step_sd_fraction=0.05))
    (o,) = run(s, 1)
    assert o.wall_s == pytest.approx(WORK_S * inflation, rel=1e-3)
    assert o.straggler_s == pytest.approx(o.wall_s - WORK_S, rel=1e-2)
    assert o.effective_training_time_fraction == pytest.approx(1.0)


def test_timeline_is_sorted_and_counts_match() -> None:
    s = setup(compute_s=WORK_S, mtbf_s=5000.0, restart_s=300.0, checkpoint=blocking(1800.0, 60.0))
    o = simulate_training(s, seed=1, replica=0, record=True)
    assert o.timeline is not None
    times = [e["t_s"] for e in o.timeline]
    assert times == sorted(times)
    events = [e["event"] for e in o.timeline]
    assert events[0] == "start" and events[-1] == "complete"
    assert events.count("failure") == o.unexpected
    assert events.count("checkpoint") == o.checkpoints


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mtbf_s=st.floats(2_000.0, 50_000.0),
    restart_s=st.floats(0.0, 1500.0),
    interval_s=st.floats(100.0, 8_000.0),
    write_s=st.floats(0.0, 600.0),
    mode=st.sampled_from(["blocking", "async"]),
    maint_rate=st.sampled_from([0.0, 1 / 30_000.0, 1 / 5_000.0]),
    checkpoint_first=st.booleans(),
    spares=st.sampled_from([None, 0, 2]),
    window=st.sampled_from([None, 200_000.0]),
    seed=st.integers(0, 10_000),
)
def test_time_accounting_adds_up(
    mtbf_s: float, restart_s: float, interval_s: float, write_s: float, mode: str,
    maint_rate: float, checkpoint_first: bool, spares: int | None, window: float | None, seed: int,
) -> None:
    ck = blocking(interval_s, write_s) if mode == "blocking" else asynchronous(max(interval_s, write_s), write_s, 1.0)
    maint = MaintenancePlan(rate_per_s=maint_rate, duration_s=1200.0, checkpoint_first=checkpoint_first) if maint_rate else None
    pool = SparePool(nodes=spares, repair_s=5_000.0) if spares is not None else None
    s = setup(compute_s=100_000.0, mtbf_s=mtbf_s, restart_s=restart_s, checkpoint=ck, maintenance=maint,
              spares=pool, replace_node=True, window_s=window)
    o = simulate_training(s, seed=seed, replica=0)
    parts = (o.useful_s, o.checkpoint_s, o.lost_work_s, o.restart_s, o.maintenance_s, o.spare_wait_s)
    assert all(p >= -1e-6 for p in parts)
    assert accounted_s(o) == pytest.approx(o.wall_s, rel=1e-9, abs=1e-6)
    assert 0.0 <= o.effective_training_time_fraction <= 1.0 + 1e-12
    if o.completed:
        assert o.useful_s == pytest.approx(100_000.0, rel=1e-9)
    else:
        assert window is not None and o.wall_s == pytest.approx(window)


def test_replace_keeps_setups_frozen() -> None:
    s = setup(compute_s=10.0, mtbf_s=None)
    assert replace(s, window_s=5.0).window_s == 5.0 and s.window_s is None
