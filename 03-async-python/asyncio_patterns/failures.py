"""When one of several concurrent jobs fails: gather() vs TaskGroup.

- `gather()` without `return_exceptions` raises the first error but leaves the other jobs
  running in the background: nobody awaits them, their errors are lost.
- `gather(return_exceptions=True)` waits for all and hands back errors as values.
- `TaskGroup` cancels the siblings of a failed task, waits for them to finish their cleanup,
  and raises every error together as an `ExceptionGroup`, which `except*` takes apart by type.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


class PaymentDeclined(Exception):
    pass


class InventoryUnavailable(Exception):
    pass


@dataclass
class Journal:
    """Records what each job did, so a learner (and a test) can see who ran and who was stopped."""

    events: list[str] = field(default_factory=list)

    async def job(self, name: str, steps: int, fail_with: Exception | None = None) -> str:
        try:
            for _ in range(steps):
                await asyncio.sleep(0)  # one await per step: a point where cancel can land
            if fail_with is not None:
                self.events.append(f"{name} failed")
                raise fail_with
            self.events.append(f"{name} done")
            return name
        except asyncio.CancelledError:
            self.events.append(f"{name} cancelled")
            raise  # swallowing CancelledError breaks TaskGroup and timeouts: always re-raise


async def with_gather(journal: Journal) -> list[object]:
    results = await asyncio.gather(
        journal.job("reserve", steps=5),
        journal.job("charge", steps=1, fail_with=PaymentDeclined("card declined")),
        journal.job("email", steps=5),
        return_exceptions=True,
    )
    return list(results)


async def with_task_group(journal: Journal) -> dict[str, list[str]]:
    """Run an order's steps in a TaskGroup and sort the failures by kind with except*."""
    handled: dict[str, list[str]] = {"payment": [], "inventory": []}
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(
                journal.job("reserve", steps=1, fail_with=InventoryUnavailable("sku-1"))
            )
            group.create_task(journal.job("charge", steps=1, fail_with=PaymentDeclined("declined")))
            group.create_task(journal.job("email", steps=50))  # slow sibling: gets cancelled
    except* PaymentDeclined as group_of_payment_errors:
        handled["payment"] = [str(e) for e in group_of_payment_errors.exceptions]
    except* InventoryUnavailable as group_of_inventory_errors:
        handled["inventory"] = [str(e) for e in group_of_inventory_errors.exceptions]
    return handled
