"""A fault-injecting upstream: the dependency the protected API calls, made to misbehave on
purpose. The demo, the tests and the bench all run against it.

    GET  /work/{item_id}   the "real" work: latency, errors and outages as configured
    POST /work/{item_id}   the same, but a write (counted apart, so a duplicate shows)
    GET  /drip             an answer sent a chunk at a time (for read vs total timeouts)
    PUT  /faults           change the faults at run time; outage windows start from now
    GET  /stats            what it was asked and what it did
    GET  /health           liveness

Every random choice comes from one ``random.Random(seed)``, so a run is repeatable. The work
honours ``X-Deadline-Ms``: a spent deadline is refused before any work, and work whose
deadline runs out midway is abandoned (counted in ``abandoned``), because nobody is waiting.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, model_validator

from resilience.deadline import HEADER, Deadline


class Faults(BaseModel):
    error_rate: float = Field(default=0.0, ge=0, le=1)  # share of calls answered 503
    latency_ms: float = Field(default=5.0, ge=0, le=60_000)
    jitter_ms: float = Field(default=0.0, ge=0, le=60_000)  # + uniform(0, jitter)
    # [start_s, end_s) after the faults were set: every call in one is answered 503.
    outages: list[tuple[float, float]] = Field(default_factory=list, max_length=100)
    seed: int = 0

    @model_validator(mode="after")
    def _windows_in_order(self) -> Faults:
        for start, end in self.outages:
            if not 0 <= start < end:
                raise ValueError(f"outage window [{start}, {end}) must have 0 <= start < end")
        return self


class Stats(BaseModel):
    calls: int = 0  # requests that reached /work
    writes: int = 0  # of which POST
    served: int = 0
    errors: int = 0  # answered 503 (error rate or outage)
    refused_spent: int = 0  # arrived with a spent deadline: no work done
    abandoned: int = 0  # deadline ran out while working
    in_flight: int = 0
    max_in_flight: int = 0


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def create_app(
    faults: Faults | None = None, name: str = "upstream", clock: Callable[[], float] | None = None
) -> FastAPI:
    clock = clock or time.monotonic
    state = {"faults": faults or Faults(), "since": clock()}
    rng = random.Random(state["faults"].seed)  # type: ignore[union-attr]
    stats = Stats()
    app = FastAPI(title=f"fault injector: {name}")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error(422, "validation_error", str(exc.errors()[0]["msg"]))

    def now_faults() -> Faults:
        return state["faults"]  # type: ignore[return-value]

    def in_outage() -> bool:
        elapsed = clock() - state["since"]  # type: ignore[operator]
        return any(start <= elapsed < end for start, end in now_faults().outages)

    async def work(item_id: int, deadline_ms: str | None, write: bool) -> JSONResponse:
        stats.calls += 1
        stats.writes += write
        try:
            deadline = Deadline.from_header(deadline_ms, default_s=60, max_s=60)
        except ValueError as exc:
            return error(400, "bad_deadline", str(exc))
        if deadline.expired:
            stats.refused_spent += 1
            return error(504, "deadline_spent", "the caller's deadline was spent on arrival")
        f = now_faults()
        if in_outage() or rng.random() < f.error_rate:
            stats.errors += 1
            return error(503, "injected_fault", f"{name} is failing (injected)")
        delay = (f.latency_ms + rng.uniform(0, f.jitter_ms)) / 1000
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            async with asyncio.timeout(deadline.remaining()):
                await asyncio.sleep(delay)  # stands for real work: a query, a computation
        except TimeoutError:
            stats.abandoned += 1
            return error(504, "deadline_spent", "abandoned: the caller's deadline ran out")
        finally:
            stats.in_flight -= 1
        stats.served += 1
        return JSONResponse({"item_id": item_id, "from": name})

    Item = Path(ge=0, le=1_000_000_000)
    DeadlineMs = Header(default=None, alias=HEADER)

    @app.get("/work/{item_id}")
    async def read(item_id: int = Item, deadline_ms: str | None = DeadlineMs) -> JSONResponse:
        return await work(item_id, deadline_ms, write=False)

    @app.post("/work/{item_id}")
    async def write(item_id: int = Item, deadline_ms: str | None = DeadlineMs) -> JSONResponse:
        return await work(item_id, deadline_ms, write=True)

    @app.get("/drip")
    async def drip(
        chunks: int = Query(default=10, ge=1, le=1000),
        every_ms: float = Query(default=50, ge=0, le=10_000),
    ) -> StreamingResponse:
        """Each chunk arrives well within a read timeout; the whole answer may not."""

        async def body() -> AsyncIterator[bytes]:
            for _ in range(chunks):
                await asyncio.sleep(every_ms / 1000)
                yield b"."

        return StreamingResponse(body(), media_type="text/plain")

    @app.put("/faults")
    async def set_faults(new: Faults) -> Faults:
        nonlocal rng
        state["faults"], state["since"] = new, clock()
        rng = random.Random(new.seed)
        return new

    @app.get("/stats")
    async def get_stats() -> Stats:
        return stats

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
