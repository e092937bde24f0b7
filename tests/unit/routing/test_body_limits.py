from __future__ import annotations

from relay.providers.body_limits import DEFAULT_MAX_BODY_BYTES, MiB
from relay.routing.loader import parse_document
from relay.routing.table import compile_document

CONFIG = """\
version: 1
targets:
  notte: {base_url: "http://127.0.0.1:9", api_key: k}
sources:
  github: {provider: github, secrets: [s]}
  meta: {provider: meta, secrets: [s], verify_token: t}
  whatsapp: {provider: whatsapp, secrets: [s], verify_token: t}
  stripe: {provider: stripe, secrets: [whsec_s]}
  own: {provider: github, secrets: [s], max_body_bytes: 4096}
routes: []
"""


def test_a_source_without_a_limit_takes_its_providers_documented_maximum() -> None:
    table = compile_document(parse_document(CONFIG, "relay.yaml", {}), loaded_at=0.0)
    limits = {name: source.max_body_bytes for name, source in table.sources.items()}
    assert limits == {
        "github": 25 * MiB,  # GitHub: "payloads are capped at 25 MB"
        "meta": 3 * MiB,  # Meta: "can be up to 3MB"
        "whatsapp": 3 * MiB,
        "stripe": DEFAULT_MAX_BODY_BYTES,  # documents no maximum
        "own": 4096,  # the source's own limit wins
    }
