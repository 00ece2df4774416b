"""An idempotent consumer: the effect of a message is applied once, however often it arrives.

At-least-once delivery (Streams, RabbitMQ) means a message can come twice: the consumer did
its work, then died before the ack reached the broker. The fix is on the consumer's side: a
record of processed message ids, written *in the same atomic step* as the effect. Here the
effect is an entry in a Redis list (a ledger), so one Lua script does both: `SET id NX EX ttl`
and, only if that set was new, `RPUSH`. Were the two separate, a crash between them would
either lose the effect (marked, not done) or repeat it (done, not marked). With a SQL database
the same idea is a `processed_messages` table with a primary key on the id, inserted in the
transaction that writes the effect.
"""

from __future__ import annotations

from redis.asyncio import Redis

APPLY_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
    redis.call('RPUSH', KEYS[2], ARGV[2])
    return 1
end
return 0
"""


class Ledger:
    """The effects of one consumer (billing, shipping...) keyed by message id."""

    def __init__(self, redis: Redis, namespace: str, consumer: str, ttl_s: int) -> None:
        self._redis = redis
        self._seen = f"{namespace}:processed:{consumer}:"
        self.key = f"{namespace}:ledger:{consumer}"
        self._ttl_s = ttl_s
        self._apply = redis.register_script(APPLY_ONCE)

    async def record_once(self, message_id: str, entry: str) -> bool:
        """True if the entry was written now, False if this message id was processed before."""
        return bool(await self._apply(keys=[self._seen + message_id, self.key],
                                      args=[self._ttl_s, entry]))  # fmt: skip

    async def entries(self) -> list[str]:
        return [str(e) for e in await self._redis.lrange(self.key, 0, -1)]
