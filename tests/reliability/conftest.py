"""The reliability suite's shared relay (see shared.py): started once, for the tests that
only send to it and read back what it stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.kit import RelayProcess, runner
from tests.reliability.shared import RECEIVE_TIMEOUT, SharedRelay, shared_config


@pytest.fixture(scope="session")
def shared_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedRelay]:
    tmp = tmp_path_factory.mktemp("shared-relay")
    with runner(tmp) as upstream:
        relay = RelayProcess(tmp / "relay.yaml", tmp / "relay.db", tmp)
        relay.extra = ("--receive-timeout", str(RECEIVE_TIMEOUT))
        _, table = shared_config(relay.config, relay.url, upstream.url)
        relay.start()
        try:
            yield SharedRelay(relay, upstream, table)
        finally:
            relay.kill()
