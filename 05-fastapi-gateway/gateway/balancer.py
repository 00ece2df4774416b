"""Round-robin over an upstream's instances, with passive ejection and active return.

Passive: a request that cannot connect, times out or breaks the protocol is a failure of the
instance; after ``eject_after`` of them in a row it leaves the rotation at once, so the next
requests stop paying for it. A 5xx *answer* is different: the instance is alive and said
something about one request (a bug hit by one input, say), so it counts only when it keeps
coming - ``eject_after_5xx`` in a row (Envoy's ``consecutive_5xx``, default 5, works the same
way). Active: a background loop probes failing instances' ``/health`` and puts them back when
they answer. Live traffic never probes an ejected instance.

The last instance in rotation is never ejected, only marked failing (``/ready`` says so).
Ejecting it would turn one slow request into a route that refuses everything until the next
health check; keeping it means each request still tries, and a dead one is refused fast.
Envoy makes the same trade with its ``max_ejection_percent`` and panic threshold.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass

import aiohttp

log = logging.getLogger("gateway.balancer")


@dataclass
class Instance:
    url: str
    healthy: bool = True  # in the rotation
    failures: int = 0  # connection errors and timeouts in a row; any answer resets it
    errors: int = 0  # 5xx answers in a row; any other answer resets it
    warned: bool = False  # "kept: last in rotation" logged already


class Balancer:
    def __init__(
        self, name: str, urls: list[str], eject_after: int = 1, eject_after_5xx: int = 5
    ) -> None:
        self.name = name
        self.instances = [Instance(u) for u in urls]
        self._eject_after, self._eject_after_5xx = eject_after, eject_after_5xx
        self._counter = itertools.count()

    def pick(self, exclude: set[str] | frozenset[str] = frozenset()) -> Instance:
        """Next instance in rotation; ``exclude`` lets a retry prefer one it has not tried yet.
        Never fails: the last instance in rotation is never ejected."""
        rotation = [i for i in self.instances if i.healthy]
        fresh = [i for i in rotation if i.url not in exclude] or rotation
        # One shared counter: single-threaded asyncio makes next() atomic enough here.
        return fresh[next(self._counter) % len(fresh)]

    def answered(self, instance: Instance, status: int) -> None:
        """The instance answered: alive. A 5xx counts only toward ``eject_after_5xx``."""
        instance.failures = 0
        instance.errors = instance.errors + 1 if status >= 500 else 0
        if instance.errors >= self._eject_after_5xx:
            self._eject(instance, f"{instance.errors} 5xx answers in a row")

    def failed(self, instance: Instance) -> None:
        """No usable answer: connection refused, timed out or broken mid-answer."""
        instance.failures += 1
        if instance.failures >= self._eject_after:
            self._eject(instance, f"{instance.failures} failures in a row")

    def _eject(self, instance: Instance, why: str) -> None:
        if not instance.healthy:
            return
        if any(i.healthy for i in self.instances if i is not instance):
            instance.healthy = False
            log.warning("ejected %s instance %s: %s", self.name, instance.url, why)
        elif not instance.warned:  # once, not on every failure after
            instance.warned = True
            log.warning("%s instance %s failing, kept: last in rotation", self.name, instance.url)

    def failing(self, instance: Instance) -> bool:
        return (
            not instance.healthy
            or instance.failures >= self._eject_after
            or instance.errors >= self._eject_after_5xx
        )

    def serving(self) -> list[Instance]:
        """Instances believed to answer: in rotation and not failing. What ``/ready`` shows."""
        return [i for i in self.instances if not self.failing(i)]

    async def probe_failing(self, session: aiohttp.ClientSession, timeout_s: float = 1.0) -> None:
        """One round of active health checks, concurrently, on the failing instances only:
        the ejected ones and a last one kept in rotation."""
        failing = [i for i in self.instances if self.failing(i)]
        results = await asyncio.gather(
            *(probe(session, f"{i.url}/health", timeout_s) for i in failing),
            return_exceptions=True,
        )
        for instance, result in zip(failing, results, strict=True):
            if result == 200:
                instance.healthy, instance.failures, instance.errors = True, 0, 0
                instance.warned = False
                log.warning("restored %s instance %s", self.name, instance.url)


async def probe(session: aiohttp.ClientSession, url: str, timeout_s: float) -> int:
    async with asyncio.timeout(timeout_s), session.get(url) as response:
        await response.read()
        return response.status


async def health_loop(
    balancers: list[Balancer], session: aiohttp.ClientSession, interval_s: float
) -> None:
    """Runs for the gateway's lifetime (cancelled by the lifespan on shutdown)."""
    while True:
        await asyncio.sleep(interval_s)
        await asyncio.gather(*(b.probe_failing(session) for b in balancers))
