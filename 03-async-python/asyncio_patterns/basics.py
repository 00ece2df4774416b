"""Coroutines vs tasks, and why results arrive in the order the work finishes.

Calling an `async def` function runs none of its body: it returns a coroutine object, which does
nothing until something awaits it. `asyncio.create_task()` hands the coroutine to the event loop,
which starts it at its next turn whether or not anybody awaits the task - that is what makes two
things run at once. `asyncio.as_completed()` then yields results as each task finishes, not in
the order they were started.
"""

from __future__ import annotations

import asyncio


async def record(journal: list[str], name: str) -> str:
    journal.append(name)
    return name


async def coroutine_vs_task() -> list[str]:
    """Start one coroutine and one task, give the loop one turn, then await both; return what ran
    when. The task ran during the turn; the coroutine ran only when it was awaited."""
    journal: list[str] = []
    coro = record(journal, "coroutine body")  # nothing runs yet
    task = asyncio.create_task(record(journal, "task body"))  # scheduled for the next turn
    journal.append("-- one loop turn --")
    await asyncio.sleep(0)  # yield to the loop once
    journal.append("-- awaiting both --")
    await coro
    await task
    return journal


async def wait_then_return(name: str, seconds: float) -> str:
    await asyncio.sleep(seconds)
    return name


async def in_completion_order(delays: dict[str, float]) -> list[str]:
    """Start one task per name; return the names in the order the tasks finished."""
    tasks = [asyncio.create_task(wait_then_return(name, s)) for name, s in delays.items()]
    return [await next_done for next_done in asyncio.as_completed(tasks)]
