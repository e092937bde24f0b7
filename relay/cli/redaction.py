"""What the CLI prints goes through the redaction the JSON API and the page use
(``relay.redact.Redactor`` with ``relay.views``): secret-looking keys and credential headers
masked, and every known secret cut out of any text: the config's webhook secrets and target
API keys, the secrets providers handed over in a handshake (from the store) and
``$RELAY_ADMIN_TOKEN``.

The config is ``--config``, else ``relay serve``'s default ``config/relay.yaml`` when it is
there: so ``relay show ID`` run beside the server masks its secrets without being told.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from relay.redact import Redactor

if TYPE_CHECKING:
    from relay.store.base import Store

__all__ = ["CONFIG_HELP", "DEFAULT_CONFIG", "cli_redactor", "config_path"]

DEFAULT_CONFIG = "config/relay.yaml"  # relay serve --config's default
CONFIG_HELP = (
    "the config relay serves (default: config/relay.yaml when it exists): its secret values "
    "are cut from everything printed"
)


def config_path(config: str | None) -> str | None:
    """``--config``, else ``config/relay.yaml`` when it is there (None: neither)."""
    return config or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None)


def _config_secrets(config: str | None) -> list[str]:
    path = config_path(config)
    if path is None:
        print(
            f"relay: no --config and no {DEFAULT_CONFIG}: the config's secret values are not "
            "known, values are masked by their keys only",
            file=sys.stderr,
        )
        return []
    from relay.config_secrets import secret_values
    from relay.routing.document import compose, read_file

    try:  # the file as written, not validated: its secrets are masked even when it has errors
        text, _ = read_file(path)
        data, _ = compose(text, path, dict(os.environ))
    except Exception as exc:  # still show, masking what is known
        note = f"relay: cannot read {path} ({type(exc).__name__}); its secrets are not masked"
        print(note, file=sys.stderr)
        return []
    return secret_values(data)


async def cli_redactor(store: Store, config: str | None) -> Redactor:
    """The redactor for what a CLI command prints (see the module's docstring)."""
    known = _config_secrets(config)
    handed = await store.list_source_secrets()
    known.extend(secret for secrets in handed.values() for secret in secrets)
    if os.environ.get("RELAY_ADMIN_TOKEN"):
        known.append(os.environ["RELAY_ADMIN_TOKEN"])
    return Redactor(known)
