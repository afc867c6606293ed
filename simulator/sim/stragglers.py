"""Stragglers: how per-step jitter slows a synchronous step across N workers.

Each worker's step time is ``step_time_s * X`` with X a random factor of mean 1
and coefficient of variation ``cv`` (normal: X = 1 + cv Z; lognormal:
X = exp(sigma Z - sigma^2 / 2) with sigma^2 = ln(1 + cv^2)), independent across
workers and steps. A synchronous step ends when the slowest of the N workers ends,
so its mean is ``step_time_s * E[max of N X]``: the *inflation factor*.

E[max] comes from the exact order-statistic density of the maximum,
N phi(z) Phi(z)^(N-1) (e.g. David & Nagaraja, "Order Statistics", 3rd ed., §2.1),
integrated numerically on a fine grid; no per-step events are needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from dcbench.errors import ConfigError

Distribution = Literal["normal", "lognormal"]

_GRID_POINTS = 20_001
_GRID_HALF_WIDTH = 12.0  # standard deviations; the max of 1e9 normals sits near 6.1


@dataclass(frozen=True, slots=True, kw_only=True)
class StragglerModel:
    """Mean slowdown of a synchronous step and its spread.

    ``inflation`` is E[synchronous step] / step_time_s (>= 1 for the normal model;
    dimensionless). ``step_sd_fraction`` is the standard deviation of one
    synchronous step over its nominal time (dimensionless); the engine uses it to
    draw the mean step time of a stretch of k steps with sd step_sd_fraction/sqrt(k).
    """

    inflation: float
    step_sd_fraction: float


@lru_cache(maxsize=64)
def _max_density_grid(workers: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid z and the density of the max of ``workers`` standard normals at z."""
    z = np.linspace(-_GRID_HALF_WIDTH, _GRID_HALF_WIDTH, _GRID_POINTS)
    phi = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    cdf = 0.5 * (1.0 + np.array([math.erf(v / math.sqrt(2.0)) for v in z]))
    if workers == 1:
        return z, phi
    with np.errstate(divide="ignore"):
        log_cdf = np.log(cdf)
    density = workers * phi * np.exp((workers - 1) * log_cdf)
    return z, density


def _moments_of_max(workers: int, values: np.ndarray) -> tuple[float, float]:
    """Mean and sd of g(max Z) where ``values`` is g on the grid."""
    z, density = _max_density_grid(workers)
    dz = z[1] - z[0]
    mean = float(np.sum(values * density) * dz)
    second = float(np.sum(values * values * density) * dz)
    return mean, math.sqrt(max(second - mean * mean, 0.0))


def expected_max_standard_normal(workers: int) -> float:
    """E[max of ``workers`` iid standard normals] (0 for one worker)."""
    if workers < 1:
        raise ConfigError(f"stragglers.workers must be >= 1, got {workers}")
    if workers == 1:
        return 0.0
    z, _ = _max_density_grid(workers)
    return _moments_of_max(workers, z)[0]


def straggler_model(*, cv: float, workers: int, distribution: Distribution) -> StragglerModel:
    """Inflation factor and per-step spread of a synchronous step over ``workers`` workers."""
    if cv < 0 or not math.isfinite(cv):
        raise ConfigError(f"stragglers.cv must be a finite number >= 0, got {cv!r}")
    if workers < 1:
        raise ConfigError(f"stragglers.workers must be >= 1, got {workers}")
    if cv == 0:
        return StragglerModel(inflation=1.0, step_sd_fraction=0.0)
    z, _ = _max_density_grid(workers)
    if distribution == "normal":
        mean_z, sd_z = _moments_of_max(workers, z)
        return StragglerModel(inflation=1.0 + cv * mean_z, step_sd_fraction=cv * sd_z)
    sigma = math.sqrt(math.log1p(cv * cv))
    mean, sd = _moments_of_max(workers, np.exp(sigma * z - 0.5 * sigma * sigma))
    return StragglerModel(inflation=mean, step_sd_fraction=sd)
