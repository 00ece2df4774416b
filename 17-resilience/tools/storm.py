"""A retry storm in a discrete-time model: N clients, one server that is down and comes back.

Time moves in ticks of 10 ms. Each client has one call to make; all of them failed together
when the server went down (their first tries land within 50 ms). A failed call is retried
after the backoff strategy's delay (at least one tick, a round trip), up to ``max_attempts``.
The server is down for ``outage_s`` (every call fails), then serves ``capacity`` calls per
tick. Receiving and refusing a call is not free: each arrival costs ``overhead`` of a served
call, so a flood of retries eats the capacity that would serve them. (That is how a storm
can keep a recovered server down: a metastable state.)

Deterministic for a seed, and fast (tens of thousands of events), so the tests check it and
bench.py plots it. The jitter formulas are the ones in ``resilience/backoff.py``.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

from resilience.backoff import STRATEGIES, Backoff


@dataclass(frozen=True)
class Scenario:
    clients: int = 1000
    capacity: int = 20  # calls served per tick once recovered (2,000/s)
    overhead: float = 0.02  # cost of receiving a call, as a share of serving one
    outage_s: float = 2.0
    spread_s: float = 0.05  # first calls spread over this long
    tick_s: float = 0.01
    horizon_s: float = 60.0
    max_attempts: int = 15
    base_s: float = 0.02
    cap_s: float = 2.0
    seed: int = 1


@dataclass
class Run:
    strategy: str
    load: list[int] = field(default_factory=list)  # calls arriving per tick
    calls: int = 0
    succeeded: int = 0
    gave_up: int = 0
    last_success_s: float = 0.0

    @property
    def all_done(self) -> bool:
        return self.gave_up == 0

    def peak_after(self, seconds: float, tick_s: float) -> int:
        return max(self.load[int(seconds / tick_s) :], default=0)


def served(arrivals: int, s: Scenario) -> int:
    """Calls the server completes in a tick with ``arrivals`` calls at its door."""
    budget = (s.capacity - s.overhead * arrivals) / (1 - s.overhead)
    return max(0, min(arrivals, math.floor(budget)))


def simulate(strategy: str, s: Scenario = Scenario()) -> Run:
    starts = random.Random(s.seed)  # the same first calls for every strategy
    rng = random.Random(s.seed + 1)
    backoff = Backoff(strategy, s.base_s, s.cap_s)
    due: defaultdict[int, list[int]] = defaultdict(list)
    for client in range(s.clients):
        due[int(starts.uniform(0, s.spread_s) / s.tick_s)].append(client)
    attempts, previous = [0] * s.clients, [s.base_s] * s.clients
    run = Run(strategy)
    for tick in range(int(s.horizon_s / s.tick_s)):
        if not due:
            break
        arriving = due.pop(tick, [])
        run.load.append(len(arriving))
        run.calls += len(arriving)
        ok = 0 if tick * s.tick_s < s.outage_s else served(len(arriving), s)
        rng.shuffle(arriving)  # which of them the server happens to take
        if ok:
            run.succeeded += ok
            run.last_success_s = (tick + 1) * s.tick_s
        for client in arriving[ok:]:
            attempts[client] += 1
            if attempts[client] >= s.max_attempts:
                run.gave_up += 1
                continue
            delay = backoff.delay(attempts[client], previous[client], rng)
            previous[client] = delay
            due[tick + max(1, math.ceil(delay / s.tick_s))].append(client)
    run.gave_up += sum(len(clients) for clients in due.values())  # still waiting at the horizon
    return run


def simulate_all(s: Scenario = Scenario()) -> dict[str, Run]:
    return {strategy: simulate(strategy, s) for strategy in STRATEGIES}
