"""The pipeline iteration engine against the closed-form bubble (Narayanan et al. 2021 §2.2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcbench.errors import ConfigError
from simulator.sim.loading import validate
from simulator.sim.pipeline import pipeline_setup, schedule_ops, simulate_pipeline
from simulator.sim.scenario_pipeline import PipelineScenario


def _scenario(**fields: object) -> PipelineScenario:
    scn = validate({"kind": "pipeline", **fields})
    assert isinstance(scn, PipelineScenario)
    return scn


@settings(max_examples=40, deadline=None)
@given(
    p=st.integers(1, 12),
    m=st.integers(1, 40),
    f=st.floats(0.001, 1.0),
    ratio=st.floats(0.5, 3.0),
    schedule=st.sampled_from(["1f1b", "gpipe"]),
)
def test_uniform_stages_with_free_comm_give_the_closed_form_bubble(
    p: int, m: int, f: float, ratio: float, schedule: str
) -> None:
    out = simulate_pipeline(pipeline_setup(_scenario(stages=p, microbatches=m, schedule=schedule,
                                                     forward_s=f, backward_s=f * ratio)))
    assert out.bubble_fraction == pytest.approx((p - 1) / (m + p - 1), abs=1e-9)
    assert out.iteration_s == pytest.approx((m + p - 1) * f * (1 + ratio), rel=1e-9)


@pytest.mark.parametrize(("p", "m", "v"), [(4, 8, 2), (4, 4, 2), (8, 16, 4), (16, 64, 2), (2, 6, 3)])
def test_interleaved_bubble_shrinks_by_the_number_of_chunks(p: int, m: int, v: int) -> None:
    out = simulate_pipeline(pipeline_setup(_scenario(stages=p, microbatches=m, schedule="interleaved",
                                                     virtual_stages=v, forward_s=1.0)))
    # iteration = (m + (p - 1)/v)(t_f + t_b): bubble (p - 1)/(v m + p - 1)
    assert out.iteration_s == pytest.approx((m + (p - 1) / v) * 3.0, rel=1e-9)
    assert out.bubble_fraction == pytest.approx((p - 1) / (v * m + p - 1), rel=1e-9)


def test_the_1f1b_schedule_runs_each_pass_once() -> None:
    for rank in range(4):
        ops = schedule_ops("1f1b", 4, 6, rank)
        assert sorted(ops) == sorted([("F", i, 0) for i in range(6)] + [("B", i, 0) for i in range(6)])
        # warm-up: p - rank - 1 forwards before the first backward
        assert [kind for kind, _, _ in ops].index("B") == min(4 - rank - 1, 6) + 1


def test_communication_is_exposed_and_the_closed_form_underestimates() -> None:
    scn = _scenario(stages=8, microbatches=16, forward_s=0.01, p2p_s=0.003, dp_allreduce_s=0.02)
    setup = pipeline_setup(scn)
    free = simulate_pipeline(pipeline_setup(_scenario(stages=8, microbatches=16, forward_s=0.01)))
    out = simulate_pipeline(setup)
    # at least the DP all-reduce and the fill/drain sends are on the critical path
    assert out.iteration_s >= free.iteration_s + 0.02 + 2 * 7 * 0.003 - 1e-9
    assert out.closed_form_iteration_s < out.iteration_s


def test_the_slowest_stage_sets_the_pace() -> None:
    times = [0.01] * 7 + [0.02]
    out = simulate_pipeline(pipeline_setup(_scenario(stages=8, microbatches=32, forward_s=times)))
    # at least m passes of the slow stage plus the fill of the others
    assert out.iteration_s >= 32 * 0.06
    assert out.busy_s[-1] == pytest.approx(32 * 0.06)


def test_bad_pipeline_shapes_are_refused() -> None:
    with pytest.raises(ConfigError, match="multiple of 'stages'"):
        _scenario(stages=4, microbatches=6, schedule="interleaved", virtual_stages=2, forward_s=1.0)
    with pytest.raises(ConfigError, match="lists 2 values for 3 stages"):
        _scenario(stages=3, microbatches=6, forward_s=[1.0, 2.0])
    with pytest.raises(ConfigError, match="virtual_stages"):
        _scenario(stages=3, microbatches=6, virtual_stages=2, forward_s=1.0)


def test_the_planner_can_give_the_iteration() -> None:
    scn = _scenario(model="llama3-70b", gpu="h100-sxm5-80gb", gpus=1024, layout={"tp": 8, "pp": 8})
    setup = pipeline_setup(scn)
    assert setup.stages == 8 and setup.planner_step_time_s is not None
    out = simulate_pipeline(setup)
    # uniform stages: compute per rank is m x (t_f + t_b), whatever the schedule
    assert out.busy_s[0] == pytest.approx(setup.microbatches * (setup.forward_s[0] + setup.backward_s[0]))
    # same compute, same closed-form bubble: the two models agree to within a few percent
    assert out.iteration_s == pytest.approx(setup.planner_step_time_s, rel=0.1)
    with pytest.raises(ConfigError, match="drop forward_s"):
        _scenario(model="llama3-70b", gpu="h100-sxm5-80gb", gpus=1024, forward_s=1.0)


def _notes(**fields: object) -> list[str]:
    from simulator.sim.campaign import prepare, run_campaign
    from simulator.sim.runners import InlineRunner

    doc = run_campaign(prepare({"kind": "pipeline", **fields}), replicas=1, seed=0, runner=InlineRunner())
    return list(doc["notes"])


def test_the_output_says_where_the_closed_form_disagrees_and_why() -> None:
    assert _notes(stages=8, microbatches=16, forward_s=0.01) == ["closed form and simulation agree within 1%"]
    (note,) = _notes(stages=8, microbatches=16, forward_s=0.01, p2p_s=0.003)
    assert note.startswith("closed form") and "underestimates" in note and "point-to-point" in note
    (note,) = _notes(stages=8, microbatches=16, forward_s=[0.01] * 7 + [0.03])
    assert "overestimates" in note and "slowest stage" in note
