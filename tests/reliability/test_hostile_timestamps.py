"""Hostile timestamps against a real ``relay serve``, for every scheme that signs one: a
request signed a second outside its replay window (either way) is 401 with the reason, one
signed inside it is accepted, and a timestamp that is not a time (``hello``, ``nan``,
``1e30``, 10,000 digits...) is 401 even when the signature covers it. Nothing is stored."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from relay.providers import names
from tests.reliability.hostile_kit import WINDOWS, signed, signed_over_timestamp
from tests.reliability.kit import db_rows
from tests.reliability.shared import SharedRelay

TIMED = sorted(WINDOWS)
BAD_TIMESTAMPS = [
    "hello",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e30",
    "-1",
    "",
    "0x10",
    "١٢٣",  # Arabic-Indic digits
    "1700000000.5",
    "17e8",
    "9" * 40,
    "9" * 10_000,
]


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30.0) as c:
        yield c


def _events(shared: SharedRelay) -> int:
    return int(db_rows(shared.db, "SELECT count(*) FROM events")[0][0])


def test_every_scheme_with_a_signed_timestamp_is_listed() -> None:
    assert set(WINDOWS) <= set(names())


@pytest.mark.parametrize("direction", ["old", "ahead"])
@pytest.mark.parametrize("provider", TIMED)
def test_timestamp_a_second_outside_the_window_is_401_though_signed(
    shared_relay: SharedRelay, client: httpx.Client, provider: str, direction: str
) -> None:
    window = WINDOWS[provider]
    # ahead: half a second more, for the request's own latency
    offset = -(window + 1.0) if direction == "old" else window + 1.5
    s = signed(shared_relay, provider, now=time.time() + offset)
    before = _events(shared_relay)
    reply = client.post(s.url, content=s.body, headers=s.headers)
    assert reply.status_code == 401, reply.text
    expected = "timestamp_too_old" if direction == "old" else "timestamp_in_future"
    assert reply.json()["error"] == expected
    assert "tolerance" in reply.json()["detail"] or "future" in reply.json()["detail"]
    assert _events(shared_relay) == before


# the issue's own figure: 301 s either way, for every window of 300 s or less
@pytest.mark.parametrize("offset", [-301.0, 301.5], ids=["301s-old", "301s-ahead"])
@pytest.mark.parametrize("provider", [p for p in TIMED if WINDOWS[p] <= 300])
def test_timestamp_301_seconds_away_is_401_though_signed(
    shared_relay: SharedRelay, client: httpx.Client, provider: str, offset: float
) -> None:
    s = signed(shared_relay, provider, now=time.time() + offset)
    reply = client.post(s.url, content=s.body, headers=s.headers)
    assert reply.status_code == 401
    assert reply.json()["error"] in ("timestamp_too_old", "timestamp_in_future")


@pytest.mark.parametrize("direction", ["old", "ahead"])
@pytest.mark.parametrize("provider", TIMED)
def test_timestamp_inside_the_window_is_accepted(
    shared_relay: SharedRelay, client: httpx.Client, provider: str, direction: str
) -> None:
    margin = min(2.0, WINDOWS[provider] / 2)  # Paddle's window is 5 s
    offset = WINDOWS[provider] - margin
    s = signed(
        shared_relay, provider, now=time.time() + (-offset if direction == "old" else offset)
    )
    reply = client.post(s.url, content=s.body, headers=s.headers)
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("timestamp", BAD_TIMESTAMPS, ids=lambda t: f"{t[:8]}-{len(t)}")
@pytest.mark.parametrize("provider", TIMED)
def test_unparseable_timestamp_is_401_even_when_signed_over_it(
    shared_relay: SharedRelay, client: httpx.Client, provider: str, timestamp: str
) -> None:
    s = signed_over_timestamp(shared_relay, provider, timestamp)
    before = _events(shared_relay)
    reply = client.post(s.url, content=s.body, headers=s.raw_headers())
    assert reply.status_code == 401, reply.text
    reasons = {"invalid_timestamp"}
    if provider == "linear":  # a body too odd to parse has no webhookTimestamp to read
        reasons.add("missing_timestamp")
    assert reply.json()["error"] in reasons, reply.text
    assert _events(shared_relay) == before


@pytest.mark.parametrize("provider", TIMED)
def test_the_text_timestamp_signer_is_accepted_with_a_real_time(
    shared_relay: SharedRelay, client: httpx.Client, provider: str
) -> None:
    """The control for the test above: the same signer over a good timestamp verifies, so
    each refusal there is the timestamp's, not a signing mistake."""
    now = time.time()
    good = {
        "hubspot": str(int(now * 1000)),
        "linear": str(int(now * 1000)),
        "twitch": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "paypal": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
    }.get(provider, str(int(now)))
    s = signed_over_timestamp(shared_relay, provider, good)
    reply = client.post(s.url, content=s.body, headers=s.raw_headers())
    assert reply.status_code == 200, reply.text
