"""Test settings: `make test`. SQLite unless DATABASE_URL is set; Redis only with REDIS_URL."""

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")

from .base import *  # noqa: E402,F403
from .base import VAR_DIR  # noqa: E402

VAR_DIR.mkdir(exist_ok=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests run tasks in-process; the Redis test starts a real worker on its own.
CELERY_TASK_ALWAYS_EAGER = True
MEDIA_ROOT = str(VAR_DIR / "test-media")
