"""The slow database the cache protects: a SQLite product table with an injected delay.

Every query sleeps `delay` seconds first (in a worker thread, like a real network round trip
would keep a driver busy) and is counted, so the cache's effect shows as database calls saved.
Each row carries a `version` that every update increments: the cache uses it to tell an old
value from a new one (see cache.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from pydantic import BaseModel


class Product(BaseModel):
    id: int
    name: str
    price_cents: int
    version: int


class ProductDB:
    def __init__(self, path: str, delay: float = 0.0) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the worker threads, serialised by a lock: SQLite is the
        # stand-in here, not the subject.
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self.delay = delay
        self.calls = 0  # queries that reached the database: what a cache is meant to save
        with self._lock:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS product ("
                " id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " price_cents INTEGER NOT NULL, version INTEGER NOT NULL DEFAULT 1)"
            )

    def close(self) -> None:
        self._conn.close()

    def seed(self, count: int) -> None:
        """Products 1..count at 100, 200, ... cents (no delay: this is setup, not traffic)."""
        with self._lock:
            self._conn.execute("DELETE FROM product")
            self._conn.executemany(
                "INSERT INTO product (id, name, price_cents, version) VALUES (?, ?, ?, 1)",
                [(i, f"product-{i}", i * 100) for i in range(1, count + 1)],
            )

    def _query(self, sql: str, params: tuple[object, ...]) -> tuple[object, ...] | None:
        time.sleep(self.delay)
        with self._lock:
            self.calls += 1
            row: tuple[object, ...] | None = self._conn.execute(sql, params).fetchone()
            return row

    async def get(self, product_id: int) -> Product | None:
        row = await asyncio.to_thread(
            self._query,
            "SELECT id, name, price_cents, version FROM product WHERE id = ?",
            (product_id,),
        )
        if row is None:
            return None
        return Product(id=row[0], name=row[1], price_cents=row[2], version=row[3])  # type: ignore[arg-type]

    async def set_price(self, product_id: int, price_cents: int) -> Product | None:
        """Update the price; the row's version goes up by one in the same statement."""
        row = await asyncio.to_thread(
            self._query,
            "UPDATE product SET price_cents = ?, version = version + 1 WHERE id = ?"
            " RETURNING id, name, price_cents, version",
            (price_cents, product_id),
        )
        if row is None:
            return None
        return Product(id=row[0], name=row[1], price_cents=row[2], version=row[3])  # type: ignore[arg-type]
