from __future__ import annotations

import base64
import importlib
import json
import pkgutil
import subprocess
import sys
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import relay.providers as providers_pkg
from relay.providers import PROVIDERS, ProviderSpec, get_spec, names, registry
from relay.providers.base import Provider
from relay.providers.registry import SENDING
from relay.providers.sender import Sending


def test_registers_the_built_in_providers() -> None:
    # A subset check: each batch of providers adds its names here.
    assert {"github", "hmac", "standard-webhooks"} <= set(names())
    assert {
        "bitbucket", "calendly", "clerk", "coinbase-commerce", "dropbox", "gitlab",
        "intercom", "jira", "lemonsqueezy", "linear", "notion", "paddle", "pagerduty",
        "resend", "sentry", "shopify", "slack", "stripe", "svix", "typeform", "vercel", "zoom",
    } <= set(names())  # fmt: skip


def test_registers_the_non_hmac_providers() -> None:
    assert {
        "asana", "basic", "discord", "ed25519", "hubspot", "mailgun", "meta", "microsoft-graph",
        "none", "okta", "paypal", "sendgrid", "square", "token", "twilio", "twitch", "twitter",
        "whatsapp",
    } <= set(names())  # fmt: skip


# Providers whose options are required or whose secrets are public keys / credentials.
_OPTIONS: dict[str, dict[str, Any]] = {
    "ed25519": {"header": "x-sig"},
    "hubspot": {"public_url": "https://relay.example/hooks/hs"},
    "meta": {"verify_token": "t"},
    "none": {"insecure": True},
    "paypal": {"webhook_id": "WH-1"},
    "square": {"public_url": "https://relay.example/hooks/sq"},
    "twilio": {"public_url": "https://relay.example/hooks/tw"},
    "whatsapp": {"verify_token": "t"},
}


def _secrets() -> dict[str, list[str]]:
    ed25519_key = Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem, der = serialization.Encoding.PEM, serialization.Encoding.DER
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return {
        "basic": ["user:password"],
        "discord": [ed25519_key],
        "ed25519": [ed25519_key],
        "none": [],
        "paypal": [rsa_key.public_bytes(pem, spki).decode()],
        "sendgrid": [base64.b64encode(p256.public_bytes(der, spki)).decode()],
    }


def test_names_are_sorted_and_match_the_mapping() -> None:
    assert names() == sorted(PROVIDERS)


def test_each_spec_is_registered_under_its_own_name() -> None:
    for name, spec in PROVIDERS.items():
        assert isinstance(spec, ProviderSpec)
        assert spec.name == name


def test_get_spec_returns_the_registered_spec() -> None:
    assert get_spec("github") is PROVIDERS["github"]


def test_get_spec_raises_key_error_for_unknown_name() -> None:
    with pytest.raises(KeyError, match="nope"):
        get_spec("nope")


def test_mapping_is_read_only() -> None:
    with pytest.raises(TypeError):
        PROVIDERS["x"] = PROVIDERS["github"]  # type: ignore[index]


def test_every_provider_builds_and_exposes_the_interface() -> None:
    options = {"hmac": {"header": "x-sig"}, **_OPTIONS}
    secret = "whsec_aGVsbG8="  # valid for every HMAC scheme: UTF-8 text and base64 after the prefix
    special = _secrets()
    for name, spec in PROVIDERS.items():
        built: Provider = spec.build(special.get(name, [secret]), options.get(name, {}))
        assert built.name == name
        for method in ("handshake", "verify", "event_id", "event_type"):
            assert callable(getattr(built, method))


def test_package_exports_a_curated_public_api() -> None:
    assert set(providers_pkg.__all__) == {
        "PROVIDERS",
        "ConfigError",
        "HandshakeReply",
        "Provider",
        "ProviderSpec",
        "VerificationError",
        "WebhookRequest",
        "get_spec",
        "names",
    }
    for name in providers_pkg.__all__:
        assert hasattr(providers_pkg, name)


