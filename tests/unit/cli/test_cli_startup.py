"""The CLI builds its parser from light modules: ``relay --help``, ``relay COMMAND --help``
and the whole parser import none of the commands' dependencies (the store and its drivers,
the HTTP clients and servers, pydantic, the config loader, the providers' crypto); each
command imports them when it runs, and a command reading the config loads the providers it
names only; reading the store loads the backend its URL names, not the other one (nor any
backend for the records and the view queries alone). (How fast that is:
bench/cli_startup.py, not a timed test.)"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from relay.cli import COMMANDS, build_parser
from relay.providers import names

#: Never imported by building a parser.
HEAVY = (
    "aiohttp",
    "asyncpg",
    "cryptography",
    "httpx",
    "jinja2",
    "pydantic",
    "starlette",
    "structlog",
    "uvicorn",
    "yaml",
    "asyncio",
    "relay.delivery",
    "relay.http",
    "relay.providers",
    "relay.routing",
    "relay.store",
    "relay.views",
)
#: ``relay send --help`` lists what each provider signs with: every provider module (not
#: their crypto, nor the HTTP client).
_SEND_HELP_LOADS = ("relay.providers",)
#: ``relay check`` reads the config's error types (relay.routing.issues: no dependencies).
_CHECK_LOADS = ("relay.routing",)


def _loaded_after(code: str) -> set[str]:
    script = (
        "import sys, json\n"
        f"{code}\n"
        "sys.stdout = sys.__stdout__\n"
        "print('\\n' + json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def _main(argv: list[str]) -> str:
    return f"from relay.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass"


def _heavy(modules: set[str], allowed: tuple[str, ...] = ()) -> set[str]:
    def top(name: str) -> str:
        return next((h for h in HEAVY if name == h or name.startswith(h + ".")), "")

    return {m for m in modules if top(m) and not top(m).startswith(allowed)}


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_help_and_version_import_no_command(argv: list[str]) -> None:
    loaded = _loaded_after(_main(argv))
    assert not [m for m in loaded if m.startswith("relay.cli.")]
    assert _heavy(loaded) == set()


_ALLOWED = {"check": _CHECK_LOADS, "send": _SEND_HELP_LOADS}


@pytest.mark.parametrize("name", [name for name, _, _ in COMMANDS])
def test_a_commands_help_imports_its_module_and_none_of_its_dependencies(name: str) -> None:
    loaded = _loaded_after(_main([name, "--help"]))
    modules = next(mods for n, mods, _ in COMMANDS if n == name)
    assert {m if "." in m else f"relay.cli.{m}" for m in modules} <= loaded
    assert _heavy(loaded, _ALLOWED.get(name, ())) == set()


def test_the_whole_parser_imports_no_store_driver_http_stack_or_models() -> None:
    loaded = _loaded_after("from relay.cli import build_parser\nbuild_parser()")
    assert {f"relay.cli.{m}" for _, mods, _ in COMMANDS for m in mods if "." not in m} <= loaded
    assert _heavy(loaded, _CHECK_LOADS) == set()


def test_a_command_imports_its_dependencies_when_it_runs(tmp_path: object) -> None:
    """The other side: what the parser leaves out is there when the command runs."""
    loaded = _loaded_after(_main(["deliveries", "--db", f"{tmp_path}/relay.db", "--json"]))
    assert {"relay.store.sqlite_reader", "relay.views.queries", "relay.views.models"} <= loaded
    changed = _loaded_after(_main(["deliveries", "cancel", "dlv_x", "--db", f"{tmp_path}/r.db"]))
    assert {"relay.store.sqlite", "asyncio"} <= changed  # a change: the server's store


#: The PostgreSQL backend and its driver: loaded only for a ``postgresql://`` URL.
_POSTGRES = ("asyncpg", "relay.store.postgres", "relay.store._pg_")
#: The SQLite backend and what only the server's store needs (its writer thread, ingest,
#: asyncio); a command that only reads uses ``relay.store.sqlite_reader``.
_SQLITE = ("relay.store.sqlite", "relay.store._sqlite_", "asyncio")


#: What the server's SQLite store needs and a command that only reads does not.
_SERVER_SQLITE = {
    "relay.store.sqlite",
    "relay.store._sqlite_writer",
    "relay.store._sqlite_ingest",
    "relay.store._sqlite_lifecycle",
    "asyncio",
    "concurrent.futures",
}


def _starting(modules: set[str], prefixes: tuple[str, ...]) -> set[str]:
    return {m for m in modules if m.startswith(prefixes)}


@pytest.mark.parametrize(
    "code",
    [
        "import relay.store",
        "import relay.store.base",
        "import relay.store.log_queries",
        "import relay.views.queries",
        "import relay.views.build",
    ],
)
def test_the_store_records_and_views_load_no_backend(code: str) -> None:
    """What a command reads (the records, the store protocol, the view queries) loads no
    backend: the one a database URL names is imported when the store is opened."""
    loaded = _loaded_after(code)
    assert {"relay.store.base", "relay.store.factory"} <= loaded
    assert _starting(loaded, _POSTGRES + _SQLITE) == set()


def test_the_sqlite_backend_is_still_there_by_its_old_name() -> None:
    loaded = _loaded_after("from relay.store import SqliteStore\nprint(SqliteStore.__module__)")
    assert "relay.store.sqlite" in loaded
    assert _starting(loaded, _POSTGRES) == set()


@pytest.mark.parametrize(
    "argv",
    [
        ["deliveries"],
        ["deliveries", "--json"],
        ["dlq", "list"],
        ["events"],
        ["targets"],
        ["stats"],
        ["show", "dlv_missing"],
    ],
)
def test_a_store_command_on_a_sqlite_url_loads_no_postgres_driver(
    tmp_path: Path, argv: list[str]
) -> None:
    db = f"sqlite:///{tmp_path}/relay.db"
    subprocess.run([sys.executable, "-m", "relay", "migrate", "--db", db], check=True)
    loaded = _loaded_after(_main([*argv, "--db", db]))
    assert {"relay.store.sqlite_reader", "relay.views.queries"} <= loaded
    assert _starting(loaded, _POSTGRES) == set()
    # read in this thread (relay.store.sqlite_reader): no event loop, thread pool or writer
    assert _SERVER_SQLITE & loaded == set()


def test_opening_a_postgres_url_loads_no_sqlite_backend() -> None:
    """Opening is lazy too (no connection is made): the PostgreSQL store and its driver, not
    the SQLite one."""
    loaded = _loaded_after(
        "from relay.store import open_store\n"
        "store = open_store('postgresql://relay@127.0.0.1:9/none')\n"
        "print(type(store).__name__)"
    )
    assert {"relay.store.postgres", "asyncpg"} <= loaded
    assert _starting(loaded, ("relay.store.sqlite", "relay.store._sqlite_")) == set()


_CONFIG = """\
version: 1
targets:
  notte: {base_url: "http://127.0.0.1:9", api_key: k-secret}
