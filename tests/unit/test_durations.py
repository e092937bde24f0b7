from __future__ import annotations

from typing import Any

import pytest

from relay.durations import parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (30, 30.0),
        (1.5, 1.5),
        ("45", 45.0),
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("2d", 172800.0),
        ("250ms", 0.25),
        (" 1h ", 3600.0),
    ],
)
def test_durations_are_seconds_or_unit_text(value: Any, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["10 minutes", "m10", "", "1h 30m", True, None, -1, "1w"])
def test_other_durations_are_refused_with_the_accepted_forms(value: Any) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(value)


@pytest.mark.parametrize(
    "value", [10**400, "9" * 400, "١٢٠", "1٢m", float("inf"), float("nan"), "9" * 400 + "d"]
)
def test_durations_beyond_a_float_or_in_other_digits_are_refused(value: Any) -> None:
    """A huge number was a traceback (``math.isfinite`` of an int beyond any float) or an
    endless retention; digits of other scripts are not read as numbers."""
    with pytest.raises(ValueError, match="invalid duration") as caught:
        parse_duration(value)
    assert len(str(caught.value)) < 120
