"""Hostile requests against a real ``relay serve`` with a source for every provider: missing,
malformed and tampered signatures (one character of any signature header, 10,000 entries),
non-UTF-8 and deeply nested bodies, wrong methods and media types, and signed bodies relay
cannot process. Each gets the right code (never a 500), nothing is stored that should not
be, and nothing unprocessable is forwarded. Timestamps: test_hostile_timestamps.py; signed
unprocessable bodies for every provider: test_hostile_bodies.py."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from relay.providers import get_spec, names
from tests.helpers import GITHUB_SECRET, github_headers, issue_opened
from tests.reliability.hostile_kit import Signed, signed, stored_status
from tests.reliability.kit import db_rows
from tests.reliability.shared import SharedRelay

PROVIDERS = names()
#: The body is not signed: a shared credential in a header, or (Microsoft Graph) a
#: clientState inside the body; Mailgun signs a timestamp and token, not the event data.
BODY_NOT_SIGNED = frozenset({"basic", "gitlab", "okta", "token", "microsoft-graph", "mailgun"})
#: The credential travels inside the body (there is no header to leave out).
AUTH_IN_BODY = frozenset({"mailgun", "microsoft-graph"})
NOT_UTF8 = b'\xff\xfe{"a": "\x80\x81"}\xc3'


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30.0) as c:
        yield c


def _post(client: httpx.Client, s: Signed, **changes: object) -> httpx.Response:
    body = changes.get("body", s.body)
    headers = changes.get("headers", s.headers)
    assert isinstance(body, bytes)
    assert isinstance(headers, dict)
    return client.post(s.url, content=body, headers=headers)


def _flip(body: bytes) -> bytes:
    middle = len(body) // 2
    return body[:middle] + bytes([body[middle] ^ 0x01]) + body[middle + 1 :]


def _events(shared: SharedRelay) -> int:
    return int(db_rows(shared.db, "SELECT count(*) FROM events")[0][0])


# -- signatures --------------------------------------------------------------------------


@pytest.mark.parametrize("provider", sorted(set(PROVIDERS) - AUTH_IN_BODY - {"none"}))
def test_missing_signature_is_401_for_every_scheme(
    shared_relay: SharedRelay, client: httpx.Client, provider: str
) -> None:
    s = signed(shared_relay, provider)
    before = _events(shared_relay)
    reply = _post(client, s, headers=s.without_auth())
    assert reply.status_code == 401, reply.text
    assert _events(shared_relay) == before


MUTATIONS = {
    "empty": "",
    "bare-scheme": "v1",
    "scheme-and-junk": "v1,abc",
    "not-base64": "v1,!!!not*base64!!!",
    "10000-entries": " ".join(["v1,a"] * 10_000),
    "10000-pairs": ",".join(["v1=a"] * 10_000),
    "latin-1-bytes": "sha256=\xff\xfe\xfd",
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("provider", sorted(set(PROVIDERS) - AUTH_IN_BODY - {"none"}))
def test_malformed_signature_headers_are_401_for_every_scheme(
    shared_relay: SharedRelay, client: httpx.Client, provider: str, mutation: str
) -> None:
    s = signed(shared_relay, provider)
    for name in s.auth:  # each header the signature depends on, one at a time
        headers = {k: v for k, v in s.headers.items() if k.lower() != name}
        headers[name] = MUTATIONS[mutation]
        raw = {k.encode(): v.encode("latin-1") for k, v in headers.items()}
        reply = client.post(s.url, content=s.body, headers=raw)
        assert reply.status_code == 401, (name, reply.status_code, reply.text[:200])


@pytest.mark.parametrize("provider", sorted(set(PROVIDERS) - BODY_NOT_SIGNED - {"none"}))
def test_one_byte_tamper_is_401_for_every_body_signing_scheme(
    shared_relay: SharedRelay, client: httpx.Client, provider: str
) -> None:
    s = signed(shared_relay, provider)
    reply = _post(client, s, body=_flip(s.body))
    assert reply.status_code == 401, reply.text
    assert _post(client, s).status_code == 200  # the untampered request verifies


def _one_character_changed(value: str) -> str:
    """``value`` with its middle letter or digit replaced by another one (never a case
    variant: hex is read case-insensitively; never the last base64 character, whose spare
    bits may not count)."""
    spots = [i for i, c in enumerate(value) if c.isascii() and c.isalnum()]
    if not spots:
        return value + "0"
    i = spots[len(spots) // 2]
    c = value[i]
    if c.isdigit():
        other = str((int(c) + 1) % 10)
    else:
        base = ord("a") if c.islower() else ord("A")
        other = chr((ord(c) - base + 1) % 26 + base)
    return value[:i] + other + value[i + 1 :]


@pytest.mark.parametrize("provider", sorted(set(PROVIDERS) - AUTH_IN_BODY - {"none"}))
def test_one_character_changed_in_any_signature_header_is_401_for_every_scheme(
    shared_relay: SharedRelay, client: httpx.Client, provider: str
) -> None:
    s = signed(shared_relay, provider)
    assert s.auth
    for name in s.auth:  # the signature, its timestamp, its id, a token: each one
        changed = {**s.headers, name: _one_character_changed(s.headers[name])}
        reply = _post(client, s, headers=changed)
        assert reply.status_code == 401, (name, reply.status_code, reply.text[:200])


@pytest.mark.parametrize("provider", sorted(AUTH_IN_BODY))
def test_credential_missing_from_the_body_is_401(
    shared_relay: SharedRelay, client: httpx.Client, provider: str
) -> None:
    s = signed(shared_relay, provider)
    data = json.loads(s.body)
    if provider == "mailgun":
        del data["signature"]
    else:
        for item in data["value"]:
            del item["clientState"]
    before = _events(shared_relay)
    reply = _post(client, s, body=json.dumps(data).encode())
    assert reply.status_code == 401, reply.text
    assert _events(shared_relay) == before


#: Signature headers that list entries (a secret roll): header, separator, entry made of
#: a 32-byte signature of zeros (well formed, wrong).
LISTS = {
    "stripe": ("stripe-signature", ",", "v1=" + "0" * 64),
    "calendly": ("calendly-webhook-signature", ",", "v1=" + "0" * 64),
    "paddle": ("paddle-signature", ";", "h1=" + "0" * 64),
    "pagerduty": ("x-pagerduty-signature", ",", "v1=" + "0" * 64),
    **{
        name: (f"{prefix}-signature", " ", "v1," + base64.b64encode(bytes(32)).decode())
        for name, prefix in (
            ("standard-webhooks", "webhook"),
            ("svix", "svix"),
            ("clerk", "svix"),
            ("resend", "svix"),
        )
    },
}


# 10,000 such entries (~680 KB) are over the 64 KiB head cap: 431 before any provider sees
# them; 800 (~54 KB) fit in a head, and are refused by count (at most 100 entries are read).
@pytest.mark.parametrize("count", [800, 10_000])
@pytest.mark.parametrize("provider", sorted(LISTS))
def test_thousands_of_well_formed_entries_are_refused_even_with_the_right_one(
    shared_relay: SharedRelay, client: httpx.Client, provider: str, count: int
) -> None:
    s = signed(shared_relay, provider)
    header, separator, wrong = LISTS[provider]
    flooded = separator.join([wrong] * count + [s.headers[header]])
    before = _events(shared_relay)
    started = time.monotonic()
    reply = _post(client, s, headers={**s.headers, header: flooded})
    if count == 800:
        assert reply.status_code == 401, reply.text
        assert reply.json()["error"] == "malformed_signature"
    else:
        assert reply.status_code == 431, reply.text
    assert time.monotonic() - started < 10.0  # refused by size or count, not tried one by one
    assert _events(shared_relay) == before
    assert _post(client, s).status_code == 200  # the header as sent verifies


# -- bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unsigned_non_utf8_body_is_401_never_500(
    shared_relay: SharedRelay, client: httpx.Client, provider: str
) -> None:
    s = signed(shared_relay, provider)
    headers = s.without_auth()
    reply = _post(client, s, body=NOT_UTF8, headers=headers)
    if provider == "none":  # no verification: stored, but as unprocessable
        assert reply.status_code == 200
        assert stored_status(shared_relay, reply)[0] == "unprocessable"
    else:
        assert reply.status_code in (400, 401), reply.text


@pytest.mark.parametrize("provider", sorted(set(PROVIDERS) - {"twilio"}))
def test_signed_non_utf8_body_is_acknowledged_and_stored_unprocessable(
    shared_relay: SharedRelay, client: httpx.Client, provider: str
) -> None:
    try:
        s = signed(shared_relay, provider, payload=NOT_UTF8)
    except ValueError:  # the scheme writes into the body (it must parse it to sign)
        pytest.skip(f"{provider} cannot sign a body that is not its format")
    reply = _post(client, s)
    if provider == "linear":  # its signed timestamp is inside the (unreadable) body
        assert reply.status_code == 401
        assert reply.json()["error"] == "missing_timestamp"
        return
    assert reply.status_code == 200, reply.text
    status, error = stored_status(shared_relay, reply)
    assert status == "unprocessable"
    assert error is not None


def test_signed_non_utf8_body_under_twilios_body_hash_is_stored_unprocessable(
    shared_relay: SharedRelay, client: httpx.Client
) -> None:
    s = signed(
        shared_relay,
        "twilio",
        payload=NOT_UTF8,
        content_type="application/json",
        options={"body_hash": "true"},
    )
    reply = _post(client, s)
    assert reply.status_code == 200, reply.text
    assert stored_status(shared_relay, reply)[0] == "unprocessable"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unsigned_deeply_nested_json_is_refused_by_every_scheme_never_500(
    shared_relay: SharedRelay, client: httpx.Client, provider: str
) -> None:
    body = b'{"a": ' * 100_000 + b"1" + b"}" * 100_000
    s = signed(shared_relay, provider)
    reply = _post(client, s, body=body, headers=s.without_auth())
    if provider == "none":  # nothing to verify: stored, as unprocessable
        assert reply.status_code == 200
        assert stored_status(shared_relay, reply)[0] == "unprocessable"
    else:
        assert reply.status_code == 401, reply.text


def test_unsigned_deeply_nested_json_is_401_without_parsing(
    shared_relay: SharedRelay, client: httpx.Client
) -> None:
    body = b"[" * 500_000 + b"]" * 500_000
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "issues"}
    reply = client.post(shared_relay.hook("github"), content=body, headers=headers)
    assert reply.status_code == 401
    assert reply.json()["error"] == "missing_signature"


UNPROCESSABLE = {
    "nested-100k": (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
    "integer-10k-digits": (b'{"n": ' + b"9" * 10_000 + b"}", "more than 4300"),
    "nan": (b'{"action": "opened", "n": NaN}', "NaN"),
    "infinity": (b'{"action": "opened", "n": Infinity}', "Infinity"),
    "minus-infinity": (b'{"action": "opened", "n": -Infinity}', "Infinity"),
    "not-json": (b"action=opened&issue=1", "invalid JSON"),
    "duplicate-keys": (b'{"action": "opened", "action": "closed"}', "duplicate JSON key"),
    "not-utf8": (NOT_UTF8, "not UTF-8"),
    "empty": (b"", "empty"),
    "truncated": (b'{"action": "opened", "issue": {"number"', "invalid JSON"),
}


@pytest.mark.parametrize("case", sorted(UNPROCESSABLE))
def test_signed_unprocessable_body_is_stored_with_its_reason_and_never_forwarded(
    shared_relay: SharedRelay, client: httpx.Client, case: str
) -> None:
    body, reason = UNPROCESSABLE[case]
    ident = f"unprocessable-{case}"
    headers = github_headers(body, delivery=ident)  # event type "issues": the route's
    reply = client.post(shared_relay.hook("github"), content=body, headers=headers)
    assert reply.status_code == 200, reply.text
    status, error = stored_status(shared_relay, reply)
    assert status == "unprocessable"
    assert error is not None
    assert reason in error
    event_id = reply.json()["id"]
    assert db_rows(
        shared_relay.db, "SELECT count(*) FROM deliveries WHERE event_id = ?", (event_id,)
    ) == [(0,)]
    logged = [
        json.loads(line)
        for line in shared_relay.relay.output().splitlines()
        if line.startswith("{") and event_id in line
    ]
    assert any(
        e["event"] == "relay.hook.received"
        and e["status"] == "unprocessable"
        and reason in (e.get("error") or "")
        for e in logged
    )
    runs = httpx.get(f"{shared_relay.runner.url}/_local/runs", timeout=30).json()
    assert not any(r["variables"].get("delivery") == ident for r in runs)


# -- methods, media types, paths ---------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def test_other_methods_on_a_post_only_hook_are_405(
    shared_relay: SharedRelay, client: httpx.Client, method: str
) -> None:
    body = issue_opened(1)
    reply = client.request(
        method,
        shared_relay.hook("github"),
        content=body,
        headers=github_headers(body, delivery=f"method-{method}"),
    )
    assert reply.status_code == 405
    assert "POST" in reply.headers.get("allow", "")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_put_patch_and_delete_are_405_for_every_source(
    shared_relay: SharedRelay, client: httpx.Client, provider: str
) -> None:
    s = signed(shared_relay, provider)
    methods = ["PUT", "PATCH", "DELETE"] + ([] if get_spec(provider).allows_get else ["GET"])
    for method in methods:
        reply = client.request(method, s.url, content=s.body, headers=s.headers)
        assert reply.status_code == 405, (method, reply.text)
        assert "POST" in reply.headers.get("allow", "")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_multipart_is_415_for_every_source_even_when_signed(
    shared_relay: SharedRelay, client: httpx.Client, provider: str
) -> None:
    s = signed(shared_relay, provider)
    headers = {**s.headers, "content-type": "multipart/form-data; boundary=x"}
    before = _events(shared_relay)
    reply = _post(client, s, headers=headers)
    assert reply.status_code == 415, reply.text
    assert _events(shared_relay) == before


def test_multipart_is_415_without_parsing(shared_relay: SharedRelay, client: httpx.Client) -> None:
    body = b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n" + b"1" * 500_000 + b"\r\n--x"
    headers = {
        **github_headers(body, delivery="multipart"),
        "Content-Type": "multipart/form-data; boundary=x",
    }
    before = _events(shared_relay)
    reply = client.post(shared_relay.hook("github"), content=body, headers=headers)
    assert reply.status_code == 415
    assert _events(shared_relay) == before


@pytest.mark.parametrize(
    "path",
    [
        "/hooks/nope",
        "/hooks/GITHUB",
        "/hooks/github%00",
        "/hooks/..%2fgithub",
        "/hooks/" + "a" * 5000,
    ],
)
def test_unknown_source_is_404(shared_relay: SharedRelay, client: httpx.Client, path: str) -> None:
    body = issue_opened(1)
    reply = client.post(shared_relay.url + path, content=body, headers=github_headers(body))
    assert reply.status_code == 404


def test_no_answer_holds_a_configured_secret(
    shared_relay: SharedRelay, client: httpx.Client
) -> None:
    body = issue_opened(1)
    wrong = github_headers(body, secret="not-" + GITHUB_SECRET)
    reply = client.post(shared_relay.hook("github"), content=body, headers=wrong)
    assert reply.status_code == 401
    assert GITHUB_SECRET not in reply.text
    for setup in shared_relay.table.values():
        if setup.secret:
            assert setup.secret not in reply.text
