"""Console output for the tour: numbered steps, the SQL each step sends, statement counts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine

from shop.db import StatementLog, count_statements

_SPACES = re.compile(r"\s+")


class Narrator:
    def __init__(self, console: Console, *, show_sql: bool = True, sql_width: int = 110) -> None:
        self.console = console
        self.show_sql = show_sql
        self.sql_width = sql_width
        self._step = 0

    def step(self, title: str) -> None:
        self._step += 1
        self.console.print(f"\n[bold cyan]{self._step}. {escape(title)}[/]")

    def say(self, text: str) -> None:
        self.console.print(f"   {escape(text)}")

    def _print_sql(self, statement: str) -> None:
        one_line = _SPACES.sub(" ", statement).strip()
        if len(one_line) > self.sql_width:
            one_line = one_line[: self.sql_width - 3] + "..."
        self.console.print(f"     [dim]SQL> {escape(one_line)}[/]", soft_wrap=True)

    @contextmanager
    def sql(self, engine: Engine, label: str = "") -> Iterator[StatementLog]:
        """Show the statements the block sends, then how many there were."""
        on_statement = self._print_sql if self.show_sql else None
        with count_statements(engine, on_statement) as log:
            yield log
        suffix = f" ({label})" if label else ""
        self.console.print(f"   [green]-> {log.count} statement(s){escape(suffix)}[/]")
