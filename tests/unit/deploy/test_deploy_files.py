"""The Dockerfile and deploy/ are checked here by reading them (``make test-image`` builds
and runs them with podman: tests/image/). Compose and Kubernetes files are valid YAML that
only set variables relay reads (its code's environment lookups and the routing config's
${VARS}); the Dockerfile runs ``relay serve`` with arguments relay's own parser accepts,
probes /readyz (which the app serves) without curl, runs as a non-root user, keeps its data
on a volume, carries no routing config and copies files that exist."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from relay.cli import build_parser
from relay.clock import SystemClock
from relay.delivery.aiohttp_sender import AiohttpSender
from relay.http.app import create_app
from relay.routing.loader import load_file
from relay.routing.table import compile_document
from relay.settings import Settings
from relay.store import SqliteStore
from tests.helpers import write_config

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
KUBE = DEPLOY / "kubernetes"
RELAY_SERVICES = ("relay-1", "relay-2")

_LOOKUP = re.compile(r"(?:environ\.get|environ\[|getenv|env\.get)\(?\s*[\"']([A-Z][A-Z0-9_]*)[\"']")
_CONSTANT = re.compile(r"[\"'](RELAY_[A-Z0-9_]+)[\"']")
_CONFIG_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


def relay_env_vars() -> set[str]:
    """Variables relay's code looks up: literal lookups, and RELAY_* names in modules that
    look something up in the environment."""
    names: set[str] = set()
    for path in (ROOT / "relay").rglob("*.py"):
        text = path.read_text()
        names |= set(_LOOKUP.findall(text))
        if re.search(r"environ|getenv|env\.get", text):
            names |= set(_CONSTANT.findall(text))
    return names


def config_vars(text: str) -> set[str]:
    return set(_CONFIG_VAR.findall(text))


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def _kube() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(KUBE.glob("*.yaml")):
        for doc in _documents(path):
            found[doc["kind"]] = doc
    return found


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the final stage's lines, continuations joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found: list[tuple[str, str]] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            found.append((instruction.upper(), arguments.strip()))
    return found


def _exec_form(arguments: str) -> list[str]:
    value = yaml.safe_load(arguments)  # a JSON array is YAML
    assert isinstance(value, list), f"not exec form: {arguments}"
    return [str(v) for v in value]


def _env_names(env: list[dict[str, Any]] | Mapping[str, Any]) -> set[str]:
    if isinstance(env, Mapping):
        return set(env)
    return {e["name"] for e in env}


# the variables ---------------------------------------------------------------------------


def test_relay_reads_the_variables_the_deploy_files_rely_on() -> None:
    known = relay_env_vars()
    assert {"RELAY_DATABASE_URL", "RELAY_ADMIN_TOKEN"} <= known
    assert config_vars((ROOT / "config" / "relay.yaml").read_text()) >= {
        "NOTTE_API_URL",
        "NOTTE_API_KEY",
        "GITHUB_WEBHOOK_SECRET",
    }


# compose ---------------------------------------------------------------------------------


def test_compose_runs_two_relays_on_postgresql_with_the_local_runner() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "local-runner", *RELAY_SERVICES} <= set(services)
    runner_port = services["local-runner"]["command"][
        services["local-runner"]["command"].index("--port") + 1
    ]
    for name in RELAY_SERVICES:
        service = services[name]
        env = service["environment"]
        assert env["RELAY_DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in env["RELAY_DATABASE_URL"]
        assert env["NOTTE_API_URL"] == f"http://local-runner:{runner_port}"
        assert "entrypoint" not in service  # the image's: relay serve
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    published = [services[n]["ports"][0].split(":")[0] for n in RELAY_SERVICES]
    assert len(set(published)) == len(RELAY_SERVICES)


def test_compose_relays_mount_the_production_config_and_have_no_demo_secrets() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name in RELAY_SERVICES:
        service = compose["services"][name]
        assert "./relay.yaml:/etc/relay/relay.yaml:ro" in service["volumes"]
        secret = service["environment"]["GITHUB_WEBHOOK_SECRET"]
        assert secret.startswith("${GITHUB_WEBHOOK_SECRET:?")  # required, no demo default
    assert "dev-secret" not in (DEPLOY / "compose.yaml").read_text()


def test_the_production_config_loads_with_the_composes_variables_and_has_no_defaults(
    tmp_path: Path,
) -> None:
    text = (DEPLOY / "relay.yaml").read_text()
    secret_vars = {v for v in config_vars(text) if f"${{{v}:-" not in text}
    assert secret_vars == {"NOTTE_API_KEY", "GITHUB_WEBHOOK_SECRET"}
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert secret_vars <= set(compose["services"]["relay-1"]["environment"])
    table = compile_document(
        load_file(str(DEPLOY / "relay.yaml"), dict.fromkeys(secret_vars, "x" * 24))
    )
    assert set(table.sources) == {"github"}
    assert set(table.targets) == {"notte"}


def test_compose_sets_only_variables_relay_reads() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    known = relay_env_vars() | config_vars((DEPLOY / "relay.yaml").read_text())
    for name, service in compose["services"].items():
        if name == "postgres":
            continue  # the postgres image's own variables
        unknown = _env_names(service.get("environment", {})) - known
        assert not unknown, f"{name} sets variables relay never reads: {unknown}"


def test_compose_commands_are_relay_commands() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    parser = build_parser()
    for name, service in compose["services"].items():
        entrypoint = service.get("entrypoint")
        if name == "postgres" or entrypoint is None:
            continue
        assert entrypoint[0] == "relay"
        parser.parse_args([*entrypoint[1:], *service.get("command", [])])


# kubernetes ------------------------------------------------------------------------------


def test_kubernetes_manifests_are_valid_yaml_with_every_piece() -> None:
    kinds = _kube()
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "Kustomization"} <= set(
        kinds
    )
    listed = kinds["Kustomization"]["resources"]
    assert all((KUBE / name).is_file() for name in listed)
    assert "secret.example.yaml" not in listed  # secrets are the operator's to create
    assert kinds["Deployment"]["spec"]["replicas"] >= 2


def _container(kinds: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    (container,) = kinds["Deployment"]["spec"]["template"]["spec"]["containers"]
    found: dict[str, Any] = container
    return found


def test_probes_ask_readyz_for_readiness_and_healthz_for_liveness() -> None:
    kinds = _kube()
    container = _container(kinds)
    port_names = {p["name"] for p in container["ports"]}
    ready, alive = container["readinessProbe"]["httpGet"], container["livenessProbe"]["httpGet"]
    assert (ready["path"], alive["path"]) == ("/readyz", "/healthz")
    assert {ready["port"], alive["port"]} <= port_names
    assert kinds["Service"]["spec"]["ports"][0]["targetPort"] in port_names


def test_service_and_disruption_budget_select_the_deployments_pods() -> None:
    kinds = _kube()
    labels = kinds["Deployment"]["spec"]["template"]["metadata"]["labels"]
    for selector in (
        kinds["Service"]["spec"]["selector"],
        kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
        kinds["Deployment"]["spec"]["selector"]["matchLabels"],
    ):
        assert selector.items() <= labels.items()
    assert kinds["PodDisruptionBudget"]["spec"]["minAvailable"] >= 1


def test_deployment_reads_secrets_the_example_secret_names_and_relay_reads() -> None:
    kinds = _kube()
    secret_keys = set(_documents(KUBE / "secret.example.yaml")[0]["stringData"])
    config_text = kinds["ConfigMap"]["data"]["relay.yaml"]
    known = relay_env_vars() | config_vars(config_text)
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        env = container.get("env", [])
        assert _env_names(env) <= known
        for entry in env:
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref is not None:
                assert ref["name"] == "relay-secrets"
                assert ref["key"] in secret_keys


def test_configmap_routing_config_loads_with_the_deployments_environment(tmp_path: Path) -> None:
    kinds = _kube()
    text = kinds["ConfigMap"]["data"]["relay.yaml"]
    env = {name: "x" * 24 for name in _env_names(_container(kinds)["env"])}
    required = {v for v in config_vars(text) if f"${{{v}:-" not in text}
    assert required <= set(env), f"the Deployment does not set {required - set(env)}"
    path = tmp_path / "relay.yaml"
    path.write_text(text)
    table = compile_document(load_file(str(path), env), loaded_at=0.0)
    assert set(table.targets) == {"notte"}


def test_deployment_runs_relay_serve_on_the_mounted_config() -> None:
    kinds = _kube()
    container = _container(kinds)
    args = build_parser().parse_args(["serve", *container["args"]])
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert Path(args.config).parent == Path(mounts["config"])
    assert Path(args.config).name in kinds["ConfigMap"]["data"]
    port = next(p["containerPort"] for p in container["ports"] if p["name"] == "http")
    assert (args.host, args.port) == ("0.0.0.0", port)
    (init,) = kinds["Deployment"]["spec"]["template"]["spec"]["initContainers"]
    assert init["command"][:2] == ["relay", "migrate"]


# the Dockerfile --------------------------------------------------------------------------


def _final_stage() -> Iterator[tuple[str, str]]:
    lines = _dockerfile()
    last_from = max(i for i, (instruction, _) in enumerate(lines) if instruction == "FROM")
    yield from lines[last_from:]


def test_dockerfile_is_slim_python_by_default_and_runs_as_a_non_root_user() -> None:
    lines = _dockerfile()
    first_from = next(i for i, (instruction, _) in enumerate(lines) if instruction == "FROM")
    args = dict(a.partition("=")[::2] for i, a in lines[:first_from] if i == "ARG")
    assert args["BASE"].startswith("python:3.11-slim")  # `make test-image` passes its own
    assert {a for i, a in lines if i == "FROM"} == {"${BASE} AS build", "${BASE}"}
    stage = dict(_final_stage())
    assert stage["USER"] not in ("root", "0")


def test_dockerfile_keeps_the_data_on_a_volume_and_carries_no_routing_config() -> None:
    stage = dict(_final_stage())
    assert _exec_form(stage["VOLUME"]) == [stage["WORKDIR"]]  # where relay.db is made
    assert "RELAY_CONTAINER=1" in stage["ENV"]  # the admin surfaces need a token there
    copied = [a for i, a in _final_stage() if i == "COPY"]
    assert not any("relay.yaml" in a for a in copied)


def test_dockerfile_entrypoint_is_relay_serve_with_arguments_relay_accepts() -> None:
    stage = dict(_final_stage())
    entrypoint, command = _exec_form(stage["ENTRYPOINT"]), _exec_form(stage["CMD"])
    assert entrypoint == ["relay", "serve"]
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'relay = "relay.cli:main"' in pyproject  # the `relay` command the image installs
    args = build_parser().parse_args([*entrypoint[1:], *command])
    assert args.func.__name__ == "cmd_serve"
    assert args.host == "0.0.0.0"
    assert str(args.port) == stage["EXPOSE"]


def test_dockerfile_healthcheck_asks_readyz_with_python_not_curl() -> None:
    stage = dict(_final_stage())
    check = stage["HEALTHCHECK"]
    assert "curl" not in check
    assert "wget" not in check
    command = _exec_form(check[check.index("CMD") + 3 :])
    assert command[:2] == ["python", "-c"]
    compile(command[2], "<healthcheck>", "exec")
    url = re.search(r"https?://[^'\"]+", command[2])
    assert url is not None
    assert url.group(0) == f"http://127.0.0.1:{stage['EXPOSE']}/readyz"


async def test_the_app_serves_the_paths_the_probes_ask(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml")
    settings = Settings(config_path=str(config), env={})
    async with AiohttpSender() as client:
        app = create_app(
            settings, store=SqliteStore(":memory:"), http_client=client, clock=SystemClock()
        )
    paths = {getattr(route, "path", None) for route in app.routes}
    assert {"/readyz", "/healthz"} <= paths


def test_dockerfile_copies_files_that_exist() -> None:
    for instruction, arguments in _dockerfile():
        if instruction != "COPY" or arguments.startswith("--from"):
            continue
        *sources, _ = shlex.split(arguments)
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
    stage = dict(_final_stage())
    assert "/etc/relay/relay.yaml" in _exec_form(stage["CMD"])  # the operator mounts it


# Kubernetes on SQLite --------------------------------------------------------------------


def _sqlite_kube() -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in _documents(DEPLOY / "kubernetes-sqlite" / "relay.yaml")}


def test_kubernetes_on_sqlite_is_one_replica_recreated_on_a_claim() -> None:
    kinds = _sqlite_kube()
    spec = kinds["Deployment"]["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"]["type"] == "Recreate"  # never two pods on the file
    pod = spec["template"]["spec"]
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert set(claims.values()) == {kinds["PersistentVolumeClaim"]["metadata"]["name"]}
    assert kinds["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsUser"]


def test_kubernetes_on_sqlite_keeps_the_database_on_the_claim() -> None:
    kinds = _sqlite_kube()
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = build_parser().parse_args(["serve", *container["args"]])
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    (data,) = [v["name"] for v in pod["volumes"] if "persistentVolumeClaim" in v]
    assert Path(args.db).parent == Path(mounts[data])
    assert Path(args.config).parent == Path(mounts["config"])
    assert (args.host, args.port) == ("0.0.0.0", 8080)
    assert kinds["Service"]["spec"]["selector"].items() <= (
        kinds["Deployment"]["spec"]["template"]["metadata"]["labels"].items()
    )


def test_kubernetes_on_sqlite_reads_the_shared_secret_and_configmap() -> None:
    kinds = _sqlite_kube()
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = container["env"]
    config_text = _kube()["ConfigMap"]["data"]["relay.yaml"]
    assert _env_names(env) <= relay_env_vars() | config_vars(config_text)
    assert "RELAY_DATABASE_URL" not in _env_names(env)
    secret_keys = set(_documents(KUBE / "secret.example.yaml")[0]["stringData"])
    for entry in env:
        ref = entry["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"] in secret_keys) == ("relay-secrets", True)
    (config,) = [v for v in pod["volumes"] if v["name"] == "config"]
    assert config["configMap"]["name"] == _kube()["ConfigMap"]["metadata"]["name"]
    required = {v for v in config_vars(config_text) if f"${{{v}:-" not in config_text}
    assert required <= _env_names(env)


# systemd ---------------------------------------------------------------------------------


def _unit() -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for raw in (DEPLOY / "systemd" / "relay.service").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current[key] = value
    return sections


def test_the_systemd_unit_runs_relay_serve_as_its_own_user_on_loopback() -> None:
    service = _unit()["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[:2] == ["/opt/relay/bin/relay", "serve"]
    args = build_parser().parse_args(command[1:])
    assert args.host == "127.0.0.1"  # a TLS proxy in front (docs/operations.md)
    assert Path(args.db).parent == Path("/var/lib") / service["StateDirectory"]
    assert service["WorkingDirectory"] == str(Path(args.db).parent)
    assert service["User"] not in ("root", "0")
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"  # relay reloads on SIGHUP
    assert service["KillSignal"] == "SIGTERM"
    assert float(service["TimeoutStopSec"]) > 10  # more than the default --shutdown-grace
    assert _unit()["Install"]["WantedBy"] == "multi-user.target"
