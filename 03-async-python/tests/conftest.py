"""Fixtures shared by the lesson's tests. Lesson 03 needs no backing service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.slow_server import SlowServer


@pytest.fixture(scope="module")
def slow_server() -> Iterator[SlowServer]:
    # A real HTTP server on an ephemeral port; 10 ms per answer keeps the suite fast.
    with SlowServer(delay=0.01) as server:
        yield server
