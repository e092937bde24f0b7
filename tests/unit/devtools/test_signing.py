"""``relay.devtools.signing``: every registered provider's signer produces what its verifier
accepts, and what a changed body breaks (where the scheme covers the body)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from nacl.signing import VerifyKey
from square.utils.webhooks_helper import verify_signature
from twilio.request_validator import RequestValidator

from relay.devtools.samples import SAMPLES
from relay.devtools.signing import (
    SignedRequest,
    secret_help,
    sign,
    sign_request,
    signer_names,
)
from relay.providers import get_spec, names
from relay.providers.base import VerificationError, WebhookRequest
from relay.providers.registry import SENDING
from tests.provider_setups import Setup, keys, setups

NOW: Final = 1_700_000_000.0
URL: Final = "https://relay.example.com/hooks/{name}"
SETUPS: Final = setups(lambda name: URL.format(name=name))
#: Schemes whose credential does not cover the body: a changed body still verifies.
UNCOVERED: Final = frozenset(
    {"gitlab", "token", "basic", "okta", "none", "microsoft-graph", "mailgun"}
)
URL_SIGNED: Final = frozenset({"twilio", "hubspot", "square"})


def sample_body(name: str, now: float = NOW) -> bytes:
    sample = SAMPLES[name]
    data: Any = json.loads(json.dumps(sample.payload))
    if sample.millis is not None:
        data[sample.millis[0]] = int(now * 1000)
    return urlencode(data).encode() if sample.form else json.dumps(data).encode()


def signed_for(name: str, body: bytes | None = None, **extra: Any) -> SignedRequest:
    setup = SETUPS[name]
    options: dict[str, Any] = {**setup.options, **extra}
    if name in URL_SIGNED:
        options.setdefault("url", URL.format(name=name))
    return sign_request(
        name, setup.secret, sample_body(name) if body is None else body, NOW, **options
    )


def as_request(name: str, signed: SignedRequest, body: bytes | None = None) -> WebhookRequest:
    """What relay's HTTP layer would build from the signed request."""
    raw_query = urlsplit(signed.url(URL.format(name=name))).query
    headers = {**SAMPLES[name].headers, **signed.headers}
    return WebhookRequest(
        method="POST",
        path=f"/hooks/{name}",
        headers={key.lower(): value for key, value in headers.items()},
        query=dict(parse_qsl(raw_query, keep_blank_values=True)),
        body=signed.body if body is None else body,
        raw_query=raw_query,
    )


def verifier(name: str, setup: Setup | None = None) -> Any:
    setup = setup or SETUPS[name]
    return get_spec(name).build(setup.source_secrets, setup.source_options)


def one_byte_changed(body: bytes) -> bytes:
    """The last letter or digit of ``body`` replaced by another one (still valid JSON/form)."""
    index = max(i for i, byte in enumerate(body) if chr(byte).isalnum())
    old = chr(body[index])
    new = str((int(old) + 1) % 10) if old.isdigit() else ("b" if old == "a" else "a")
    return body[:index] + new.encode() + body[index + 1 :]


def test_every_registered_provider_has_a_signer_and_says_what_secret_it_takes() -> None:
    assert signer_names() == names()
    assert set(SENDING) == set(names())
    assert all(secret_help(name) for name in names())


@pytest.mark.parametrize("name", names())
def test_signed_sample_is_accepted_by_the_providers_verifier(name: str) -> None:
    verifier(name).verify(as_request(name, signed_for(name)), NOW)


@pytest.mark.parametrize("name", sorted(set(names()) - UNCOVERED))
def test_a_one_byte_body_change_is_refused(name: str) -> None:
    signed = signed_for(name)
    with pytest.raises(VerificationError) as info:
        verifier(name).verify(as_request(name, signed, one_byte_changed(signed.body)), NOW)
    assert info.value.reason == "signature_mismatch"


PUBLIC_KEY: Final = frozenset({"discord", "ed25519", "sendgrid", "paypal"})


def wrong_secret(name: str) -> str:
    if SETUPS[name].secret.startswith("whsec_"):
        return "whsec_" + base64.b64encode(b"another key").decode()
    if name in PUBLIC_KEY:  # another key of the same kind
        other = {"sendgrid": "p256_private", "paypal": "rsa_private"}.get(name, "ed25519_seed")
        return str(getattr(keys(fresh=True), other))
    return "user:wrong" if name == "basic" else "wrong-secret"


@pytest.mark.parametrize("name", sorted(set(names()) - {"none"}))
def test_a_request_signed_with_another_secret_is_refused(name: str) -> None:
    setup = SETUPS[name]
    options: dict[str, Any] = {**setup.options}
    if name in URL_SIGNED:
        options["url"] = URL.format(name=name)
    forged = sign_request(name, wrong_secret(name), sample_body(name), NOW, **options)
    with pytest.raises(VerificationError):
        verifier(name).verify(as_request(name, forged), NOW)


def test_url_signed_schemes_sign_the_url_they_are_given() -> None:
    for name in sorted(URL_SIGNED):
        signed = signed_for(name, url=URL.format(name=name) + "/other")
        with pytest.raises(VerificationError):
            verifier(name).verify(as_request(name, signed), NOW)


def test_twilio_url_with_repeated_and_escaped_query_round_trips_through_raw_query() -> None:
    url = URL.format(name="twilio") + "?tag=a&tag=b&q=%7e"
    setup = Setup(["auth-token"], {"public_url": url}, "auth-token")
    signed = sign_request("twilio", "auth-token", sample_body("twilio"), NOW, url=url)
    params = dict(parse_qsl(sample_body("twilio").decode()))
    assert RequestValidator("auth-token").validate(
        url, params, signed.headers["x-twilio-signature"]
    )
    request = as_request("twilio", signed)
    request = WebhookRequest(
        method="POST",
        path=request.path,
        headers=request.headers,
        query={"tag": "b", "q": "~"},
        body=request.body,
        raw_query="tag=a&tag=b&q=%7e",
    )
    verifier("twilio", setup).verify(request, NOW)


