"""simulator.units: counts as people write them for token budgets and parameter counts."""

from __future__ import annotations

import pytest

from dcbench.errors import UsageError
from simulator.units import format_bytes, format_count, format_duration, parse_count


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("300e9", 300e9),
        ("300B", 300e9),
        ("15.6T", 15.6e12),
        ("1.5M", 1.5e6),
        ("2k", 2000.0),
        ("450G", 450e9),
        (" 7b ", 7e9),
        ("1_000", 1000.0),
        (42, 42.0),
        (2.5e11, 2.5e11),
    ],
)
def test_parse_count_accepts_the_usual_forms(text: str | float, expected: float) -> None:
    assert parse_count(text) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("text", ["abc", "12X", "-5", "", "nan", "inf", "1e", "3..2B", True])
def test_parse_count_rejects_junk_with_a_usage_error(text: object) -> None:
    with pytest.raises(UsageError) as err:
        parse_count(text)  # type: ignore[arg-type]
    assert "\n" not in str(err.value)


def test_formatters_use_decimal_units() -> None:
    assert format_count(175e9) == "175B"
    assert format_bytes(80e9) == "80 GB"
    assert format_duration(34 * 86400) == "34.0 days"
    assert format_duration(0.0123) == "12.3 ms"
