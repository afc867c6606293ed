"""Parsing and formatting of counts, sizes and durations (SI units throughout).

``parse_count`` reads the human forms people write for token budgets and
parameter counts ("300e9", "300B", "15.6T", "1.5M", "2k"). Suffixes are decimal
(k = 1e3, M = 1e6, B or G = 1e9, T = 1e12, P = 1e15), as token budgets are quoted
in papers (e.g. "300B tokens", Brown et al. 2020 Table 2.1).
"""

from __future__ import annotations

import math
import re

from dcbench.errors import UsageError

# Decimal multipliers; both "B" (billion) and "G" (giga) mean 1e9.
_SUFFIX: dict[str, float] = {
    "": 1.0,
    "k": 1e3,
    "K": 1e3,
    "m": 1e6,
    "M": 1e6,
    "b": 1e9,
    "B": 1e9,
    "g": 1e9,
    "G": 1e9,
    "t": 1e12,
    "T": 1e12,
    "p": 1e15,
    "P": 1e15,
}
_COUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([kKmMbBgGtTpP]?)\s*$")


def parse_count(text: str | float | int) -> float:
    """Parse a non-negative count such as ``"300e9"``, ``"300B"``, ``"15.6T"`` or ``"2k"``.

    Returns the value as a float (a plain number, no unit). Raises
    :class:`~dcbench.errors.UsageError` naming the accepted forms for anything else
    (negative, NaN, infinite, empty or with an unknown suffix).
    """
    if isinstance(text, bool):
        raise UsageError(f"expected a count, got {text!r}")
    if isinstance(text, int | float):
        value = float(text)
    else:
        match = _COUNT.match(str(text).replace("_", ""))
        if match is None:
            raise UsageError(
                f"cannot read {text!r} as a count; write e.g. 300e9, 300B, 15.6T, 1.5M or 2k"
            )
        value = float(match.group(1)) * _SUFFIX[match.group(2)]
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"a count must be a finite number >= 0, got {text!r}")
    return value


def format_count(value: float) -> str:
    """Format a plain count with a decimal suffix: 175e9 -> '175B', 1.5e12 -> '1.50T'."""
    for suffix, scale in (("P", 1e15), ("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def format_bytes(value_bytes: float) -> str:
    """Format a byte count in decimal units (1 GB = 1e9 bytes, as datasheets quote HBM)."""
    for suffix, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(value_bytes) >= scale:
            return f"{value_bytes / scale:.3g} {suffix}"
    return f"{value_bytes:.0f} B"


def format_rate(value: float, unit: str) -> str:
    """Format a rate such as FLOP/s or B/s with a decimal prefix: (3.12e14, 'FLOP/s') -> '312 TFLOP/s'."""
    for prefix, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def format_duration(seconds: float) -> str:
    """Format seconds as the largest sensible unit: '12.3 ms', '4.56 s', '3.2 h', '34.1 days'."""
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    if seconds >= 1:
        return f"{seconds:.3g} s"
    return f"{seconds * 1e3:.3g} ms"
