"""Building a source's provider, with every problem of its ``provider:`` and options told once.

The loader runs this on the raw document (so provider problems are reported in the same pass
as every other error) and ``compile_document`` builds the providers with it. An unknown
provider gets a "did you mean"; an unknown option gets one too, among every key a source
accepts (``secrets``, ``max_body_bytes``, ... and the provider's options), and the remaining
options are still checked.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from relay.config_schema import field_names
from relay.providers.base import ConfigError, Provider, ProviderSpec, UnknownOption
from relay.providers.registry import PROVIDERS, names
from relay.routing.config import SourceConfig

__all__ = ["SOURCE_KEYS", "SourceBuild", "build_source", "source_problems", "unknown_provider"]

#: The keys of a source that are relay's, not the provider's.
SOURCE_KEYS: tuple[str, ...] = field_names(SourceConfig)
_MAX_TRIES = 20  # options set aside one by one before giving up on a build


def _suggest(word: str, candidates: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_provider(source: str, provider: str) -> str:
    """The message for ``provider: <provider>`` that names no provider."""
    close = _suggest(provider, names()) or _suggest(provider.lower(), names())
    if close is not None:
        return f"source {source!r}: unknown provider {provider!r} (did you mean {close!r}?)"
    return f"source {source!r}: unknown provider {provider!r} (known: {', '.join(names())})"


@dataclass
class SourceBuild:
    """The built provider (None when any problem was found) and the problems, each with the
    source key it is about (None: the source as a whole)."""

    provider: Provider | None = None
    problems: list[tuple[str | None, str]] = field(default_factory=list)


def build_source(
    name: str, spec: ProviderSpec, secrets: Sequence[str], options: Mapping[str, object]
) -> SourceBuild:
    """Build ``spec``'s provider for source ``name``, telling every problem found."""
    result, remaining, keys = SourceBuild(), dict(options), list(secrets)
    for _ in range(_MAX_TRIES):
        try:
            provider = spec.build(keys, remaining)
        except UnknownOption as exc:
            key = exc.key or ""
            accepted = sorted({*SOURCE_KEYS, *exc.accepted})
            close = _suggest(key, accepted)
            hint = f" (did you mean {close!r}?)" if close is not None else ""
            result.problems.append(
                (
                    exc.key,
                    f"source {name!r}: unknown option {key!r}{hint}; a {spec.name} source "
                    f"takes {', '.join(accepted)}",
                )
            )
            if key not in remaining:
                break
            value = remaining.pop(key)
            if close == "secrets" and not keys and isinstance(value, list):
                # a misspelt ``secrets``: check the rest as if it were spelt right
                keys = [str(item) for item in value]
            continue
        except ConfigError as exc:
            result.problems.append((exc.key, f"source {name!r}: {exc}"))
            break
        if not result.problems:
            result.provider = provider
        break
    return result


def source_problems(name: str, raw: Mapping[str, object]) -> list[tuple[str | None, str]]:
    """Problems of a source as written (before validation): its provider and its options.
    Values the schema refuses (a ``secrets`` that is not a list of strings, ...) are left to
    it: then only ``provider:`` is checked."""
    provider = raw.get("provider")
    if not isinstance(provider, str):
        return []  # missing or not a string: the schema says so
    spec = PROVIDERS.get(provider)
    if spec is None:
        return [("provider", unknown_provider(name, provider))]
    secrets = raw.get("secrets", [])
    if not isinstance(secrets, list) or not all(isinstance(s, str) for s in secrets):
        return []
    options = {k: v for k, v in raw.items() if k not in SOURCE_KEYS}
    return build_source(name, spec, secrets, options).problems
