"""The jobs API: every bad input is a 4xx JSON answer with one shape, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from scheduling.api import MAX_BODY, create_app
from scheduling.settings import Settings
from tests.conftest import wait_for

JOB = {"id": "nightly", "task": "send_report", "cron": "30 2 * * *", "timezone": "Europe/London"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_add_list_pause_resume_remove(client: TestClient) -> None:
    created = client.post("/jobs", json=JOB)
    assert created.status_code == 201, created.text
    next_run = datetime.fromisoformat(created.json()["next_run_time"])
    assert f"{next_run.astimezone(ZoneInfo('Europe/London')):%H:%M}" == "02:30"

    assert [j["id"] for j in client.get("/jobs").json()] == ["nightly"]
    assert client.post("/jobs/nightly/pause").json()["next_run_time"] is None
    assert client.post("/jobs/nightly/resume").json()["next_run_time"] is not None
    assert client.delete("/jobs/nightly").status_code == 204
    assert client.get("/jobs").json() == []


def test_jobs_added_through_the_api_survive_a_restart(settings: Settings) -> None:
    with TestClient(create_app(settings)) as first:
        planned = first.post("/jobs", json=JOB).json()["next_run_time"]
    with TestClient(create_app(settings)) as second:
        assert [(j["id"], j["next_run_time"]) for j in second.get("/jobs").json()] == [
            ("nightly", planned)
        ]


def test_history_lists_runs_with_their_outcome(client: TestClient) -> None:
    client.post("/jobs", json={"id": "often", "task": "flaky", "cron": "* * * * *"})
    # Due now rather than at the next minute: the test waits for a run, not for the clock.
    client.app.state.scheduler.modify_job("often", next_run_time=datetime.now(UTC))

    runs = wait_for(lambda: client.get("/jobs/often/history").json())
    assert runs[0]["outcome"] == "error" and "503" in runs[0]["error"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({**JOB, "cron": "61 * * * *"}, 422, "invalid schedule"),
        ({**JOB, "cron": "* * *"}, 422, "Wrong number of fields"),
        ({**JOB, "cron": "0 0 31 2 *"}, 422, "never fires"),
        ({**JOB, "timezone": "Mars/Base"}, 422, "unknown time zone"),
        ({**JOB, "task": "os:system"}, 422, "task"),
        ({**JOB, "id": "Bad Id!"}, 422, "id"),
        ({"id": "x"}, 422, "task"),
    ],
)
def test_bad_job_definitions_are_422_with_the_reason(
    client: TestClient, body: dict[str, str], status: int, says: str
) -> None:
    response = client.post("/jobs", json=body)

    assert response.status_code == status
    assert response.json()["error"] == "unprocessable_entity"
    assert says in response.json()["message"]


def test_the_same_id_twice_is_409(client: TestClient) -> None:
    client.post("/jobs", json=JOB)

    response = client.post("/jobs", json=JOB)

    assert response.status_code == 409
    assert response.json() == {"error": "conflict", "message": "job 'nightly' already exists"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/jobs/ghost/pause"), ("post", "/jobs/ghost/resume"), ("delete", "/jobs/ghost"),
     ("get", "/nowhere")],
)  # fmt: skip
def test_unknown_jobs_and_routes_are_404_json(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_body_that_is_not_json_is_422(client: TestClient) -> None:
    response = client.post("/jobs", content=b"{nope", headers={"content-type": "application/json"})

    assert response.status_code == 422 and "message" in response.json()


def test_an_oversized_body_is_413_by_declared_length(client: TestClient) -> None:
    response = client.post("/jobs", content=b"x" * (MAX_BODY + 1))

    assert response.status_code == 413
    assert response.json()["message"] == f"body over {MAX_BODY} bytes"


def test_an_oversized_chunked_body_is_413_while_it_streams(client: TestClient) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(64):  # 64 x 4 KiB = 256 KiB announced by no header at all
            sent.append(4096)
            yield b" " * 4096

    response = client.post("/jobs", content=chunks(), headers={"content-type": "application/json"})

    assert response.status_code == 413


def test_resuming_a_job_with_no_run_left_is_409_not_500(client: TestClient) -> None:
    """Given a job added in code whose trigger has run out (here: 31 February), stored paused."""
    from apscheduler.triggers.cron import CronTrigger

    from scheduling import tasks

    scheduler = client.app.state.scheduler  # type: ignore[attr-defined]
    scheduler.add_job(tasks.tick, CronTrigger(month=2, day=31), id="feb31", name="tick")

    response = client.post("/jobs/feb31/resume")

    assert response.status_code == 409
    message = "job 'feb31' has no run left and was removed"
    assert response.json() == {"error": "conflict", "message": message}
    assert client.get("/jobs").json() == []  # gone from the store, as the message says


@pytest.mark.postgres
def test_a_job_store_outage_is_a_503_json_not_a_bare_500(postgres_url: str) -> None:
    """Given the API up on PostgreSQL, when the database stops taking connections (every
    session ended, new ones refused), then adding a job or reading history is a 503 in the
    API's error shape - and works again once the database is back."""
    import psycopg
    from sqlalchemy import make_url

    from scheduling.settings import load_settings

    name = make_url(postgres_url).database
    admin = make_url(postgres_url).set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)

    def allow(on: bool) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(on).lower()}')
            if not on:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))  # fmt: skip

    settings = load_settings(database_url=postgres_url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        try:
            allow(False)
            added = client.post("/jobs", json={**JOB, "id": "during-outage"})
            read = client.get("/jobs/nightly/history")
        finally:
            allow(True)
        assert added.status_code == read.status_code == 503
        message = "the job store is not reachable; try again later"
        assert added.json() == {"error": "service_unavailable", "message": message}
        assert client.get("/jobs/nightly/history").status_code == 200  # back again
