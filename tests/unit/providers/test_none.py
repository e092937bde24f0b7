from __future__ import annotations

from typing import Any

import pytest

from relay.providers.none import SPEC, NoneProvider, build
from tests.unit.providers._kit import NOW, config_key, request


def test_accepts_everything_once_insecure_is_confirmed() -> None:
    p = build([], {"insecure": True})
    assert isinstance(p, NoneProvider)
    assert p.insecure is True
    p.verify(request(b"\xff anything", {}), NOW)
    assert p.handshake(request(), NOW) is None


@pytest.mark.parametrize(
    "options", [{}, {"insecure": False}, {"insecure": "true"}, {"insecure": 1}]
)
def test_requires_insecure_true(options: dict[str, Any]) -> None:
    assert config_key(build, [], options) == "insecure"


def test_error_explains_the_choice() -> None:
    with pytest.raises(ValueError, match="insecure: true"):
        build([], {})


def test_takes_no_secrets_or_unknown_options() -> None:
    assert config_key(build, ["s"], {"insecure": True}) == "secrets"
    assert config_key(build, [], {"insecure": True, "header": "x"}) == "header"


def test_event_fields() -> None:
    p = build([], {"insecure": True, "event_type_path": "type", "event_id_header": "X-Id"})
    req = request(b"", {"X-Id": "1"})
    assert (p.event_type(req, {"type": "t"}), p.event_id(req, {})) == ("t", "1")


def test_spec() -> None:
    assert SPEC.name == "none"
