"""Step-time statistics for one run.

Percentiles use linear interpolation between order statistics (numpy's default,
Hyndman & Fan 1996 definition 7). The coefficient of variation is the sample
standard deviation (ddof=1) over the mean.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

CV_WARN_THRESHOLD = 0.10  # warn when run-to-run step noise exceeds 10% (issue 2, section 3)


@dataclass(frozen=True, kw_only=True, slots=True)
class StepTimeStats:
    """Summary of measured step times; every field in seconds except ``cv`` (a ratio) and ``n``."""

    n: int
    mean: float
    median: float
    p5: float
    p95: float
    iqr: float
    min: float
    max: float
    std: float
    cv: float

    @classmethod
    def from_times(cls, step_times_s: list[float]) -> StepTimeStats:
        """Summarise a non-empty list of step times in seconds."""
        if not step_times_s:
            raise ValueError("no step times to summarise")
        times = np.asarray(step_times_s, dtype=np.float64)
        p5, p25, p50, p75, p95 = np.percentile(times, [5, 25, 50, 75, 95])
        mean = float(times.mean())
        std = float(times.std(ddof=1)) if times.size > 1 else 0.0
        return cls(
            n=int(times.size),
            mean=mean,
            median=float(p50),
            p5=float(p5),
            p95=float(p95),
            iqr=float(p75 - p25),
            min=float(times.min()),
            max=float(times.max()),
            std=std,
            cv=std / mean if mean > 0 else 0.0,
        )

    @property
    def noisy(self) -> bool:
        """True when the coefficient of variation is above the 10% warning threshold."""
        return self.cv > CV_WARN_THRESHOLD

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)
