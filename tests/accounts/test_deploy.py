"""`manage.py check --deploy` with production variables reports nothing."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opcms.settings.production",
        "SECRET_KEY": "x" * 20 + "production-secret-key-with-enough-entropy-9f8e7d6c5b4a",
        "ALLOWED_HOSTS": "opcms.example.com",
        # check --deploy opens no connection: any PostgreSQL URL will do.
        "DATABASE_URL": "postgres://opcms@127.0.0.1:5432/opcms_deploy_check",
        "DEBUG": "0",
    }
    env.pop("REDIS_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "opcms.settings.production", "DEBUG": "0"}
    env.pop("SECRET_KEY", None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
