"""Tests for the README's exercises 1 and 3. Deselected by default: `pytest -m exercise`.

They fail until you write the functions they import; that is the point of an exercise test.
"""

from __future__ import annotations

import socket

import pytest

from asyncio_patterns.clients import open_client
from tools.slow_server import SlowServer

pytestmark = pytest.mark.exercise


async def test_retry_gives_up_after_the_attempts_and_succeeds_when_the_server_answers(
    slow_server: SlowServer,
) -> None:
    from asyncio_patterns.fetch import fetch_with_retry  # exercise 1

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{closed.getsockname()[1]}/"
        async with open_client("aiohttp", 2) as get:
            ok = await fetch_with_retry(get, f"{slow_server.url}/ok?delay_ms=0", attempts=3)
            with pytest.raises(Exception):  # noqa: B017 - any connection error type is fine
                await fetch_with_retry(get, dead_url, attempts=2)

    assert ok == 200  # the status, as a `Get` returns it


async def test_deadline_returns_what_finished_and_names_what_did_not(
    slow_server: SlowServer,
) -> None:
    from asyncio_patterns.fetch import fetch_gather_deadline  # exercise 3

    urls = [f"{slow_server.url}/fast?delay_ms=0", f"{slow_server.url}/slow?delay_ms=2000"]
    async with open_client("aiohttp", 2) as get:
        done, missed = await fetch_gather_deadline(get, urls, deadline=0.5)

    assert [t.index for t in done] == [0]
    assert missed == [1]
