"""The source HTTP API the pipeline extracts from: cursor pagination, and faults on a schedule.

A real partner API rate-limits (429 + Retry-After) and fails now and then (503). This one does
both on a fixed schedule - every Nth request - so the extractor's retries can be tested exactly.
"""

from __future__ import annotations

import base64
import bisect
import json
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Faults:
    every_429: int = 0  # every Nth request answers 429 (0: never)
    every_503: int = 0  # every Nth request answers 503 (0: never)
    retry_after: str = "1"  # seconds, as the header carries them


def encode(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def decode(cursor: str) -> tuple[str, str]:
    modified, order_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    return str(modified), str(order_id)


def create_source_api(data: Path, faults: Faults | None = None) -> Starlette:
    items = [json.loads(line) for line in data.open(encoding="utf-8")]
    # Sorted by (modified, id): the order the cursor walks and the pipeline's watermark follows.
    # ISO timestamps in UTC compare correctly as strings.
    items.sort(key=lambda i: (i["modified"], i["id"]))
    keys = [(i["modified"], i["id"]) for i in items]
    faults = faults or Faults()
    seen = {"requests": 0}

    async def orders(request: Request) -> JSONResponse:
        seen["requests"] += 1
        n = seen["requests"]
        if faults.every_429 and n % faults.every_429 == 0:
            return JSONResponse({"error": "slow down"}, 429,
                                headers={"Retry-After": faults.retry_after})  # fmt: skip
        if faults.every_503 and n % faults.every_503 == 0:
            return JSONResponse({"error": "try again"}, 503)
        q = request.query_params
        try:
            limit = min(max(int(q.get("limit", "100")), 1), 10_000)
            if "cursor" in q:
                after = decode(q["cursor"])
            else:
                after = (q.get("updated_after", ""), q.get("after_id", ""))
        except (ValueError, TypeError):
            return JSONResponse({"error": "bad limit or cursor"}, 400)
        start = bisect.bisect_right(keys, after) if after[0] else 0
        page = items[start : start + limit]
        more = start + limit < len(items)
        cursor = encode(keys[start + limit - 1]) if more else None
        return JSONResponse({"items": page, "next_cursor": cursor})

    app = Starlette(routes=[Route("/orders", orders)])
    app.state.seen = seen
    return app
