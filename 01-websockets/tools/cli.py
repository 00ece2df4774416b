"""The argument parser of main.py and bench.py."""

from __future__ import annotations

import argparse
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """argparse prints its whole usage before an error; one line saying what was wrong is
    easier to read, and `--help` is there for the rest."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")
