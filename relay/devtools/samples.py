"""The sample deliveries ``relay send`` sends: each provider's (its module's ``SENDING``), one
per common event type for the providers whose events differ in shape (Stripe, GitHub, Slack,
Shopify, Linear).

Each ``Sample`` is shaped like the provider's real event (with its event type and id fields,
so relay's naming and dedupe work on it) and says where the event type and the id live, so a
send can set the one and make the other fresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from relay.providers.registry import SENDING
from relay.providers.sample import BodyPath, Header, Sample

__all__ = ["EVENTS", "SAMPLES", "has_sample", "list_samples", "sample_for"]

#: Every provider's default sample, by provider name.
SAMPLES: Final[Mapping[str, Sample]] = MappingProxyType(
    {name: side.sample for name, side in SENDING.items()}
)

#: Samples per event type (what ``--event`` takes), by provider name (those that have some).
EVENTS: Final[Mapping[str, Mapping[str, Sample]]] = MappingProxyType(
    {name: MappingProxyType(dict(side.events)) for name, side in SENDING.items() if side.events}
)


def sample_for(provider: str, event: str | None) -> tuple[Sample, bool]:
    """The sample to send for ``event`` (None: the provider's default), and whether ``event``
    must still be written into it: false for a sample of that very event, true for one that
    stands for it (``event_prefix``) or, with no sample of that event, the default sample.
    ``KeyError`` for an unknown provider."""
    default = SAMPLES[provider]
    if event is None:
        return default, False
    events = EVENTS.get(provider, {})
    if event in events:
        return events[event], False
    for sample in events.values():
        if sample.event_prefix is not None and event.startswith(sample.event_prefix):
            return sample, True
    return default, True


def has_sample(provider: str, event: str) -> bool:
    """Whether ``provider`` has a sample of ``event`` (false for one with a single sample)."""
    return provider in EVENTS and sample_for(provider, event)[0] is not SAMPLES[provider]


def _event_of(sample: Sample) -> str | None:
    """The event type written in a sample, where it can be read without a request."""
    for where in sample.event:
        if isinstance(where, Header):
            value = sample.headers.get(where.name)
        elif isinstance(where, BodyPath):
            value = sample.payload
            for part in where.path:
                try:
                    value = value[part]
                except (KeyError, IndexError, TypeError):
                    value = None
                    break
        else:
            continue
        if isinstance(value, str):
            return value
    return None


def list_samples(provider: str) -> str:
    """``relay send PROVIDER --list``: one line per sample ``--event`` takes, then what other
    values do."""
    default = SAMPLES[provider]
    events = EVENTS.get(provider, {})
    lines = []
    for name, sample in events.items():
        note = f"  (and any {sample.event_prefix}...)" if sample.event_prefix else ""
        lines.append(f"{name}{note}")
    shown = _event_of(default)
    if not events and shown is not None:
        lines.append(f"{shown}  (the sample)")
    if not default.event:
        lines.append(f"{provider} sends one kind of event: --event cannot change it")
    elif events:
        lines.append(f"other --event values: the {shown or 'default'} sample with that type")
    else:
        lines.append("other --event values: this sample with that type")
    return "\n".join(lines)