def test_twilio_json_bodies_are_signed_with_body_sha256_in_the_url() -> None:
    body = b'{"EventType": "onMessageAdded"}'
    signed = signed_for("twilio", body, body_hash="true")
    digest = hashlib.sha256(body).hexdigest()
    assert signed.query == (("bodySHA256", digest),)
    url = signed.url(URL.format(name="twilio"))
    assert url.endswith(f"?bodySHA256={digest}")
    assert RequestValidator(SETUPS["twilio"].secret).validate(
        url, body.decode(), signed.headers["x-twilio-signature"]
    )
    verifier("twilio").verify(as_request("twilio", signed), NOW)
    with pytest.raises(ValueError, match="sign_request"):
        sign("twilio", "t", body, NOW, url=URL, body_hash=True)


def test_twilio_sha256_is_announced_in_the_settings_header() -> None:
    signed = signed_for("twilio", algorithm="HMAC_SHA256")
    assert signed.headers["x-twilio-webhooks-signature-settings"] == "algorithm=HMAC_SHA256"
    verifier("twilio").verify(as_request("twilio", signed), NOW)


def test_square_signature_matches_the_square_sdk() -> None:
    signed = signed_for("square")
    assert verify_signature(
        request_body=signed.body.decode(),
        signature_header=signed.headers["x-square-hmacsha256-signature"],
        signature_key=SETUPS["square"].secret,
        notification_url=URL.format(name="square"),
    )


def test_ed25519_and_discord_signatures_verify_with_nacl() -> None:
    public = VerifyKey(bytes.fromhex(keys().ed25519_public))
    discord = signed_for("discord")
    timestamp = discord.headers["x-signature-timestamp"].encode()
    public.verify(timestamp + discord.body, bytes.fromhex(discord.headers["x-signature-ed25519"]))
    generic = sign_request(
        "ed25519", keys().ed25519_seed, b"{}", NOW, header="X-Sig", encoding="base64"
    )
    public.verify(b"{}", base64.b64decode(generic.headers["x-sig"]))


def test_mailgun_and_graph_carry_their_material_in_the_body() -> None:
    mailgun = signed_for("mailgun", token="tok-1")
    signature = json.loads(mailgun.body)["signature"]
    assert signature["token"] == "tok-1"
    assert signature["timestamp"] == str(int(NOW))
    assert json.loads(mailgun.body)["event-data"] == SAMPLES["mailgun"].payload["event-data"]
    graph = signed_for("microsoft-graph")
    states = {item["clientState"] for item in json.loads(graph.body)["value"]}
    assert states == {SETUPS["microsoft-graph"].secret}
    for name in ("mailgun", "microsoft-graph"):
        with pytest.raises(ValueError, match="sign_request"):
            sign(name, "s", sample_body(name), NOW)
        with pytest.raises(ValueError, match=r"JSON|value"):
            sign_request(name, "s", b"[1, 2]", NOW)


@pytest.mark.parametrize("name", sorted(set(names()) - {"mailgun", "microsoft-graph"}))
def test_sign_returns_the_headers_of_schemes_that_touch_nothing_else(name: str) -> None:
    setup = SETUPS[name]
    options: dict[str, Any] = {**setup.options}
    if name in URL_SIGNED:
        options["url"] = URL.format(name=name)
    headers = sign(name, setup.secret, sample_body(name), NOW, **options)
    request = as_request(name, SignedRequest(headers=headers, body=sample_body(name)))
    verifier(name).verify(request, NOW)


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("twilio", {}, "needs option 'url'"),
        ("hubspot", {}, "needs option 'url'"),
        ("paypal", {}, "needs option 'webhook_id'"),
        ("ed25519", {}, "needs option 'header'"),
        ("hmac", {}, "needs option 'header'"),
        ("hmac", {"header": "x", "signed": "{timestamp}{body}"}, "timestamp_header"),
        ("hmac", {"header": "x", "id": "1"}, "needs 'id_header'"),
        ("hmac", {"header": "x", "signed": "{nope}"}, "placeholders"),
        ("twilio", {"url": URL, "body_hash": "maybe"}, "true or false"),
        ("stripe", {"url": URL}, "takes no option 'url'"),
        ("okta", {"prefix": "x"}, "takes no option 'prefix'"),
    ],
)
def test_signer_options_are_checked(name: str, options: dict[str, str], message: str) -> None:
    secret = SETUPS[name].secret
    with pytest.raises(ValueError, match=message):
        sign_request(name, secret, sample_body(name), NOW, **options)


@pytest.mark.parametrize("name", ["discord", "ed25519", "sendgrid", "paypal"])
def test_a_private_key_of_the_wrong_kind_is_refused_without_echoing_it(name: str) -> None:
    wrong = {"sendgrid": keys().rsa_private, "paypal": keys().p256_private}.get(
        name, keys().p256_private
    )
    for secret in (wrong, "not-a-key-4f2a"):
        with pytest.raises(ValueError, match="the secret is not") as info:
            sign_request(name, secret, b"{}", NOW, **SETUPS[name].options)
        assert secret not in str(info.value)


def test_basic_needs_user_and_password() -> None:
    with pytest.raises(ValueError, match="user:password"):
        sign_request("basic", "nopassword", b"", NOW)


def test_unknown_provider_is_a_key_error_listing_the_known_ones() -> None:
    with pytest.raises(KeyError, match="github"):
        sign_request("no-such-provider", "s", b"", NOW)
