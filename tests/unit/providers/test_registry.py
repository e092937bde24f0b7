from __future__ import annotations

import pytest

import relay.providers as providers_pkg
from relay.providers import PROVIDERS, ProviderSpec, get_spec, names
from relay.providers.base import Provider


def test_registers_the_first_three_providers() -> None:
    assert names() == ["github", "hmac", "standard-webhooks"]


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
    options = {"hmac": {"header": "x-sig"}}
    secret = "whsec_aGVsbG8="  # valid for every scheme: UTF-8 text and base64 after the prefix
    for name, spec in PROVIDERS.items():
        built: Provider = spec.build([secret], options.get(name, {}))
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
