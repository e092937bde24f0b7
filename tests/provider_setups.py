"""For every registered provider: a source that verifies it and what ``relay send`` needs.

``setups(public_url)`` pairs each provider's source config (secrets as relay stores them, and
options) with the signer's secret (the private key for the public-key schemes) and options.
``public_url(name)`` is the URL the provider would call for source ``name``. Keys are made
once per test session.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from relay.providers.registry import names

__all__ = ["EVENT_PATHS", "Keys", "Setup", "keys", "setups", "write_config"]

#: How the configurable providers read the generic sample's event type and id.
EVENT_PATHS: Final = {"event_type_path": "type", "event_id_path": "id"}
WEBHOOK_ID: Final = "8PT597110X687430LKGECATA"
API_KEY: Final = "api-key-3c1d"


@dataclass(frozen=True, slots=True)
class Setup:
    source_secrets: list[str]
    source_options: Mapping[str, Any]
    secret: str  # what `relay send --secret` takes
    options: Mapping[str, str] = field(default_factory=dict)  # `relay send --option`


@dataclass(frozen=True, slots=True)
class Keys:
    ed25519_seed: str
    ed25519_public: str
    p256_private: str
    p256_public: str
    rsa_private: str
    rsa_public: str


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def keys(*, fresh: bool = False) -> Keys:
    """The session's keys (``fresh``: a new set)."""
    return _new_keys() if fresh else _session_keys()


@functools.cache
def _session_keys() -> Keys:
    return _new_keys()


def _new_keys() -> Keys:
    ed = Ed25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    p256 = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return Keys(
        ed25519_seed=ed.private_bytes(
            raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        ).hex(),
        ed25519_public=ed.public_key().public_bytes(raw, serialization.PublicFormat.Raw).hex(),
        p256_private=_pem(p256),
        p256_public=base64.b64encode(
            p256.public_key().public_bytes(serialization.Encoding.DER, spki)
        ).decode(),
        rsa_private=_pem(rsa_key),
        rsa_public=rsa_key.public_key().public_bytes(serialization.Encoding.PEM, spki).decode(),
    )


def _shared(name: str) -> Setup:
    secret = f"s3cr3t-{name}-7d41"
    return Setup([secret], {}, secret)


def setups(public_url: Callable[[str], str]) -> dict[str, Setup]:
    """One ``Setup`` per registered provider (the source is named after the provider)."""
    k = keys()
    whsec = "whsec_" + base64.b64encode(b"relay-send-test-key-0123456789ab").decode()
    header_ts = {"header": "X-Signature", "timestamp_header": "X-Timestamp"}
    hmac_options = {**header_ts, "prefix": "sha256=", "signed": "{timestamp}.{body}"}
    token_options = {"header": "X-Api-Key", "prefix": "Token "}
    special = {
        **{
            name: Setup([whsec], {}, whsec)
            for name in ("standard-webhooks", "svix", "clerk", "resend")
        },
        **{
            name: Setup(
                ["auth-or-client-secret"], {"public_url": public_url(name)}, "auth-or-client-secret"
            )
            for name in ("twilio", "hubspot", "square")
        },
        "meta": Setup(["app-secret"], {"verify_token": "vt-1"}, "app-secret"),
        "whatsapp": Setup(["app-secret"], {"verify_token": "vt-1"}, "app-secret"),
        "discord": Setup([k.ed25519_public], {}, k.ed25519_seed),
        "ed25519": Setup(
            [k.ed25519_public],
            {**header_ts, "tolerance": 300, **EVENT_PATHS},
            k.ed25519_seed,
            header_ts,
        ),
        "sendgrid": Setup([k.p256_public], {}, k.p256_private),
        "paypal": Setup(
            [k.rsa_public], {"webhook_id": WEBHOOK_ID}, k.rsa_private, {"webhook_id": WEBHOOK_ID}
        ),
        "hmac": Setup(
            ["hmac-secret"], {**hmac_options, **EVENT_PATHS}, "hmac-secret", hmac_options
        ),
        "token": Setup(["tok-123"], {**token_options, **EVENT_PATHS}, "tok-123", token_options),
        "basic": Setup(["relay:pa55word"], dict(EVENT_PATHS), "relay:pa55word"),
        "none": Setup([], {"insecure": True, **EVENT_PATHS}, ""),
    }
    return {name: special.get(name) or _shared(name) for name in names()}


class _NoAliases(yaml.SafeDumper):
    """relay's loader refuses YAML anchors: write shared values out each time."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_config(
    path: Path, table: Mapping[str, Setup], extra_sources: Mapping[str, Any] | None = None
) -> Path:
    """A config with one source per entry of ``table`` (named after the provider)."""
    sources: dict[str, Any] = {
        name: {"provider": name, "secrets": setup.source_secrets, **setup.source_options}
        for name, setup in table.items()
    }
    config = {
        "version": 1,
        "targets": {"notte": {"base_url": "http://127.0.0.1:9", "api_key": API_KEY}},
        "sources": {**sources, **(extra_sources or {})},
    }
    path.write_text(yaml.dump(config, Dumper=_NoAliases, sort_keys=False))
    return path