def test_every_provider_module_exports_its_sending_side_and_setup_hint() -> None:
    assert set(SENDING) == set(PROVIDERS)
    for name, spec in PROVIDERS.items():
        assert isinstance(SENDING[name], Sending)
        assert spec.hint.strip(), name
        assert SENDING[name].signs_with.strip(), name


def test_the_registry_is_every_public_module_that_exports_a_spec() -> None:
    modules = {info.name for info in pkgutil.iter_modules(providers_pkg.__path__)}
    with_spec = {
        name
        for name in modules
        if not name.startswith("_")
        and isinstance(
            getattr(importlib.import_module(f"relay.providers.{name}"), "SPEC", None), ProviderSpec
        )
    }
    assert len(with_spec) == len(PROVIDERS)
    for name in with_spec:
        spec = importlib.import_module(f"relay.providers.{name}").SPEC
        assert PROVIDERS[spec.name] is spec


def _fake(name: str, spec: ProviderSpec, sending: object) -> ModuleType:
    module = ModuleType(name)
    module.SPEC = spec  # type: ignore[attr-defined]
    if sending is not None:
        module.SENDING = sending  # type: ignore[attr-defined]
    return module


def test_a_provider_module_without_sending_or_not_named_after_its_provider_fails_at_load() -> None:
    spec = PROVIDERS["github"]
    with pytest.raises(RuntimeError, match="exports no SENDING"):
        registry._provider(_fake("relay.providers.github", spec, None))
    # A second module registering a taken name cannot be named after it: refused.
    with pytest.raises(RuntimeError, match=r"registers 'github'.*named after it \(github\.py\)"):
        registry._provider(_fake("relay.providers.github2", spec, SENDING["github"]))
    assert registry._provider(_fake("relay.providers.github", spec, SENDING["github"])) == (
        spec,
        SENDING["github"],
    )
    assert registry._provider(ModuleType("relay.providers.helpers")) is None


@pytest.mark.parametrize("name", ["base", "sender", "registry", "_hmac", "GitHub", "a.b", "", "-x"])
def test_a_name_that_is_no_providers_is_unknown(name: str) -> None:
    assert name not in PROVIDERS
    assert SENDING.get(name) is None
    with pytest.raises(KeyError, match="unknown provider"):
        get_spec(name)


def _loaded_after(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def test_looking_a_provider_up_imports_its_module_only() -> None:
    loaded = _loaded_after(
        "from relay.providers import get_spec, PROVIDERS\n"
        "get_spec('github'); PROVIDERS['standard-webhooks']; 'nope' in PROVIDERS"
    )
    providers = {m for m in loaded if m.startswith("relay.providers.") and "._" not in m}
    assert providers == {
        "relay.providers.base",
        "relay.providers.body_limits",  # constants of base's specs, no provider
        "relay.providers.github",
        "relay.providers.registry",
        "relay.providers.sample",
        "relay.providers.sender",
        "relay.providers.standard_webhooks",
    }


def test_listing_the_providers_imports_every_provider_module_but_not_their_crypto() -> None:
    loaded = _loaded_after("from relay.providers import names\nnames()")
    modules = {info.name for info in pkgutil.iter_modules(providers_pkg.__path__)}
    assert {f"relay.providers.{m}" for m in modules if not m.startswith("_")} <= loaded
    # cryptography comes with the first public key loaded or signature checked
    assert not [m for m in loaded if m == "cryptography" or m.startswith("cryptography.")]


def test_building_a_public_key_provider_loads_the_crypto() -> None:
    loaded = _loaded_after(
        "from relay.providers import get_spec\n"
        f"get_spec('ed25519').build([{'11' * 32!r}], {{'header': 'x-sig'}})"
    )
    assert "cryptography.hazmat.primitives.asymmetric.ed25519" in loaded
