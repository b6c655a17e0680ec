"""The container files: compose is validated structurally (``docker compose config`` is not available here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"
SECRET_WORDS = ("PASSWORD", "SECRET", "KEY", "TOKEN")
#: An environment value that is a variable reference, optionally with a demo-only placeholder default.
REFERENCE = re.compile(r"^\$\{[A-Z_]+(:?[-?][^}]*)?\}$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_has_the_three_services_with_healthchecks(compose):
    assert set(compose["services"]) == {"postgres", "mlflow", "service"}
    for name, service in compose["services"].items():
        assert service["healthcheck"]["test"], name


def test_service_container_health_is_liveness_not_readiness(compose):
    # /ready is 503 until a first model is approved and promoted; the container is alive and useful meanwhile
    # (lists, decisions, the rule-based order), so an orchestrator must not mark it unhealthy or replace it.
    test = " ".join(compose["services"]["service"]["healthcheck"]["test"])
    assert "/health'" in test and "/ready" not in test


def test_service_waits_for_a_healthy_postgres_and_migrates_on_start(compose):
    service = compose["services"]["service"]
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert service["command"] == ["python", "-m", "vroegsignaal.service"]  # migrates unless --no-upgrade
    assert "--no-upgrade" not in service["command"]
    assert service["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")


def test_no_secret_is_hard_coded(compose):
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in SECRET_WORDS):
                text = str(value)
                assert REFERENCE.match(text), f"{name}.{key} must come from the environment"
                default = text.split(":-", 1)[1] if ":-" in text else ""
                assert not default or default.startswith("demo-"), f"{name}.{key} default is not a demo placeholder"
        url = str((service.get("environment") or {}).get("DATABASE_URL", ""))
        assert not re.search(r"://[^:@/]+:(?!\$\{)[^@]+@", url), f"{name}: password in DATABASE_URL"


def test_dockerfile_is_slim_non_root_with_healthcheck():
    text = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.MULTILINE)
    users = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in text and "/health" in text
    assert 'CMD ["python", "-m", "vroegsignaal.service"]' in text
