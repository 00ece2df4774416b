"""Serve an ASGI app under pyinstrument, then say where its time went, by package.

    python -m tools.profiled gateway.app:create_app PORT OUT.json

SIGUSR1 starts the profiler, SIGUSR2 stops it and writes OUT.json, so start-up and idle
time stay out of it: bench.py --profile sends them around a wrk run. The profiler samples the
stack every half millisecond; each sample counts for the package whose code was running (the
innermost Python frame), so "aiohttp 20%" is time spent in aiohttp's own Python code.
Work done in C (uvloop, httptools, pydantic-core) counts for the Python code that called it.
"""

from __future__ import annotations

import json
import signal
import sys
from collections import Counter
from pathlib import Path

import uvicorn
from pyinstrument import Profiler
from pyinstrument.frame import Frame

LESSON = Path(__file__).resolve().parents[1]
# Packages that belong together for a reader of the profile.
FAMILIES = {
    "fastapi": "fastapi + starlette",
    "starlette": "fastapi + starlette",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",
    "uvicorn": "uvicorn (+ httptools)",
    "httptools": "uvicorn (+ httptools)",
    "aiohttp": "aiohttp",
    "yarl": "aiohttp",
    "multidict": "aiohttp",
    "httpx": "httpx",
    "httpcore": "httpx",
    "anyio": "anyio",
    "sniffio": "anyio",
    "h11": "httpx",
}


def family(path: str) -> str:
    if "site-packages/" in path:
        top = path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
        return FAMILIES.get(top, top)
    if path.startswith(str(LESSON)):
        return "the gateway's own code"
    if "asyncio" in path or "uvloop" in path or "selectors" in path:
        return "event loop (asyncio/uvloop, idle included)"
    return "other (standard library)"


def by_family(root: Frame) -> dict[str, float]:
    """Share of samples per package family, largest first."""
    times: Counter[str] = Counter()
    stack = [(root, "")]
    while stack:
        frame, owner = stack.pop()
        path = frame.file_path or ""
        owner = family(path) if path and not frame.is_synthetic else owner
        if frame.children:
            stack.extend((child, owner) for child in frame.children)
        else:
            times[owner or "other (standard library)"] += frame.time
    total = sum(times.values()) or 1.0
    return {name: t / total for name, t in times.most_common()}


def main() -> None:
    factory, port, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    profiler = Profiler(interval=0.0005, async_mode="disabled")

    def start(*_: object) -> None:
        profiler.start()

    def stop(*_: object) -> None:
        session = profiler.stop()
        root = session.root_frame()
        out.write_text(json.dumps(by_family(root) if root else {}))

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    # uvloop and httptools, as in the bench's unprofiled runs.
    uvicorn.run(factory, factory=True, host="127.0.0.1", port=port, loop="uvloop",
                http="httptools", log_level="warning", access_log=False,
                proxy_headers=False)  # fmt: skip


if __name__ == "__main__":
    main()
