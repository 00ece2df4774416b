"""Canvas on real workers: results passed between steps, a failing chord member reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery, chain, chord, chunks, group, xstarmap
from celery.exceptions import ChordError, TaskRevokedError

from tests.conftest import wait_for
from tools.procs import ChildProcess
from uploads.settings import Settings

pytestmark = [pytest.mark.rabbitmq, pytest.mark.redis]


@pytest.fixture(scope="module")
def app(live_app: Celery, workers: dict[str, ChildProcess]) -> Celery:
    return live_app


def test_a_chain_passes_each_result_to_the_next_step(app: Celery) -> None:
    add = app.signature("uploads.add")
    work = chain(add.clone((1, 2)), add.clone((10,)), add.clone((100,)))

    assert work.apply_async().get(timeout=30) == 113


def test_a_group_returns_results_in_the_order_it_was_given(app: Celery) -> None:
    work = group(app.signature("uploads.add", (i, i)) for i in range(8))

    assert work.apply_async().get(timeout=30) == [0, 2, 4, 6, 8, 10, 12, 14]


def test_a_chord_runs_its_callback_on_all_the_header_results(app: Celery) -> None:
    header = [app.signature("uploads.add", (i, 1)) for i in range(5)]

    assert chord(header)(app.signature("uploads.tsum")).get(timeout=30) == 15


def test_a_failing_chord_member_fails_the_chord_and_names_the_member(app: Celery) -> None:
    header = [app.signature("uploads.fail_if", (i, 3)) for i in range(5)]

    result = chord(header)(app.signature("uploads.tsum"))

    # get() re-raises the first member's error as soon as it is known ...
    with pytest.raises(ValueError, match="3 is the bad one"):
        result.get(timeout=30)
    # ... and the callback never runs: it is marked failed with a ChordError naming the member.
    wait_for(lambda: result.state == "FAILURE")
    assert isinstance(result.result, ChordError)
    assert "raised ValueError('3 is the bad one')" in str(result.result)


def test_chunks_and_starmap_send_many_small_items_in_few_messages(app: Celery) -> None:
    pairs = [(i, i) for i in range(20)]
    add = app.signature("uploads.add")

    chunked = chunks(add, pairs, 5).apply_async().get(timeout=30)  # 4 messages of 5 calls
    starred = xstarmap(add, pairs[:4]).apply_async().get(timeout=30)  # 1 message of 4 calls

    assert chunked == [[0, 2, 4, 6, 8], [10, 12, 14, 16, 18], [20, 22, 24, 26, 28],
                       [30, 32, 34, 36, 38]]  # fmt: skip
    assert starred == [0, 2, 4, 6]


def test_a_message_past_its_expiry_is_revoked_not_run(app: Celery) -> None:
    # expires: a worker that gets the message too late drops it (a stale thumbnail request).
    result = app.send_task("uploads.add", (1, 1), expires=datetime.now(UTC) - timedelta(seconds=1))

    with pytest.raises(TaskRevokedError):
        result.get(timeout=30)
    assert result.state == "REVOKED"


def test_each_worker_consumes_only_the_queues_it_was_started_with(
    app: Celery, live_settings: Settings, workers: dict[str, ChildProcess]
) -> None:
    # inspect() asks the workers over the broker, as Flower and `celery inspect` do.
    io, cpu = workers["io"].name, workers["cpu"].name
    replies = app.control.inspect(destination=[io, cpu], timeout=5).active_queues() or {}

    consumed = {name: [q["name"] for q in queues] for name, queues in replies.items()}
    assert consumed == {io: [live_settings.queue("io")], cpu: [live_settings.queue("cpu")]}
