"""`python main.py demo`: a real server plus simulated clients in two rooms, narrated.

Each step waits for the frame it caused (never a fixed sleep), so the output is the same on
a fast laptop and a loaded CI machine.
"""

from __future__ import annotations

import asyncio

from chat.protocol import Direct, Error, History, Message, Presence, ServerFrame
from chat.settings import Settings
from tools.client import ChatClient, Predicate
from tools.serving import running_server


def describe(frame: ServerFrame) -> str:
    match frame:
        case Message(room=room, user=user, text=text):
            return f"[{room}] {user}: {text}"
        case Direct(user=user, to=to, text=text):
            return f"(direct) {user} -> {to}: {text}"
        case Presence(room=room, count=count, joined=joined, left=left, reason=reason):
            change = f"{joined} joined" if joined else f"{left} left ({reason})"
            return f"[{room}] presence: {change}, {count} here"
        case History(room=room, users=users, messages=messages):
            return f"[{room}] joined; here: {', '.join(users)}; {len(messages)} earlier message(s)"
        case Error(code=code, detail=detail):
            return f"error {code}: {detail}"
    return frame.model_dump_json()


class Narrator:
    """Prints, after each step, what every client received during it, in a fixed order."""

    def __init__(self, clients: list[ChatClient]) -> None:
        self.clients = clients
        self.seen = {id(c): len(c.received) for c in clients}

    def flush(self) -> None:
        for client in self.clients:
            for frame in client.received[self.seen[id(client)] :]:
                print(f"  {client.user:<6} <- {describe(frame)}")
            self.seen[id(client)] = len(client.received)


def got(text: str) -> Predicate:
    return lambda f: isinstance(f, (Message, Direct)) and f.text == text


def presence(joined: str | None = None, left: str | None = None) -> Predicate:
    return lambda f: isinstance(f, Presence) and (f.joined, f.left) == (joined, left)


async def all_get(predicate: Predicate, *clients: ChatClient, within: float = 5.0) -> None:
    await asyncio.gather(*(c.expect(predicate, within) for c in clients))


async def run_demo(settings: Settings) -> int:
    # A short heartbeat so the dead client is noticed within about a second.
    settings = settings.model_copy(
        update={"port": 0, "heartbeat_interval": 0.25, "heartbeat_timeout": 2.0}
    )
    async with running_server(settings) as url:
        print(f"server on {url} (broker: {'redis' if settings.redis_url else 'memory'})")
        alice, bob, carol, dave = [
            await ChatClient.connect(url, n) for n in ("alice", "bob", "carol", "dave")
        ]
        # ghost joins and then never answers a ping: a phone that lost its network.
        ghost = await ChatClient.connect(url, "ghost", answer_pings=False)
        everyone = [alice, bob, ghost, carol, dave]
        narrator = Narrator(everyone)

        print("\n== alice, bob and ghost join #general; carol and dave join #random")
        general, random = [alice, bob, ghost], [carol, dave]
        for room, members in (("general", general), ("random", random)):
            for i, client in enumerate(members):
                await client.send(type="join", room=room)
                # The newcomer and everyone already in the room see the presence change.
                await all_get(presence(joined=client.user), *members[: i + 1])
        narrator.flush()

        print("\n== each room hears only its own messages")
        for sender, room, text in (
            (alice, "general", "hi bob"),
            (bob, "general", "hey alice"),
            (carol, "random", "anyone here?"),
            (dave, "random", "yes!"),
        ):
            await sender.send(type="message", room=room, text=text)
            # ghost is left out of the waits: it may already be gone on a slow machine.
            await all_get(got(text), *([alice, bob] if room == "general" else random))
        narrator.flush()

        print("\n== a direct message, then a frame that is not JSON")
        await alice.send(type="direct", to="carol", text="psst, lunch?")
        await all_get(got("psst, lunch?"), alice, carol)
        await dave.ws.send("{not json")
        await dave.expect(lambda f: isinstance(f, Error))
        narrator.flush()

        print("\n== ghost stops answering pings; the heartbeat drops it")
        await all_get(presence(left="ghost"), alice, bob, within=10)
        narrator.flush()
        print(f"  ghost  <- connection closed by the server, code {await ghost.closed()}")

        print("\n== bob leaves #general, then everyone hangs up")
        await bob.send(type="leave", room="general")
        await all_get(presence(left="bob"), alice)
        narrator.flush()
        for client in everyone:
            await client.close()
    print("\ndemo finished")
    return 0
