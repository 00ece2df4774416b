"""Round-robin over an upstream's instances, with passive ejection and active return.

Passive: a request that cannot connect, times out or gets a 5xx answer counts a failure;
after ``eject_after`` failures in a row the instance leaves the rotation at once, so the next
requests stop paying for it. Active: a background loop probes failing instances' ``/health``
and puts them back when they answer. Live traffic never probes an ejected instance.

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

import httpx

log = logging.getLogger("gateway.balancer")


@dataclass
class Instance:
    url: str
    healthy: bool = True  # in the rotation
    failures: int = 0  # in a row; a success or a passing health check resets it


class Balancer:
    def __init__(self, name: str, urls: list[str], eject_after: int = 1) -> None:
        self.name = name
        self.instances = [Instance(u) for u in urls]
        self._eject_after = eject_after
        self._counter = itertools.count()

    def pick(self, exclude: set[str] | frozenset[str] = frozenset()) -> Instance:
        """Next instance in rotation; ``exclude`` lets a retry prefer one it has not tried yet.
        Never fails: the last instance in rotation is never ejected."""
        rotation = [i for i in self.instances if i.healthy]
        fresh = [i for i in rotation if i.url not in exclude] or rotation
        # One shared counter: single-threaded asyncio makes next() atomic enough here.
        return fresh[next(self._counter) % len(fresh)]

    def succeeded(self, instance: Instance) -> None:
        instance.failures = 0

    def failed(self, instance: Instance) -> None:
        instance.failures += 1
        if not instance.healthy or instance.failures < self._eject_after:
            return
        if any(i.healthy for i in self.instances if i is not instance):
            instance.healthy = False
            log.warning("ejected %s instance %s", self.name, instance.url)
        elif instance.failures == self._eject_after:  # once, not on every failure after
            log.warning("%s instance %s failing, kept: last in rotation", self.name, instance.url)

    def failing(self, instance: Instance) -> bool:
        return not instance.healthy or instance.failures >= self._eject_after

    def serving(self) -> list[Instance]:
        """Instances believed to answer: in rotation and not failing. What ``/ready`` shows."""
        return [i for i in self.instances if not self.failing(i)]

    async def probe_failing(self, client: httpx.AsyncClient, timeout_s: float = 1.0) -> None:
        """One round of active health checks, concurrently, on the failing instances only:
        the ejected ones and a last one kept in rotation."""
        failing = [i for i in self.instances if self.failing(i)]
        results = await asyncio.gather(
            *(client.get(f"{i.url}/health", timeout=timeout_s) for i in failing),
            return_exceptions=True,
        )
        for instance, result in zip(failing, results, strict=True):
            if isinstance(result, httpx.Response) and result.status_code == 200:
                instance.healthy, instance.failures = True, 0
                log.warning("restored %s instance %s", self.name, instance.url)


async def health_loop(
    balancers: list[Balancer], client: httpx.AsyncClient, interval_s: float
) -> None:
    """Runs for the gateway's lifetime (cancelled by the lifespan on shutdown)."""
    while True:
        await asyncio.sleep(interval_s)
        await asyncio.gather(*(b.probe_failing(client) for b in balancers))
