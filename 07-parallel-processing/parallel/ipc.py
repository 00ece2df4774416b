"""What one message between processes costs: a raw Pipe next to a Queue.

A ``Pipe`` is two connected sockets: ``send`` pickles and writes, ``recv`` reads and unpickles,
nothing else. A ``Queue`` is built on a pipe and adds a background feeder thread (so ``put``
never blocks on a full pipe) and locks (so many processes can share one end). Both pay for
pickling and two system calls per message, which is why a pool sends tasks in chunks.
"""

from __future__ import annotations

import time
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.queues import Queue
from typing import Any, Literal

from parallel.runtime import ignore_sigint, mp_context

STOP = None  # sentinel: the echo process returns when it receives this


def echo_pipe(conn: Connection) -> None:
    """Child: send back every message until STOP."""
    ignore_sigint()
    while (message := conn.recv()) is not STOP:
        conn.send(message)
    conn.close()


def echo_queue(inbox: Queue[Any], outbox: Queue[Any]) -> None:
    ignore_sigint()
    while (message := inbox.get()) is not STOP:
        outbox.put(message)


def round_trips(
    kind: Literal["pipe", "queue"], messages: list[Any], context: BaseContext | None = None
) -> tuple[list[Any], float]:
    """Send each message to an echo process and wait for it to come back.

    Returns the echoed messages (in order: one channel, one sender) and the mean seconds per
    round trip. The echo process is always stopped and joined, also when something fails.
    """
    ctx = context or mp_context()
    if kind == "pipe":
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=echo_pipe, args=(child,))  # type: ignore[attr-defined]
        send, recv = parent.send, parent.recv
    else:
        inbox, outbox = ctx.Queue(), ctx.Queue()
        proc = ctx.Process(target=echo_queue, args=(inbox, outbox))  # type: ignore[attr-defined]
        send, recv = inbox.put, outbox.get
    proc.start()
    try:
        echoed = []
        started = time.perf_counter()
        for message in messages:
            send(message)
            echoed.append(recv())
        per_trip = (time.perf_counter() - started) / max(1, len(messages))
    finally:
        send(STOP)
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
            proc.join()
    return echoed, per_trip
