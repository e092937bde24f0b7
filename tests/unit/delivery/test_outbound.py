"""The sender protocol's values and its fake (relay/delivery/outbound.py)."""

from __future__ import annotations

import pytest

from relay.delivery.outbound import (
    AnswerLost,
    FakeSender,
    Headers,
    NotSent,
    Reply,
    Request,
    Timeouts,
)

URL = "https://api.notte.test/functions/a%2Fb/runs/start"


def test_header_names_are_read_in_any_case_and_kept_as_given() -> None:
    headers = Headers({"Content-Type": "application/json", "x-notte-api-key": "k"})
    assert headers["content-type"] == "application/json"
    assert headers["X-Notte-Api-Key"] == "k"
    assert "CONTENT-TYPE" in headers
    assert list(headers) == ["Content-Type", "x-notte-api-key"]


async def test_fake_hands_the_request_as_sent_and_answers_json_compactly() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Reply:
        seen.append(request)
        return Reply(201, json={"ok": True, "name": "été"})

    async with FakeSender(handler) as sender:
        answer = await sender.send(
            "POST", URL, {"X-Key": "k"}, b'{"a":1}', timeouts=Timeouts(read=5.0)
        )
        body = await answer.read()
    [request] = seen
    assert (request.method, request.url.raw_path, request.url.path) == (
        "POST",
        "/functions/a%2Fb/runs/start",
        "/functions/a/b/runs/start",
    )
    assert request.headers["x-key"] == "k"
    assert request.json() == {"a": 1}
    assert request.timeouts.read == 5.0
    assert answer.status_code == 201
    assert answer.headers["Content-Type"] == "application/json"
    assert body == '{"ok":true,"name":"été"}'.encode()


async def test_fake_streams_chunks_then_raises_the_cut() -> None:
    reply = Reply(chunks=[b"data: one\n\n", b"data: two\n\n"], error=AnswerLost("cut"))
    async with FakeSender(lambda r: reply) as sender:
        answer = await sender.send("POST", URL, {}, timeouts=Timeouts())
        pieces: list[bytes] = []

        async def read_all() -> None:
            async for piece in answer.chunks():
                pieces.append(piece)

        with pytest.raises(AnswerLost):
            await read_all()
    assert pieces == [b"data: one\n\n", b"data: two\n\n"]


async def test_fake_passes_a_handlers_failure_and_refuses_once_closed() -> None:
    def refuse(request: Request) -> Reply:
        raise NotSent("connection refused")

    sender = FakeSender(refuse)
    with pytest.raises(NotSent):
        await sender.send("GET", URL, {}, timeouts=Timeouts())
    await sender.aclose()
    with pytest.raises(RuntimeError):
        await sender.send("GET", URL, {}, timeouts=Timeouts())


def test_failures_say_whether_the_request_may_have_arrived() -> None:
    assert not NotSent("x").sent
    assert AnswerLost("x").sent
