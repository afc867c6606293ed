"""Field types shared by the scenario models: durations, counts and switchable blocks.

Durations are seconds. A scenario may write a plain number (seconds) or a number
with an explicit unit (``90s``, ``10min``, ``2h``, ``3d``); anything else is an
error that names the accepted forms. Counts (``tokens``) accept ``1e12``, ``300B``
or ``15.6T`` (``simulator.units.parse_count``). An effect block can be switched
off with ``off`` (YAML reads a bare ``off`` as false) or ``false``.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from dcbench.errors import UsageError
from simulator.units import parse_count

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")
# Seconds per unit for the duration suffixes a scenario may use.
_SECONDS_PER_UNIT: dict[str, float] = {
    "": 1.0,
    "sec": 1.0,
    "ms": 1e-3,
    "s": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "min": 60.0,
    "m": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
    "w": 7 * 86400.0,
    "week": 7 * 86400.0,
    "weeks": 7 * 86400.0,
}
DURATION_FORMS = "a number of seconds (3600) or a value with a unit: 90s, 10min, 2h, 3d, 1w"


def parse_seconds(value: Any) -> Any:
    """Turn a duration (number of seconds or string with a unit) into seconds (float)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}; write {DURATION_FORMS}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None or match.group(2).lower() not in _SECONDS_PER_UNIT:
            raise ValueError(f"cannot read {value!r} as a duration; write {DURATION_FORMS}")
        return float(match.group(1)) * _SECONDS_PER_UNIT[match.group(2).lower()]
    return value


def _parse_count(value: Any) -> Any:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return parse_count(value)
        except UsageError as err:
            raise ValueError(str(err)) from None
    return value


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return value


Seconds = Annotated[float, BeforeValidator(_finite), BeforeValidator(parse_seconds)]
Count = Annotated[float, BeforeValidator(_finite), BeforeValidator(_parse_count)]


def switchable(value: Any) -> Any:
    """Map ``off``/``false``/``none`` to None (effect disabled) and ``on``/``true`` to defaults."""
    if value is False or (isinstance(value, str) and value.strip().lower() in {"off", "none"}):
        return None
    if value is True or (isinstance(value, str) and value.strip().lower() in {"on", "default"}):
        return {}
    return value


class StrictModel(BaseModel):
    """Base of every scenario model: unknown keys are errors, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)
