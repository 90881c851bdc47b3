"""Local development: `make run`. DEBUG on; the embedded PostgreSQL unless DATABASE_URL is set."""

import os

os.environ.setdefault("OPCMS_EMBEDDED_DB", "1")
os.environ.setdefault("DEBUG", "1")

from .base import *  # noqa: E402,F403
from .base import VAR_DIR  # noqa: E402

VAR_DIR.mkdir(exist_ok=True)
