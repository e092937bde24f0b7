"""Every store: text with a lone surrogate (from a JSON body) is stored, never a write error;
the readiness probe commits its row."""

from __future__ import annotations

import dataclasses

from relay.store.base import DeliveryStatus
from relay.store.log_queries import DeliveryQuery
from tests.unit.store.builders import NOW, AnyStore, delivery, event


async def test_text_with_a_lone_surrogate_is_stored_as_its_escape(store: AnyStore) -> None:
    failed = delivery(
        status=DeliveryStatus.MAPPING_FAILED,
        variables={"x": "lone \ud800"},
        error="body.x: '\udfff' is not a number",
    )
    new = dataclasses.replace(
        event(failed, dedupe_key="evt_\ud800"), event_type="invoice.\udfff", error="\ud800"
    )
    stored = await store.insert_event(new)
    again = await store.insert_event(dataclasses.replace(new, id="evt_again"))
    assert again.event_id == stored.event_id  # the same provider event id: a duplicate
    record = await store.get_event(stored.event_id)
    assert record is not None
    assert (record.event_type, record.provider_event_id) == ("invoice.\\udfff", "evt_\\ud800")
    (kept,) = await store.query_deliveries(DeliveryQuery())
    assert kept.variables == {"x": "lone \ud800"}  # JSON carries the surrogate itself
    assert kept.last_error == "body.x: '\\udfff' is not a number"


async def test_probe_write_commits(store: AnyStore) -> None:
    await store.probe_write(NOW)
    await store.probe_write(NOW + 1)  # the same row, rewritten
