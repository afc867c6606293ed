"""Summary statistics over Monte Carlo replicas (mean, percentiles, spread)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

Metrics = Mapping[str, float | None]


def summarize(values: Iterable[float | None]) -> dict[str, float | None]:
    """mean, p5, p50, p95, std (sample, ddof=1) and stderr of the finite values.

    Percentiles use linear interpolation between order statistics (numpy's
    default). Values that are None or not finite are left out; with none left,
    every statistic is None.
    """
    data = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if data.size == 0:
        return {"mean": None, "p5": None, "p50": None, "p95": None, "std": None, "stderr": None}
    p5, p50, p95 = np.percentile(data, [5.0, 50.0, 95.0])
    std = float(np.std(data, ddof=1)) if data.size > 1 else 0.0
    return {
        "mean": float(np.mean(data)),
        "p5": float(p5),
        "p50": float(p50),
        "p95": float(p95),
        "std": std,
        "stderr": std / math.sqrt(data.size),
    }


def summarize_all(rows: Sequence[Metrics]) -> dict[str, dict[str, float | None]]:
    """Summaries of every key that appears in any replica's metrics (missing counts as None)."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return {key: summarize(row.get(key) for row in rows) for key in keys}


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Turn dotted keys ("interruptions.unexpected") into nested dictionaries."""
    result: dict[str, Any] = {}
    for key, value in flat.items():
        node = result
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return result
