"""The example system in one process: users, orders, two catalog instances, and a gateway.

Used by ``main.py`` (serve and demo) and by the tests. Every server is a real uvicorn on
its own port; nothing is mocked between the gateway and the services.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from demo.serving import ServerThread
from gateway.app import create_app
from gateway.settings import GatewaySettings, Route
from services import catalog, orders, users
from services.common import ServiceSettings

FACTORIES = {"users": users.create_app, "orders": orders.create_app, "catalog": catalog.create_app}
PREFIXES = {"users": "/users", "orders": "/orders", "catalog": "/products"}


@dataclass
class Stack:
    upstreams: dict[str, list[ServerThread]] = field(default_factory=dict)
    gateway: ServerThread | None = None

    def routes(self, timeout_s: float = 5.0, retries: int = 2) -> list[Route]:
        return [
            Route(
                name=name,
                prefix=PREFIXES[name],
                instances=[s.url for s in servers],
                timeout_s=timeout_s,
                retries=retries,
            )
            for name, servers in self.upstreams.items()
        ]

    def kill(self, name: str, index: int = 0) -> None:
        """Stop one instance; its port stays reserved (connections are refused) for ``revive``."""
        self.upstreams[name][index].stop(keep_port=True)

    def revive(self, name: str, index: int = 0) -> None:
        """A fresh process of the service, on the port the gateway knows (state starts over)."""
        settings = ServiceSettings(instance=f"{name}-{index + 1}")
        self.upstreams[name][index].restart(FACTORIES[name](settings))

    def servers(self) -> list[ServerThread]:
        everyone = [s for servers in self.upstreams.values() for s in servers]
        return ([self.gateway] if self.gateway else []) + everyone

    def stop(self) -> None:
        # Ask all first, then wait: they shut down in parallel instead of one after another.
        for server in self.servers():
            server.request_stop()
        for server in self.servers():
            server.stop()


def start_upstreams(catalog_instances: int = 2) -> Stack:
    stack = Stack()
    counts = {"users": 1, "orders": 1, "catalog": catalog_instances}
    try:
        for name, count in counts.items():
            stack.upstreams[name] = [
                ServerThread(FACTORIES[name](ServiceSettings(instance=f"{name}-{i + 1}"))).start()
                for i in range(count)
            ]
    except BaseException:
        stack.stop()
        raise
    return stack


def start_gateway(
    stack: Stack, settings: GatewaySettings, port: int = 0, host: str = "127.0.0.1"
) -> ServerThread:
    stack.gateway = ServerThread(create_app(settings), host=host, port=port).start()
    return stack.gateway
