"""The provider registry: ``provider: <name>`` in a source's YAML -> its ``ProviderSpec``.

Built from the modules of this package: each public module exporting ``SPEC`` is one
provider, its one home: the verifier and setup hint (``SPEC: ProviderSpec``) and the sending
side (``SENDING: Sending``: signer, what it signs with, sample deliveries) that
``relay.devtools`` (``relay send``) and the tests use. Adding a provider is adding its
module. Names must be unique, and a provider module without ``SENDING`` is an error: both
fail at import time.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from types import MappingProxyType, ModuleType
from typing import Final

from relay.providers.base import ProviderSpec
from relay.providers.sender import Sending

__all__ = ["PROVIDERS", "SENDING", "get_spec", "names"]

_PACKAGE: Final = "relay.providers"


def _provider_modules() -> Iterator[ModuleType]:
    """Every public module of ``relay.providers`` that exports a ``SPEC``, by module name."""
    package = importlib.import_module(_PACKAGE)
    found = sorted(info.name for info in pkgutil.iter_modules(package.__path__))
    for name in found:
        if name.startswith("_") or f"{_PACKAGE}.{name}" == __name__:
            continue
        module = importlib.import_module(f"{_PACKAGE}.{name}")
        if isinstance(getattr(module, "SPEC", None), ProviderSpec):
            yield module


def _collect() -> tuple[Mapping[str, ProviderSpec], Mapping[str, Sending]]:
    specs: dict[str, ProviderSpec] = {}
    sending: dict[str, Sending] = {}
    for module in _provider_modules():
        spec: ProviderSpec = module.SPEC
        if spec.name in specs:
            raise RuntimeError(f"duplicate provider name {spec.name!r}")
        side = getattr(module, "SENDING", None)
        if not isinstance(side, Sending):
            raise RuntimeError(f"provider module {module.__name__} exports no SENDING")
        specs[spec.name] = spec
        sending[spec.name] = side
    return MappingProxyType(specs), MappingProxyType(sending)


#: Every known provider by name (read-only); ``SENDING``: each one's sending side.
PROVIDERS, SENDING = _collect()


def get_spec(name: str) -> ProviderSpec:
    """The spec registered as ``name``; ``KeyError`` (listing known names) when unknown."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise KeyError(f"unknown provider {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    """Registered provider names, sorted."""
    return sorted(PROVIDERS)
