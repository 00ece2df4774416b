"""What main.py and bench.py share: the one-line argument errors, settings and the source API."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from etl.settings import Settings, SettingsError, load_settings


class OneLineParser(argparse.ArgumentParser):
    """argparse prints its whole usage before an error; one line says more."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def fail(message: str, code: int) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(f"bad setting: {exc}", 2)


@contextmanager
def source_api(data: Path, **faults: object) -> Iterator[str]:
    """The lesson's own source API on a free port in a thread; yields its base URL."""
    import uvicorn

    from sources.api import Faults, create_source_api

    app = create_source_api(data, Faults(**faults))  # type: ignore[arg-type]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            fail("could not start the source API", 1)
        threading.Event().wait(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
