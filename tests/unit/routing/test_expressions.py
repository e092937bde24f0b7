from __future__ import annotations

from typing import Any

import jmespath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relay.routing.expressions import compile_expression

_KEYS = st.sampled_from(["a", "b", "body", "x-y", "0"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=12,
)


def _quoted(key: str) -> str:
    return key if key.isidentifier() else f'"{key}"'


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("body", ("body",)),
        ("body.issue.number", ("body", "issue", "number")),
        ('headers."x-github-event"', ("headers", "x-github-event")),
        ("body.items[0]", None),
        ("body.a || body.b", None),
        ("length(body)", None),
        ("body.*", None),
    ],
)
def test_only_plain_field_paths_take_the_direct_walk(
    text: str, fields: tuple[str, ...] | None
) -> None:
    assert compile_expression(text).fields == fields


@given(data=_JSON, path=st.lists(_KEYS, min_size=1, max_size=4))
def test_a_field_path_finds_what_jmespath_finds(data: Any, path: list[str]) -> None:
    text = ".".join(_quoted(key) for key in path)
    expression = compile_expression(text)
    assert expression.fields == tuple(path)
    assert expression.search(data) == jmespath.search(text, data)
