"""Realistic sample deliveries for ``relay send``: one per provider, and one per common event
type for the providers whose events differ in shape (``EVENTS``: Stripe, GitHub, Slack,
Shopify, Linear), each shaped as the provider documents that event.

Each ``Sample`` is shaped like the provider's real event (with its event type and id fields,
so relay's naming and dedupe work on it) and says where the event type and the id live, so a
send can set the one and make the other fresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from relay.providers.samples import (
    _a_to_l,
    _events_github,
    _events_shopify_linear,
    _events_slack,
    _events_stripe,
    _m_to_z,
)
from relay.providers.samples._types import BodyPath, Fresh, Header, Sample, SignerOption, Where

__all__ = [
    "EVENTS",
    "SAMPLES",
    "BodyPath",
    "Fresh",
    "Header",
    "Sample",
    "SignerOption",
    "Where",
    "has_sample",
    "sample_for",
]

#: Every provider's sample, by provider name.
SAMPLES: Final[Mapping[str, Sample]] = MappingProxyType({**_a_to_l.SAMPLES, **_m_to_z.SAMPLES})

#: Samples per event type (what ``--event`` takes), by provider name.
EVENTS: Final[Mapping[str, Mapping[str, Sample]]] = MappingProxyType(
    {
        "github": MappingProxyType(_events_github.EVENTS),
        "linear": MappingProxyType(_events_shopify_linear.LINEAR),
        "shopify": MappingProxyType(_events_shopify_linear.SHOPIFY),
        "slack": MappingProxyType(_events_slack.EVENTS),
        "stripe": MappingProxyType(_events_stripe.EVENTS),
    }
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
