"""A progress bar for long runs (rich), or nothing when it is switched off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def bar(label: str, total: int, enabled: bool = True) -> Iterator[Callable[[], None]]:
    """Yield a no-argument callback that advances the bar by one finished task.

    The bar lives in the parent only: workers report by *finishing* a task, which the parent
    sees through as_completed or the result queue - no progress state is shared with them.
    """
    if not enabled:
        yield lambda: None
        return
    columns = (
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)
