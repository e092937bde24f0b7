"""Routing tables from a few lines of YAML, for tests."""

from __future__ import annotations

import textwrap

from relay.routing.loader import parse_document
from relay.routing.table import RoutingTable, compile_document

HEAD = """\
version: 1
targets:
  notte: {base_url: "http://127.0.0.1:9", api_key: k}
sources:
  github: {provider: github, secrets: [s]}
  other: {provider: github, secrets: [s]}
"""


def table_from(routes: str) -> RoutingTable:
    """A compiled table whose ``routes:`` section is ``routes`` (dedented YAML list)."""
    text = HEAD + "routes:\n" + textwrap.indent(textwrap.dedent(routes), "  ")
    return compile_document(parse_document(text, "relay.yaml", {}), loaded_at=0.0)
