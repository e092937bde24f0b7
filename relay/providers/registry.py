"""The provider registry: ``provider: <name>`` in a source's YAML -> its ``ProviderSpec``.

Built from the modules of this package: each public module exporting ``SPEC`` is one
provider, its one home: the verifier and setup hint (``SPEC: ProviderSpec``) and the sending
side (``SENDING: Sending``: signer, what it signs with, sample deliveries) that
``relay.devtools`` (``relay send``) and the tests use. Adding a provider is adding its
module, named after it (a ``-`` in the name is a ``_`` in the module's: ``standard-webhooks``
is ``standard_webhooks.py``).

So looking one provider up (``get_spec``, ``PROVIDERS[name]``, ``name in PROVIDERS``) imports
its module only: a config that names three providers loads three, and a CLI command that
reads the config starts quickly. Listing them (``names()``, iterating ``PROVIDERS`` or
``SENDING``) imports every module. A provider module without ``SENDING``, or whose ``SPEC``
is not named after the module, is an error when it is loaded.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from types import ModuleType
from typing import Final, Generic, NamedTuple, TypeVar

from relay.providers.base import ProviderSpec
from relay.providers.sender import Sending

__all__ = ["PROVIDERS", "SENDING", "get_spec", "names"]

_PACKAGE: Final = "relay.providers"
#: What a provider's name looks like (so that a lookup never imports anything else).
_NAME: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

_V = TypeVar("_V")


class _Provider(NamedTuple):
    spec: ProviderSpec
    sending: Sending


def _provider(module: ModuleType) -> _Provider | None:
    """``module``'s provider (None: the module is not one); ``RuntimeError`` when it breaks
    the rules above."""
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, ProviderSpec):
        return None
    named = module.__name__.rpartition(".")[2].replace("_", "-")
    if spec.name != named:
        raise RuntimeError(
            f"provider module {module.__name__} registers {spec.name!r}: a provider's module "
            f"is named after it ({spec.name.replace('-', '_')}.py)"
        )
    sending = getattr(module, "SENDING", None)
    if not isinstance(sending, Sending):
        raise RuntimeError(f"provider module {module.__name__} exports no SENDING")
    return _Provider(spec, sending)


def _lookup(name: str) -> _Provider | None:
    """The provider called ``name``, importing its module only (None: there is none)."""
    if not _NAME.fullmatch(name):
        return None
    module_name = f"{_PACKAGE}.{name.replace('-', '_')}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    return _provider(module)


def _provider_modules() -> Iterator[ModuleType]:
    """Every public module of ``relay.providers`` but this one, by module name."""
    package = importlib.import_module(_PACKAGE)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.name.startswith("_") and f"{_PACKAGE}.{info.name}" != __name__:
            yield importlib.import_module(f"{_PACKAGE}.{info.name}")


@cache
def _every() -> Mapping[str, _Provider]:
    found = (_provider(module) for module in _provider_modules())
    return {p.spec.name: p for p in found if p is not None}


class _Registry(Mapping[str, _V], Generic[_V]):
    """Read-only, by provider name: a lookup imports that provider's module, iterating
    imports them all."""

    def __init__(self, part: Callable[[_Provider], _V]) -> None:
        self._part = part

    def __getitem__(self, name: str) -> _V:
        found = _lookup(name) if isinstance(name, str) else None
        if found is None:
            raise KeyError(name)
        return self._part(found)

    def __iter__(self) -> Iterator[str]:
        return iter(_every())

    def __len__(self) -> int:
        return len(_every())


#: Every known provider by name (read-only); ``SENDING``: each one's sending side.
PROVIDERS: Final[Mapping[str, ProviderSpec]] = _Registry(lambda p: p.spec)
SENDING: Final[Mapping[str, Sending]] = _Registry(lambda p: p.sending)


def get_spec(name: str) -> ProviderSpec:
    """The spec registered as ``name``; ``KeyError`` (listing known names) when unknown."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise KeyError(f"unknown provider {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    """Registered provider names, sorted."""
    return sorted(PROVIDERS)
