from __future__ import annotations

from relay.providers import PROVIDERS, whatsapp
from relay.providers.meta import MetaProvider


def test_whatsapp_is_registered_with_metas_implementation() -> None:
    assert PROVIDERS["whatsapp"] is whatsapp.SPEC
    built = whatsapp.SPEC.build(["app-secret"], {"verify_token": "t"})
    assert isinstance(built, MetaProvider)
    assert built.name == "whatsapp"
    assert PROVIDERS["meta"].build(["app-secret"], {"verify_token": "t"}).name == "meta"
