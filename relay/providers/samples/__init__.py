"""One realistic sample delivery per provider, for ``relay send``.

Each ``Sample`` is shaped like the provider's real event (with its event type and id fields,
so relay's naming and dedupe work on it) and says where the event type and the id live, so a
send can set the one and make the other fresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from relay.providers.samples import _a_to_l, _m_to_z
from relay.providers.samples._types import BodyPath, Fresh, Header, Sample, SignerOption, Where

__all__ = ["SAMPLES", "BodyPath", "Fresh", "Header", "Sample", "SignerOption", "Where"]

#: Every provider's sample, by provider name.
SAMPLES: Final[Mapping[str, Sample]] = MappingProxyType({**_a_to_l.SAMPLES, **_m_to_z.SAMPLES})
