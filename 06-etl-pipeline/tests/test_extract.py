"""Each extractor on its real source: CSV files on disk, the lesson's API over HTTP, a database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert

from cli import source_api
from etl.extract import (
    POS,
    Mark,
    Reject,
    SourceError,
    csv_source,
    db_source,
    pos_orders,
    read_csv,
    sniff_encoding,
)
from etl.extract_api import ApiSource
from etl.records import RawRecord
from sources.generate import Manifest

# ---------------------------------------------------------------- CSV


@pytest.mark.parametrize(
    ("encoding", "expected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252")]
)
def test_the_encoding_is_recognised(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text("order_id,email\nW-1,müller@example.com\n", encoding=encoding)

    assert sniff_encoding(path) == expected


def test_quoted_fields_header_drift_and_a_short_line(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text(
        "Last Change,Order ID,E-Mail,Total,Curr,Order Date\n"
        '"02/01/2026 10:00",L-1,"Smith, J <j@example.com>",10.00,EUR,"01/01/2026 09:00"\n'
        '"02/01/2026 10:00",L-2,"line\nbreak@example.com",10.00,EUR\n'
        '"02/01/2026 10:00",L-3,k@example.com,12.50,GBP,"01/01/2026 09:00"\n',
        encoding="cp1252",
    )

    items = list(read_csv(path))

    assert [type(i) for i in items] == [RawRecord, Reject, RawRecord]
    assert items[0].data["customer_email"] == "Smith, J <j@example.com>"  # one field, comma kept
    assert items[0].data["order_id"] == "L-1" and items[0].data["amount"] == "10.00"
    assert items[1].position == "old.csv:4"  # the record spans lines 3-4; the line it ends on
    assert items[1].reason == "expected 6 fields, got 5"
    assert items[2].position == "old.csv:5"


def test_a_file_without_a_needed_column_fails_the_source(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("order_id,email\nW-1,a@b.cc\n")

    with pytest.raises(SourceError, match="a.csv has no column for amount, currency"):
        list(csv_source(tmp_path))


def test_the_generated_exports_yield_every_record(data_dir: Path, manifest: Manifest) -> None:
    items = list(csv_source(data_dir / "input"))

    assert len(items) == manifest.rows["csv"]
    assert sum(isinstance(i, Reject) for i in items) == manifest.malformed_lines


# ---------------------------------------------------------------- API


@pytest.fixture
def api(data_dir: Path) -> Iterator[str]:
    # Every 3rd request a 429 (Retry-After 0), every 4th a 503: the extractor must get through.
    with source_api(
        data_dir / "api_orders.jsonl", every_429=3, every_503=4, retry_after="0"
    ) as url:
        yield url


def test_the_api_extractor_pages_through_429_and_503(api: str, manifest: Manifest) -> None:
    source = ApiSource(api, page_size=100, attempts=5, timeout_s=5)

    items = list(source(None))

    assert len(items) == manifest.rows["api"]
    assert len({i.data["order_id"] for i in items}) == manifest.rows["api"]  # no page twice
    assert source.retries > 0


def test_the_api_extractor_starts_after_the_watermark(api: str) -> None:
    everything = [i.data for i in ApiSource(api, 100, 5, 5)(None)]
    cut = sorted(everything, key=lambda d: (d["updated_at"], d["order_id"]))[len(everything) // 2]
    mark = Mark(datetime.fromisoformat(cut["updated_at"]), cut["order_id"])

    newer = [i.data for i in ApiSource(api, 100, 5, 5)(mark)]

    assert newer and all((d["updated_at"], d["order_id"]) > (cut["updated_at"], cut["order_id"])
                         for d in newer)  # fmt: skip


def test_an_api_that_keeps_failing_fails_the_source_after_its_attempts(data_dir: Path) -> None:
    with source_api(data_dir / "api_orders.jsonl", every_503=1) as url:
        source = ApiSource(url, 100, attempts=3, timeout_s=5)
        with pytest.raises(SourceError, match="failed 3 times .last: HTTP 503"):
            list(source(None))


@pytest.mark.parametrize("header", ["soon", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_a_retry_after_that_is_not_seconds_is_survived(data_dir: Path, header: str) -> None:
    """Retry-After may be an HTTP date (RFC 9110) or junk: wait what it says, or back off."""
    with source_api(data_dir / "api_orders.jsonl", every_429=2, retry_after=header) as url:
        source = ApiSource(url, 100, attempts=3, timeout_s=5)

        items = list(source(None))

    assert len({i.data["order_id"] for i in items}) == len(items) > 0 and source.retries > 0


def test_a_200_that_is_not_a_page_fails_the_source_in_one_line(tmp_path: Path) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    async def proxy_page(request: object) -> HTMLResponse:
        return HTMLResponse("<html>maintenance</html>")

    app = Starlette(routes=[Route("/orders", proxy_page)])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        with pytest.raises(SourceError, match="^api: a 200 without a JSON page"):
            list(ApiSource(f"http://127.0.0.1:{port}", 100, 2, 5)(None))
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def test_a_password_in_the_api_url_stays_out_of_the_error() -> None:
    import socket

    with socket.socket() as closed:  # bound, never listening: every connect is refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://etl:s3cret@127.0.0.1:{closed.getsockname()[1]}"
        with pytest.raises(SourceError) as failed:
            list(ApiSource(url, 100, attempts=1, timeout_s=5)(None))

    assert "s3cret" not in str(failed.value) and "etl:***@127.0.0.1" in str(failed.value)


def test_a_response_slower_than_the_deadline_is_a_failed_attempt() -> None:
    """A server that answers headers, then drips the body: the deadline covers every byte."""
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip() -> None:
        while not stop.is_set():
            try:
                server.settimeout(0.1)
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{")
                for _ in range(39):  # one byte every 50 ms: each read is quick, the whole is not
                    if stop.wait(0.05):
                        break
                    try:
                        conn.sendall(b" ")
                    except OSError:
                        break

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        source = ApiSource(f"http://127.0.0.1:{server.getsockname()[1]}", 100, 2, timeout_s=0.5)
        started = time.monotonic()
        with pytest.raises(SourceError, match="last: TimeoutError"):
            list(source(None))
        assert time.monotonic() - started < 2 * 39 * 0.05  # gave up before the body finished
    finally:
        stop.set()
        thread.join()
        server.close()


# ---------------------------------------------------------------- database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'pos.db'}" if request.param == "sqlite" else (
        request.getfixturevalue("postgres_url"))  # fmt: skip
    engine = create_engine(url)
    POS.drop_all(engine)
    POS.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(pos_orders), [
            {"id": i, "email": f"c{i}@example.com", "amount_cents": 1000 + i, "currency": "EUR",
             "ordered_at": datetime(2026, 1, 1), "updated_at": datetime(2026, 1, 1 + i % 20)}
            for i in range(1, 301)
        ])  # fmt: skip
    yield url
    POS.drop_all(engine)
    engine.dispose()


def test_the_db_extractor_streams_in_watermark_order(source_url: str) -> None:
    items = list(db_source(source_url, None, batch=50))

    keys = [(i.data["updated_at"], int(i.data["order_id"][2:])) for i in items]
    assert len(items) == 300 and keys == sorted(keys)
    assert items[0].data["amount"] == f"{(1000 + keys[0][1]) / 100:.2f}"


def test_the_db_extractor_reads_only_rows_after_the_watermark(source_url: str) -> None:
    mark = Mark(datetime(2026, 1, 10, tzinfo=UTC), "P-150")

    items = list(db_source(source_url, mark, batch=50))

    keys = [(i.data["updated_at"], int(i.data["order_id"][2:])) for i in items]
    assert keys and all(k > (datetime(2026, 1, 10), 150) for k in keys)
    assert len(items) == sum(1 for i in range(1, 301) if (1 + i % 20, i) > (10, 150))


def test_an_unreachable_database_fails_the_source_in_one_line() -> None:
    with pytest.raises(SourceError, match="^db: "):
        list(db_source("postgresql+psycopg://u:p@127.0.0.1:9/x", None, 10))
