"""Root of the conftest layers: what every tier shares.

- markers derived from the folder a test lives in (unit/, integration/, e2e/),
- Hypothesis profiles,
- the PostgreSQL probe and one throwaway database per session (so per xdist worker),
- the ``--db-isolation`` switch that bench.py flips to compare strategies.

tests/unit/conftest.py, tests/integration/conftest.py and tests/e2e/conftest.py add what only
their tier needs; pytest stacks them, nearest last.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import make_url

from testkit.dbtools import create_database, create_schema, drop_database, postgres_reachable

# Deadlines off: this suite shares a 2-core machine and a slow example is not a bug.
# "ci" adds derandomize, so CI explores the same examples every run: green stays green,
# and a red run reproduces. Locally, "dev" keeps exploring new examples.
# too_slow off: generating examples on a loaded machine is slow, and that is not a bug either.
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", parent=settings.get_profile("dev"), max_examples=200, derandomize=True, print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

TIERS = ("unit", "integration", "e2e")
DEFAULT_POSTGRES = "postgresql://postgres:postgres@localhost:5432/postgres"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db-isolation",
        choices=("rollback", "recreate"),
        default="rollback",
        help="rollback: one transaction rolled back per test; recreate: a fresh database per test",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The folder decides the tier, so `pytest -m unit` can never miss a test someone forgot
    # to mark. Tests outside a tier folder (test_cli.py) mark themselves. The path is taken
    # relative to the rootdir: a checkout under ~/integration/ must not make every test
    # an integration test.
    for item in items:
        parts = item.path.relative_to(config.rootpath).parts
        for tier in TIERS:
            if tier in parts:
                item.add_marker(tier)


def required(service: str) -> bool:
    wanted = {s.strip() for s in os.environ.get("LESSONS_REQUIRE_SERVICES", "").split(",")}
    return service in wanted or "all" in wanted


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server URL, probed once. Skip with a hint, or fail when required."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        url = DEFAULT_POSTGRES
    if not postgres_reachable(url):
        shown = make_url(url).render_as_string(hide_password=True)
        message = f"PostgreSQL not reachable at {shown} - run: docker compose up -d postgres"
        if required("postgres"):
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A throwaway database with the schema, dropped at the end of the session.

    Session scope means one per pytest process: under ``-n 2`` each xdist worker gets its
    own database, so parallel tests never see each other's rows.
    """
    url = create_database(postgres_server)
    try:
        create_schema(url)
        yield url
    finally:
        drop_database(postgres_server, url)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'orders.db'}"
    create_schema(url)
    return url
