"""Coroutines run when awaited, tasks run on their own, and as_completed follows finishing order."""

from __future__ import annotations

from asyncio_patterns.basics import coroutine_vs_task, in_completion_order


async def test_a_task_runs_at_the_next_loop_turn_a_coroutine_only_when_awaited() -> None:
    journal = await coroutine_vs_task()

    assert journal == [
        "-- one loop turn --",
        "task body",  # the loop ran the task during the one turn it got
        "-- awaiting both --",
        "coroutine body",  # the coroutine body ran only at its await
    ]


async def test_results_arrive_in_the_order_the_work_finishes_not_the_order_it_started() -> None:
    # Timers fire in deadline order however late the loop is, so this order is not a race.
    order = await in_completion_order({"slow": 0.03, "fast": 0.01, "medium": 0.02})

    assert order == ["fast", "medium", "slow"]
