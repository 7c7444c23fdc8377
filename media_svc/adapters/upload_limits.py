"""The per-creator daily upload quota: one Redis counter per creator per UTC day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError

from media_svc.domain.uploads import QuotaSlot, StoreUnavailable, UploadLimitExceeded

# The counter outlives its day a little, so a slot given back just after midnight
# still finds it (and does not count against the new day).
_KEY_TTL_MARGIN = timedelta(hours=1)

# Atomically: count the upload, expire the key after its day, and undo the count when it
# passes the limit (a refused upload never holds a slot).
_TAKE = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIREAT', KEYS[1], ARGV[2]) end
if count > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return -1
end
return count
"""
# Gives a slot back only while the day's counter exists and is positive.
_GIVE_BACK = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


def next_reset(now: datetime) -> datetime:
    """The next UTC midnight, when a day's quota resets."""
    today = now.astimezone(UTC).date()
    return datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)


class RedisUploadQuota:
    """At most `limit` uploads per creator per UTC day; rejected uploads give theirs back."""

    def __init__(self, redis: Redis, limit: int, prefix: str) -> None:
        self._redis = redis
        self._limit = limit
        self._prefix = prefix
        self._take = redis.register_script(_TAKE)
        self._give_back = redis.register_script(_GIVE_BACK)

    def key(self, creator_id: str, day: date) -> str:
        """`<prefix><YYYY-MM-DD>:<creator>`: one counter per creator per UTC day."""
        return f"{self._prefix}{day.isoformat()}:{creator_id}"

    async def take(self, creator_id: str, now: datetime) -> QuotaSlot:
        day = now.astimezone(UTC).date()
        resets_at = next_reset(now)
        expire_at = int((resets_at + _KEY_TTL_MARGIN).timestamp())
        try:
            count = await self._take(
                keys=[self.key(creator_id, day)], args=[self._limit, expire_at]
            )
        except RedisError as error:
            raise StoreUnavailable(f"the upload quota store is unavailable: {error}") from error
        if int(count) < 0:
            raise UploadLimitExceeded(self._limit, resets_at, now)
        return QuotaSlot(creator_id, day)

    async def give_back(self, slot: QuotaSlot) -> None:
        await self._give_back(keys=[self.key(slot.creator_id, slot.day)], args=[])

    async def used(self, creator_id: str, day: date) -> int:
        value = await self._redis.get(self.key(creator_id, day))
        return int(value or 0)
