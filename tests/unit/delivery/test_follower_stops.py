"""A worker carries out the stops asked for of its own in-flight deliveries (a run created,
its start's answer still coming): every one of them, however many pages they fill, once."""

from __future__ import annotations

from relay.delivery.follower import RunFollower
from relay.delivery.outbound import FakeSender, Reply, Request
from relay.faults import Faults
from relay.store import SqliteStore
from relay.targets import Target
from tests.helpers import FakeClock
from tests.unit.store.builders import LEASE, NOW, OWNER, TARGET, delivery, event

_PAGE = 100  # DeliveryQuery's default limit: the stops below fill more than one page


async def test_every_stop_asked_for_is_sent_once_past_a_page() -> None:
    store = SqliteStore(":memory:")
    await store.open()
    try:
        count = _PAGE + 5
        await store.insert_event(event(*(delivery() for _ in range(count + 1))))
        claimed = await store.claim(TARGET, count + 1, NOW, OWNER, LEASE)
        assert len(claimed) == count + 1
        for i, c in enumerate(claimed):
            assert await store.note_run_created(c, f"run_{i}", NOW)
        for c in claimed[:count]:  # the last one's stop is never asked for
            await store.request_stop(c.delivery.id, NOW + 1, actor="operator")

        deleted: list[str] = []

        def api(request: Request) -> Reply:
            assert request.method == "DELETE"
            deleted.append(str(request.url).rsplit("/", 1)[-1])
            return Reply(200)

        follower = RunFollower(
            store=store,
            http_client=FakeSender(api),
            clock=FakeClock(),
            owner=OWNER,
            faults=Faults(),
        )
        targets = {TARGET: Target(name=TARGET, base_url="http://notte.test", api_key="key")}
        await follower.carry_out_stops(targets)
        await follower.carry_out_stops(targets)  # already sent: not again

        assert sorted(deleted) == sorted(f"run_{i}" for i in range(count))
    finally:
        await store.close()