sources:
  github: {provider: github, secrets: [gh-secret]}
  stripe: {provider: stripe, secrets: [whsec_c2VjcmV0]}
routes:
  - {name: r, source: github, function_id: f}
"""


def _store_command(tmp_path: Path, argv: list[str]) -> set[str]:
    config = tmp_path / "relay.yaml"
    config.write_text(_CONFIG)
    db = str(tmp_path / "relay.db")
    subprocess.run([sys.executable, "-m", "relay", "migrate", "--db", db], check=True)
    return _loaded_after(_main([*argv, "--db", db, "--config", str(config)]))


@pytest.mark.parametrize(
    "argv",
    [
        ["deliveries"],
        ["deliveries", "--json"],
        ["dlq", "list"],
        ["events"],
        ["events", "--json"],
        ["show", "dlv_missing"],
    ],
)
def test_a_store_command_reads_the_config_for_its_secrets_without_validating_it(
    tmp_path: Path, argv: list[str]
) -> None:
    """Printing the log reads the config as written for its secrets (relay.config_secrets):
    no validation library, no provider module, nor the providers' crypto, the HTTP clients,
    the tooling or the log setup. The views are plain dataclasses."""
    loaded = _store_command(tmp_path, argv)
    assert {"relay.routing.document", "relay.config_secrets"} <= loaded
    # the log views only: not the API's other answers, nor the CLI's tail and dry-run lines
    assert {"relay.views.answers", "relay.views.cli_shapes"} & loaded == set()
    heavy = (
        "pydantic",
        "relay.routing.loader",
        "relay.providers.",
        "cryptography",
        "httpx",
        "aiohttp",
        "structlog",
        "relay.devtools",
        "relay.http",
    )
    assert not [m for m in loaded if m.startswith(heavy)]


def test_the_targets_listing_validates_the_config_and_loads_only_the_providers_it_names(
    tmp_path: Path,
) -> None:
    """``relay targets`` shows each configured target's limit, defaults included: it loads
    the config validated (without pydantic: relay.config_schema), with the named providers'
    modules only."""
    loaded = _store_command(tmp_path, ["targets"])
    assert {"relay.routing.loader", "relay.providers.github", "relay.providers.stripe"} <= loaded
    provider_modules = {f"relay.providers.{n.replace('-', '_')}" for n in names()}
    assert len(provider_modules) > 40
    assert provider_modules & loaded == {"relay.providers.github", "relay.providers.stripe"}
    heavy: tuple[str, ...] = ("pydantic", "cryptography", "httpx", "aiohttp", "structlog")
    heavy = (*heavy, "relay.devtools", "relay.http")
    assert not [m for m in loaded if m.startswith(heavy)]


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "{config}"],
        ["urls", "--config", "{config}", "--base-url", "https://r.io"],
        ["route", "{config}", "--source", "github", "--payload", "{payload}"],
    ],
)
def test_a_command_that_reads_only_the_config_loads_no_store(
    tmp_path: Path, argv: list[str]
) -> None:
    """Compiling a config builds no store type (the retention policy is built when the
    server's purger asks for it), and validating it loads no pydantic (relay.config_schema)."""
    config, payload = tmp_path / "relay.yaml", tmp_path / "payload.json"
    config.write_text(_CONFIG)
    payload.write_text('{"action": "opened"}')
    loaded = _loaded_after(_main([a.format(config=config, payload=payload) for a in argv]))
    assert {"relay.routing.loader", "relay.config_schema"} <= loaded
    heavy: tuple[str, ...] = ("relay.store", "asyncio", "structlog", "cryptography", "httpx")
    heavy = (*heavy, "aiohttp", "pydantic")
    assert not [m for m in loaded if m.startswith(heavy)]


def _helps(parser: argparse.ArgumentParser) -> dict[str, str | None]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {action.dest: action.help for action in sub._choices_actions}


def test_the_command_table_matches_what_the_modules_register() -> None:
    full = _helps(build_parser())
    assert list(full) == [name for name, _, _ in COMMANDS]
    assert full == {name: text for name, _, text in COMMANDS}
    for name, _, _ in COMMANDS:
        assert _helps(build_parser(name, only=True)) == full
        (sub,) = [
            a
            for a in build_parser(name, only=True)._actions
            if isinstance(a, argparse._SubParsersAction)
        ]
        assert sub.choices[name].add_help  # the real parser, not a listed-only one


def test_migrate_check_on_a_sqlite_file_loads_no_postgres_driver_or_event_loop(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "relay.db")
    subprocess.run([sys.executable, "-m", "relay", "migrate", "--db", db], check=True)
    loaded = _loaded_after(_main(["migrate", "--check", "--db", db]))
    assert "relay.store.migrate" in loaded
    assert _starting(loaded, _POSTGRES) == set()
    assert _SERVER_SQLITE & loaded == set()


def test_listing_a_providers_samples_loads_no_http_client_store_or_signer() -> None:
    """``relay send PROVIDER --list`` prints the samples' names: the HTTP client (which
    loads its own CLI's dependencies where they are installed), the store and the signing
    code are loaded for a send only."""
    loaded = _loaded_after(_main(["send", "github", "--list"]))
    assert "relay.devtools.samples" in loaded
    heavy = ("httpx", "asyncio", "relay.store", "relay.devtools.sending", "cryptography")
    assert not [m for m in loaded if m.startswith(heavy)]
