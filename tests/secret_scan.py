"""The whole suite's secret scan: no test secret may appear in what relay printed or logged.

Three places are scanned for every secret the tests configure (``known_secrets``) and for
signature-shaped values: each test's captured output (in-process relays log with structlog
to stdout), every structlog event as it is logged (also when a test swallowed the output),
and, at the end of the session, every ``*.log`` file under pytest's temporary directory
(the integration and reliability processes write theirs there). A test that sends a secret
on purpose (to prove it is redacted) names it with ``@pytest.mark.secret_expected(value)``;
that value is then allowed in that test's own output and files.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Leak", "SecretScanner", "known_secrets"]

#: Signature-shaped values (hex HMAC-SHA256 with a scheme prefix, Standard Webhooks, Stripe).
SIGNATURE_PATTERNS = {
    "a sha256= signature": re.compile(r"(?<![A-Za-z_])sha256=[0-9a-f]{64}"),
    "a v0= signature": re.compile(r"v0=[0-9a-f]{64}"),
    "a Standard Webhooks signature": re.compile(r"v1,[A-Za-z0-9+/]{43}="),
    "a Stripe signature": re.compile(r"v1=[0-9a-f]{64}"),
}


def _pem_lines(pem: str) -> list[str]:
    """Long base64 lines of a PEM private key: any one of them leaking is a leak."""
    return [line for line in pem.splitlines() if len(line) >= 40 and "-----" not in line]


def known_secrets() -> dict[str, str]:
    """Every secret the test suite configures, by a printable name (never the value)."""
    from tests import helpers, provider_setups
    from tests.reliability import shared
    from tests.unit.admin import kit

    found: dict[str, str] = {
        "helpers.GITHUB_SECRET": helpers.GITHUB_SECRET,
        "helpers.API_KEY": helpers.API_KEY,
        "provider_setups.API_KEY": provider_setups.API_KEY,
        "admin kit.TOKEN": kit.TOKEN,
        "reliability ADMIN_TOKEN": shared.ADMIN_TOKEN,
    }
    for name, setup in provider_setups.setups(lambda n: f"http://relay.test/hooks/{n}").items():
        if not setup.secret:
            continue
        if "PRIVATE KEY" in setup.secret:
            for i, line in enumerate(_pem_lines(setup.secret)):
                found[f"provider_setups[{name}] private key line {i}"] = line
            continue
        found[f"provider_setups[{name}]"] = setup.secret
        if ":" in setup.secret and name == "basic":
            found[f"provider_setups[{name}] base64"] = base64.b64encode(
                setup.secret.encode()
            ).decode()
    return found


@dataclass(frozen=True, slots=True)
class Leak:
    where: str
    what: str  # the secret's name or the pattern's description, never the value


@dataclass
class SecretScanner:
    secrets: Mapping[str, str]
    leaks: list[Leak] = field(default_factory=list)

    def find(self, text: str, allowed: Iterable[str] = ()) -> list[str]:
        """Names of the secrets (and signature shapes) in ``text``, except ``allowed``."""
        allow = set(allowed)
        names = [
            name for name, value in self.secrets.items() if value not in allow and value in text
        ]
        for what, pattern in SIGNATURE_PATTERNS.items():
            if any(m.group(0) not in allow for m in pattern.finditer(text)):
                names.append(what)
        return names

    def check(self, where: str, text: str, allowed: Iterable[str] = ()) -> list[Leak]:
        found = [Leak(where, what) for what in self.find(text, allowed)]
        self.leaks.extend(found)
        return found

    def check_event(self, where: str, event: Mapping[str, Any], allowed: Iterable[str]) -> None:
        self.check(where, repr(dict(event)), allowed)

    def check_files(self, root: Path, allowed_under: Mapping[Path, list[str]]) -> None:
        """Scan every ``*.log`` under ``root``; a file under a directory of
        ``allowed_under`` may hold that test's expected values."""
        for path in sorted(_logs(root)):
            allowed: list[str] = []
            for directory, values in allowed_under.items():
                if directory in path.parents:
                    allowed.extend(values)
            text = path.read_text(errors="replace")
            self.check(str(path.relative_to(root)), text, allowed)


def _logs(root: Path) -> Iterator[Path]:
    if root.is_dir():
        yield from (p for p in root.rglob("*.log") if p.is_file())
