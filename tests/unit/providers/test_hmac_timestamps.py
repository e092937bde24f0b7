"""Replay windows of the timestamped schemes (header, ``t=`` pair or body timestamps)."""

from __future__ import annotations

import pytest

from relay.providers.base import ConfigError
from tests.unit.providers.cases import CASES, NOW, TIMED, Case, build, make, reason_of, request

HEADER_TIMED = sorted(name for name in TIMED if CASES[name].timed != "body")
PAIR_TIMED = sorted(name for name in TIMED if CASES[name].timed == "pairs")
GARBAGE = [
    "",
    "abc",
    "-1",
    "+1700000000",
    "1e9",
    "12.5",
    " 1700000000",
    "\u0661\u0667" + "\u0660" * 8,  # Arabic-Indic digits: isdigit() but not ASCII
    "9" * 13,
]


def _with_timestamp(case: Case, headers: dict[str, str], value: str) -> dict[str, str]:
    """``headers`` with the timestamp (signed at ``NOW``) replaced by ``value``."""
    if case.timestamp_header is not None:
        return {**headers, case.timestamp_header: value}
    original = headers[case.header]
    key, _, rest = original.partition("=")
    assert rest.startswith(str(int(NOW)))
    return {**headers, case.header: f"{key}={value}{rest[len(str(int(NOW))) :]}"}


@pytest.mark.parametrize("name", TIMED)
@pytest.mark.parametrize("direction", [-1, 1])
def test_accepts_timestamps_at_the_edge_of_the_window(name: str, direction: int) -> None:
    case = CASES[name]
    body, headers = make(case, NOW + direction * case.tolerance)
    build(name).verify(request(body, headers), NOW)


@pytest.mark.parametrize("name", TIMED)
def test_rejects_a_stale_timestamp_just_outside_the_window(name: str) -> None:
    case = CASES[name]
    body, headers = make(case, NOW - case.tolerance - 1)
    assert reason_of(build(name), request(body, headers)) == "timestamp_too_old"


@pytest.mark.parametrize("name", TIMED)
def test_rejects_a_future_timestamp_just_outside_the_window(name: str) -> None:
    case = CASES[name]
    body, headers = make(case, NOW + case.tolerance + 1)
    assert reason_of(build(name), request(body, headers)) == "timestamp_in_future"


@pytest.mark.parametrize("name", TIMED)
def test_tolerance_option_widens_the_window(name: str) -> None:
    case = CASES[name]
    body, headers = make(case, NOW - case.tolerance - 1)
    build(name, tolerance=case.tolerance + 2).verify(request(body, headers), NOW)


@pytest.mark.parametrize("name", TIMED)
@pytest.mark.parametrize("value", [0, -5, "300", True, float("nan")])
def test_rejects_an_invalid_tolerance_option(name: str, value: object) -> None:
    with pytest.raises(ConfigError) as info:
        build(name, tolerance=value)
    assert info.value.key == "tolerance"


@pytest.mark.parametrize("name", HEADER_TIMED)
@pytest.mark.parametrize("value", GARBAGE)
def test_rejects_a_garbage_timestamp(name: str, value: str) -> None:
    case = CASES[name]
    body, headers = make(case)
    req = request(body, _with_timestamp(case, headers, value))
    assert reason_of(build(name), req) == "invalid_timestamp"


@pytest.mark.parametrize("name", HEADER_TIMED)
def test_rejects_a_missing_timestamp(name: str) -> None:
    case = CASES[name]
    body, headers = make(case)
    if case.timestamp_header is not None:
        del headers[case.timestamp_header]
    else:
        value = headers[case.header]
        headers[case.header] = value[value.index(case.marker) :]  # drop the "t=..." entry
    assert reason_of(build(name), request(body, headers)) == "missing_timestamp"


@pytest.mark.parametrize("name", PAIR_TIMED)
def test_accepts_any_of_several_signatures_and_ignores_other_keys(name: str) -> None:
    case = CASES[name]
    key = case.marker[:-1]
    sep = "," if name != "paddle" else ";"
    body, headers = make(case)
    signed = headers[case.header]
    extra = f"{key}={'0' * 64}{sep}v9=not-hex{sep}{key}="
    headers[case.header] = signed.replace(f"{key}=", extra, 1)
    build(name).verify(request(body, headers), NOW)


@pytest.mark.parametrize("name", PAIR_TIMED)
def test_rejects_a_header_with_no_signature_of_the_expected_key(name: str) -> None:
    case = CASES[name]
    body, headers = make(case)
    headers[case.header] = headers[case.header].replace(case.marker, "v0=", 1)
    assert reason_of(build(name), request(body, headers)) == "missing_signature"


@pytest.mark.parametrize("name", PAIR_TIMED)
def test_rejects_two_timestamps(name: str) -> None:
    case = CASES[name]
    body, headers = make(case)
    ts_key = headers[case.header].partition("=")[0]
    sep = "," if name != "paddle" else ";"
    headers[case.header] = f"{ts_key}={int(NOW)}{sep}" + headers[case.header]
    assert reason_of(build(name), request(body, headers)) == "invalid_timestamp"


@pytest.mark.parametrize("name", PAIR_TIMED)
def test_rejects_a_header_with_too_many_entries(name: str) -> None:
    case = CASES[name]
    body, headers = make(case)
    sep = "," if name != "paddle" else ";"
    headers[case.header] = sep.join(["x=1"] * 200) + sep + headers[case.header]
    assert reason_of(build(name), request(body, headers)) == "malformed_signature"
