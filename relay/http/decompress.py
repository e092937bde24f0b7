"""Compressed webhook bodies: ``Content-Encoding: gzip`` or ``deflate``, undone after the
signature is verified (providers sign the bytes they send, the compressed ones).

The inflated body is bounded twice, while it inflates (never more than one byte past a
bound is produced): by the source's ``max_body_bytes``, which applies to the body relay
keeps, compressed or not; and by ``MAX_RATIO`` times the compressed size (at least
``RATIO_FLOOR`` bytes), so a small request cannot make relay build a large body. Either is
``CompressedTooLarge`` (answered 413 with the reason). Bytes that do not inflate, or an
encoding relay does not know, are ``UnprocessableBody``: authentic, so stored with the reason.
"""

from __future__ import annotations

import zlib

from relay.body_format import UnprocessableBody

__all__ = ["MAX_RATIO", "RATIO_FLOOR", "CompressedTooLarge", "content_encoding", "decompress"]

MAX_RATIO = 200  # JSON compresses 5-20 times, highly repetitive JSON up to about 100
RATIO_FLOOR = 1024 * 1024  # a tiny body may inflate to this much whatever its ratio
_CHUNK = 256 * 1024
_GZIP = frozenset({"gzip", "x-gzip"})
_DEFLATE = frozenset({"deflate"})


class CompressedTooLarge(Exception):
    def __init__(self, detail: str, limit: int) -> None:
        super().__init__(detail)
        self.limit = limit


def content_encoding(headers: dict[str, str]) -> str | None:
    """The body's encoding, lower-case; None for none or ``identity``."""
    value = headers.get("content-encoding", "").strip().lower()
    return None if value in ("", "identity") else value


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """``body`` inflated, at most ``limit`` bytes and ``MAX_RATIO`` times its size."""
    if encoding in _GZIP:
        wbits = 16 + zlib.MAX_WBITS
    elif encoding in _DEFLATE:
        # HTTP's "deflate" is zlib-wrapped; some senders send the raw stream
        wbits = zlib.MAX_WBITS if body[:1] and (body[0] & 0x0F) == 8 else -zlib.MAX_WBITS
    else:
        raise UnprocessableBody(f"Content-Encoding {encoding[:32]!r} is not supported")
    bound = min(limit, max(MAX_RATIO * len(body), RATIO_FLOOR))
    inflater = zlib.decompressobj(wbits)
    out = bytearray()
    view = memoryview(body)
    try:
        for start in range(0, len(body), _CHUNK):
            pending = view[start : start + _CHUNK].tobytes()
            while pending:
                out += inflater.decompress(pending, bound + 1 - len(out))
                _check(len(out), bound, limit, len(body))
                pending = inflater.unconsumed_tail
        out += inflater.flush(bound + 1 - len(out))
    except zlib.error as exc:
        raise UnprocessableBody(f"the {encoding} body does not decompress: {exc}") from None
    _check(len(out), bound, limit, len(body))
    if not inflater.eof:
        raise UnprocessableBody(f"the {encoding} body is truncated")
    return bytes(out)


def _check(size: int, bound: int, limit: int, compressed: int) -> None:
    if size <= bound:
        return
    if bound == limit:
        raise CompressedTooLarge(
            f"the body decompresses to more than {limit} bytes (the source's max_body_bytes)",
            limit,
        )
    raise CompressedTooLarge(
        f"the body decompresses to more than {MAX_RATIO} times its {compressed} compressed "
        f"bytes (more than {bound} bytes)",
        bound,
    )
