"""The Redis cache for parallel test runs: each xdist worker clears only its own keys.

Django's RedisCache.clear() is FLUSHDB, and the API and report fixtures clear the
cache around their tests; with two workers on one Redis database, one worker's clear
emptied the other's cache mid-test (the cockpit cache test failed intermittently).
"""

from django.core.cache.backends.redis import RedisCache


class WorkerRedisCache(RedisCache):
    def clear(self) -> bool:
        client = self._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        return True
