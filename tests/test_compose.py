"""docker-compose.yml, checked without a Docker engine: schema, health checks, ports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
SERVICES = yaml.safe_load(COMPOSE.read_text())["services"]


def published(service: dict) -> dict[int, str]:
    """host port -> host address, from "127.0.0.1:5432:5432" style entries."""
    ports = {}
    for entry in service.get("ports", []):
        host, port, _container = str(entry).rsplit(":", 2)
        ports[int(port)] = host
    return ports


def all_published() -> set[int]:
    return {port for service in SERVICES.values() for port in published(service)}


def test_file_matches_the_compose_specification_schema() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(COMPOSE)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_v2_file_has_no_version_key() -> None:
    assert "version" not in yaml.safe_load(COMPOSE.read_text())


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_healthcheck_and_a_port_on_localhost(name: str) -> None:
    service = SERVICES[name]

    assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    ports = published(service)
    assert ports, f"{name} publishes no port"
    assert set(ports.values()) == {"127.0.0.1"}, f"{name} must publish on localhost only"


@pytest.mark.parametrize(
    ("name", "ports"),
    [
        ("postgres", {5432}),
        ("redis", {6379}),
        ("rabbitmq", {5672, 15672}),
        ("elasticsearch", {9200}),
        ("jaeger", {16686, 4317, 4318}),
    ],
)
def test_the_services_lessons_rely_on_are_there(name: str, ports: set[int]) -> None:
    assert ports <= set(published(SERVICES[name]))


def test_named_volumes_are_declared() -> None:
    declared = set(yaml.safe_load(COMPOSE.read_text()).get("volumes", {}))
    used = {
        str(v).split(":", 1)[0]
        for service in SERVICES.values()
        for v in service.get("volumes", [])
        if not str(v).startswith((".", "/"))
    }
    assert used and used <= declared


SERVICE_VARIABLES = (
    "DATABASE_URL|REDIS_URL|RABBITMQ_URL|ELASTICSEARCH_URL|OTEL_EXPORTER_OTLP_ENDPOINT"
)
URL_PORT = re.compile(rf"(?:{SERVICE_VARIABLES})\W+\w[\w+]*://\S*?localhost:(\d+)")


def test_service_urls_in_docs_and_lessons_point_at_published_ports() -> None:
    # CONTRIBUTING.md holds the table of service URLs every lesson uses; each lesson's
    # .env.example repeats the ones it needs. A port compose does not publish is a typo.
    sources = [ROOT / "CONTRIBUTING.md", *sorted(ROOT.glob("[0-9][0-9]-*/.env.example"))]
    named = {
        (source.relative_to(ROOT).as_posix(), int(port))
        for source in sources
        for port in URL_PORT.findall(source.read_text())
    }

    assert {port for _, port in named} >= {5432, 6379, 5672, 9200, 4317}
    assert [entry for entry in named if entry[1] not in all_published()] == []
