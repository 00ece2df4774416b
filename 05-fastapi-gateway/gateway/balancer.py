"""Round-robin over an upstream's instances, with passive ejection and active return.

Passive: a request that cannot connect (or times out) counts a failure; after
``eject_after`` failures in a row the instance leaves the rotation at once, so the next
requests stop paying for it. Active: a background loop probes ejected instances' ``/health``
and puts them back when they answer. Live traffic never probes a dead instance.
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
    healthy: bool = True
    failures: int = 0


class NoHealthyInstance(Exception):
    """Every instance of the upstream is ejected."""


class Balancer:
    def __init__(self, name: str, urls: list[str], eject_after: int = 1) -> None:
        self.name = name
        self.instances = [Instance(u) for u in urls]
        self._eject_after = eject_after
        self._counter = itertools.count()

    def pick(self, exclude: set[str] | frozenset[str] = frozenset()) -> Instance:
        """Next healthy instance; ``exclude`` lets a retry prefer one it has not tried yet."""
        healthy = [i for i in self.instances if i.healthy]
        if not healthy:
            raise NoHealthyInstance(self.name)
        fresh = [i for i in healthy if i.url not in exclude] or healthy
        # One shared counter: single-threaded asyncio makes next() atomic enough here.
        return fresh[next(self._counter) % len(fresh)]

    def succeeded(self, instance: Instance) -> None:
        instance.failures = 0

    def failed(self, instance: Instance) -> None:
        instance.failures += 1
        if instance.healthy and instance.failures >= self._eject_after:
            instance.healthy = False
            log.warning("ejected %s instance %s", self.name, instance.url)

    @property
    def ready(self) -> bool:
        return any(i.healthy for i in self.instances)

    async def probe_ejected(self, client: httpx.AsyncClient, timeout_s: float = 1.0) -> None:
        """One round of active health checks, concurrently, on the ejected instances only."""
        ejected = [i for i in self.instances if not i.healthy]
        results = await asyncio.gather(
            *(client.get(f"{i.url}/health", timeout=timeout_s) for i in ejected),
            return_exceptions=True,
        )
        for instance, result in zip(ejected, results, strict=True):
            if isinstance(result, httpx.Response) and result.status_code == 200:
                instance.healthy, instance.failures = True, 0
                log.warning("restored %s instance %s", self.name, instance.url)


async def health_loop(
    balancers: list[Balancer], client: httpx.AsyncClient, interval_s: float
) -> None:
    """Runs for the gateway's lifetime (cancelled by the lifespan on shutdown)."""
    while True:
        await asyncio.sleep(interval_s)
        await asyncio.gather(*(b.probe_ejected(client) for b in balancers))
