"""Input checks shared by the sizing modules.

Every check raises :class:`dcbench.errors.UsageError` with one line that names
the field, the bad value and what would be accepted, so the CLI can print it
as-is. Checks never use ``assert`` (asserts vanish under ``python -O``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, TypeVar

from dcbench.errors import ConfigError, UsageError, closest

T = TypeVar("T")


def number(name: str, value: object) -> float:
    """Return ``value`` as a float; reject strings, booleans, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{name} must be a number (got {value!r}); pass e.g. {name}=1.0")
    as_float = float(value)
    if not math.isfinite(as_float):
        raise UsageError(f"{name} must be a finite number (got {value!r})")
    return as_float


def positive(name: str, value: object) -> float:
    """Check that ``value`` is a finite number > 0."""
    as_float = number(name, value)
    if as_float <= 0:
        raise UsageError(f"{name} must be > 0 (got {value!r}); pass a positive value")
    return as_float


def non_negative(name: str, value: object) -> float:
    """Check that ``value`` is a finite number >= 0."""
    as_float = number(name, value)
    if as_float < 0:
        raise UsageError(f"{name} must be >= 0 (got {value!r}); pass zero or a positive value")
    return as_float


def at_least(name: str, value: object, low: float) -> float:
    """Check that ``value`` is a finite number >= ``low``."""
    as_float = number(name, value)
    if as_float < low:
        raise UsageError(f"{name} must be >= {low:g} (got {value!r})")
    return as_float


def fraction(name: str, value: object, *, allow_zero: bool = False) -> float:
    """Check that ``value`` lies in (0, 1] (or [0, 1] with ``allow_zero``)."""
    as_float = number(name, value)
    low_ok = as_float >= 0 if allow_zero else as_float > 0
    if not low_ok or as_float > 1:
        span = "[0, 1]" if allow_zero else "(0, 1]"
        raise UsageError(f"{name} must be in {span} (got {value!r}); pass a fraction such as 0.8")
    return as_float


def whole(name: str, value: object) -> int:
    """Return ``value`` as an int; a float with no fractional part is accepted."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise UsageError(f"{name} must be a whole number (got {value!r}); pass e.g. {name}=8")


def positive_int(name: str, value: object) -> int:
    """Check that ``value`` is a whole number >= 1."""
    as_int = whole(name, value)
    if as_int < 1:
        raise UsageError(f"{name} must be >= 1 (got {value!r})")
    return as_int


def non_negative_int(name: str, value: object) -> int:
    """Check that ``value`` is a whole number >= 0."""
    as_int = whole(name, value)
    if as_int < 0:
        raise UsageError(f"{name} must be >= 0 (got {value!r})")
    return as_int


def optional_positive(name: str, value: object) -> float | None:
    """``None`` passes through; anything else must be a finite number > 0."""
    return None if value is None else positive(name, value)


def choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """Check that ``value`` is one of ``choices`` (suggesting the closest one)."""
    if not isinstance(value, str) or value not in choices:
        hint = closest(str(value), choices)
        did_you_mean = f"; did you mean {hint!r}?" if hint else ""
        raise UsageError(
            f"{name} must be one of {', '.join(choices)} (got {value!r}){did_you_mean}"
        )
    return value


def from_mapping(cls: type[T], values: Mapping[str, Any], *, where: str = "assumptions") -> T:
    """Build the dataclass ``cls`` from a mapping, rejecting unknown keys by name.

    Meant for assumptions read from a YAML file or CLI ``key=value`` pairs: a
    mistyped key raises :class:`ConfigError` naming the closest valid key.
    Values are checked by the dataclass itself.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    valid = tuple(field.name for field in dataclasses.fields(cls))
    for key in values:
        if key not in valid:
            hint = closest(str(key), valid)
            did_you_mean = f"; did you mean {hint!r}?" if hint else ""
            raise ConfigError(
                f"unknown key {key!r} in {where}{did_you_mean} (valid keys: {', '.join(valid)})"
            )
    missing = [
        field.name
        for field in dataclasses.fields(cls)
        if field.name not in values
        and field.default is dataclasses.MISSING
        and field.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"missing key(s) {', '.join(missing)} in {where}; add them")
    return cls(**dict(values))
