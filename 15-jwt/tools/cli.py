"""The one argument parser of the lesson: a bad argument is one line on stderr and exit 2."""

from __future__ import annotations

import argparse
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit


class OneLineParser(argparse.ArgumentParser):
    """argparse prints its usage before the error; a CLI here prints the error line only."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def masked(url: str) -> str:
    """The URL with its password replaced: safe to print in an error line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
