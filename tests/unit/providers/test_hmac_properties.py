"""Property tests over every provider of this batch.

Sign-then-verify round-trips for random bodies and secrets (the product signer agreeing with
the reference one), any changed byte fails; and no input makes ``verify``/``handshake`` raise
anything but ``VerificationError`` or ``event_type``/``event_id`` raise at all.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay.devtools.signing import sign
from relay.providers.base import VerificationError
from tests.unit.providers.cases import (
    CASES,
    NAMES,
    NOW,
    SECRET,
    SVIX_FAMILY,
    build,
    make,
    request,
)
from tests.unit.providers.signers import MSG_ID, REFERENCE

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Any code point, lone surrogates included (header values are latin-1 decoded by the server,
# but nothing stops a caller from building odd strings).
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=80)


def _secret(name: str) -> st.SearchStrategy[str]:
    if name in SVIX_FAMILY:
        raw = st.binary(min_size=1, max_size=48)
        return raw.map(lambda key: "whsec_" + base64.b64encode(key).decode("ascii"))
    return st.text(min_size=1, max_size=64)


def _body(name: str, data: st.DataObject) -> bytes:
    if CASES[name].timed == "body":  # Linear: the body must carry a fresh webhookTimestamp
        filler = data.draw(st.text(max_size=200), label="filler")
        return json.dumps({"webhookTimestamp": int(NOW * 1000), "x": filler}).encode()
    return data.draw(st.binary(min_size=1, max_size=512), label="body")


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(data=st.data())
def test_sign_then_verify_round_trips_and_any_changed_byte_fails(
    name: str, data: st.DataObject
) -> None:
    secret = data.draw(_secret(name), label="secret")
    body = _body(name, data)
    headers = REFERENCE[name](secret, body, NOW)
    opts = {"msg_id": MSG_ID} if name in SVIX_FAMILY else {}
    assert sign(name, secret, body, NOW, **opts) == headers
    provider = build(name, secret)
    provider.verify(request(body, headers), NOW)

    index = data.draw(st.integers(0, len(body) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    changed = bytearray(body)
    changed[index] ^= mask
    with pytest.raises(VerificationError) as info:
        provider.verify(request(bytes(changed), headers), NOW)
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize("name", [*NAMES, "gitlab"])
@PROPERTY
@given(data=st.data())
def test_verify_and_handshake_raise_nothing_but_verification_errors(
    name: str, data: st.DataObject
) -> None:
    case = CASES.get(name)
    body, headers = make(case) if case is not None else (b"{}", {"x-gitlab-token": "t"})
    for key in list(headers):
        if data.draw(st.booleans(), label=f"replace {key}"):
            headers[key] = data.draw(ANY_TEXT, label=key)
    if data.draw(st.booleans(), label="replace body"):
        body = data.draw(st.binary(max_size=300), label="body")
    method = data.draw(st.sampled_from(["POST", "GET"]), label="method")
    query = data.draw(st.dictionaries(st.sampled_from(["challenge", "x"]), ANY_TEXT), label="q")
    req = request(body, headers, method=method, query=query)
    provider = build(name)
    for call in (provider.handshake, provider.verify):
        error: VerificationError | None = None
        try:
            call(req, NOW)
        except VerificationError as exc:
            error = exc
        if error is not None:
            assert error.reason
            assert SECRET not in str(error)


JSONISH: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.builds(pow, st.just(10), st.just(5000))  # more digits than int->str allows
    | st.floats()
    | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)
FIELD_NAMES = ["type", "id", "event", "event_id", "event_type", "action", "command", "payload"]


@pytest.mark.parametrize("name", [*NAMES, "gitlab"])
@PROPERTY
@given(
    top=st.dictionaries(st.sampled_from(FIELD_NAMES), JSONISH, max_size=5) | JSONISH,
    headers=st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=4),
)
def test_event_fields_never_raise(name: str, top: Any, headers: dict[str, str]) -> None:
    provider = build(name)
    event_headers = dict(CASES[name].extra_headers) if name in CASES else {}
    req = request(b"", {**event_headers, **headers})
    for value in (provider.event_type(req, top), provider.event_id(req, top)):
        assert value is None or isinstance(value, str)
