"""The command lines of this lesson (main.py, bench.py) answer a mistake in one line."""

from __future__ import annotations

import argparse
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """argparse prints its usage block before the error; this prints the error alone."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def int_between(low: int, high: int) -> type[int]:
    """An argparse `type` that accepts a whole number from `low` to `high`, or says why not."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    return parse  # type: ignore[return-value]
