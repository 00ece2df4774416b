"""The argument parser main.py and bench.py share."""

from __future__ import annotations

import argparse
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """argparse prints its whole usage on a bad argument; the lesson's CLIs print one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}\n")
