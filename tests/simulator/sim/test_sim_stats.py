"""Monte Carlo summaries: mean, p5, p50, p95, std, stderr (worked by hand)."""

from __future__ import annotations

import math

import pytest

from simulator.sim.stats import nest, summarize, summarize_all


def test_percentiles_interpolate_between_order_statistics() -> None:
    # Five replicas of the minimal scenario: one without a failure, four with one
    # (600 s of restart each). The p-th percentile sits at position p/100 x (n - 1)
    # of the sorted values: p5 at 0.2, between 0 and 600, so p5 = 0.2 x 600 = 120 s,
    # and the same replicas' failure counts give p5 = 0.2 x 1 = 0.2. That is why a
    # p5 restart overhead of 120 s goes with a p5 of 0.2 interruptions.
    restart = summarize([600.0, 0.0, 600.0, 600.0, 600.0])
    failures = summarize([1.0, 0.0, 1.0, 1.0, 1.0])
    assert restart["p5"] == pytest.approx(120.0)
    assert failures["p5"] == pytest.approx(0.2)
    assert restart["p50"] == 600.0 and restart["p95"] == 600.0
    assert restart["mean"] == pytest.approx(480.0)
    # sample sd (ddof = 1): deviations -480 once and +120 four times: sqrt((480^2 + 4 x 120^2) / 4) = 268.33
    assert restart["std"] == pytest.approx(math.sqrt((480**2 + 4 * 120**2) / 4))
    assert restart["stderr"] == pytest.approx(restart["std"] / math.sqrt(5))  # type: ignore[operator]


def test_missing_and_infinite_values_are_left_out() -> None:
    s = summarize([None, 2.0, math.inf, 4.0])
    assert s["mean"] == 3.0 and s["p50"] == 3.0
    assert summarize([None, math.nan])["mean"] is None
    assert summarize([7.0])["std"] == 0.0


def test_summaries_of_rows_and_nesting() -> None:
    stats = summarize_all([{"a.b": 1.0, "c": 2.0}, {"a.b": 3.0}])
    assert stats["a.b"]["mean"] == 2.0 and stats["c"]["mean"] == 2.0
    assert nest({"a.b": 1, "a.c": 2, "d": 3}) == {"a": {"b": 1, "c": 2}, "d": 3}
