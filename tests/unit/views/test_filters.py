"""What the CLI and the API accept as filters, and how they refuse the rest."""

from __future__ import annotations

import pytest

from relay.store.base import DeliveryStatus
from relay.views.filters import (
    FilterError,
    parse_cursor,
    parse_delivery_statuses,
    parse_event_status,
    parse_limit,
    parse_time,
)

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h", NOW - 3600),
        ("90s", NOW - 90),
        ("2d", NOW - 172800),
        ("300", NOW - 300),
        ("1700000000", 1_700_000_000.0),
        ("2027-01-15T00:00:00", 1_799_971_200.0),
        ("2027-01-15T01:00:00+01:00", 1_799_971_200.0),
        ("", None),
        (None, None),
    ],
)
def test_times_are_ages_unix_seconds_or_iso(text: str | None, expected: float | None) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["soon", "-5", "nan", "1h-", "2027-13-40"])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_time(text, NOW)
    assert caught.value.code == "bad_filter"


def test_statuses() -> None:
    assert parse_event_status("duplicate") == "duplicate"
    assert parse_event_status(None) is None
    with pytest.raises(FilterError):
        parse_event_status("lost")
    assert parse_delivery_statuses(["dead,failed", "dead"]) == (
        DeliveryStatus.DEAD,
        DeliveryStatus.FAILED,
    )
    with pytest.raises(FilterError):
        parse_delivery_statuses(["dead,nope"])


def test_cursors_are_ids_of_the_listed_kind() -> None:
    good = "evt_01a2093cb9cecf22f084cb344634"
    assert parse_cursor(good, ("evt", "rej")) == good
    for bad in ("dlv_01a2093cb9cecf22f084cb344634", "evt_1", "evt_' OR 1=1 --", "x" * 40):
        with pytest.raises(FilterError) as caught:
            parse_cursor(bad, ("evt", "rej"))
        assert caught.value.code == "bad_cursor"


def test_limits() -> None:
    assert parse_limit(None) == 50
    assert parse_limit("500") == 500
    for bad in ("0", "501", "ten", "-1"):
        with pytest.raises(FilterError):
            parse_limit(bad)
