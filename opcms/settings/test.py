"""Test settings: `make test`. The embedded PostgreSQL unless DATABASE_URL is set; Redis only with REDIS_URL."""

import os

os.environ.setdefault("OPCMS_EMBEDDED_DB", "1")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")

from .base import *  # noqa: E402,F403
from .base import VAR_DIR  # noqa: E402

VAR_DIR.mkdir(exist_ok=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests run tasks in-process; the Redis test starts a real worker on its own.
CELERY_TASK_ALWAYS_EAGER = True
# The crash-safety tests start a real worker process with these settings; it must
# take tasks from Redis, and restore a killed worker's unacknowledged task quickly: after
# 5 s, looked for every second (kombu otherwise scans once at start and then every
# 100 s). Its keys have a prefix of their own, so no other test's in-process worker (run
# in parallel on the same Redis database) restores its messages, nor it theirs.
REAL_WORKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 5,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    "global_keyprefix": "crash:",
}
if os.environ.get("OPCMS_TEST_REAL_WORKER") == "1":
    CELERY_TASK_ALWAYS_EAGER = False
    CELERY_BROKER_TRANSPORT_OPTIONS = REAL_WORKER_TRANSPORT_OPTIONS
MEDIA_ROOT = str(VAR_DIR / "test-media")

# Parallel runs (pytest-xdist) share one Redis database: give each worker its own key
# prefix and a clear() limited to it (tests/cache.py), so workers cannot empty each other.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _XDIST_WORKER and CACHES["default"]["BACKEND"].endswith(".RedisCache"):  # noqa: F405
    CACHES["default"] = {  # noqa: F405
        **CACHES["default"],  # noqa: F405
        "BACKEND": "tests.cache.WorkerRedisCache",
        "KEY_PREFIX": f"test-{_XDIST_WORKER}",
    }
