"""/healthz: database, Redis, worker heartbeat and the last backup's age, as JSON 200/503."""

from __future__ import annotations

import json
import time

import pytest
from django.core.cache import cache
from django.utils import timezone

from billing.operations.health import HEARTBEAT_KEY, worker_heartbeat_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_backup(settings, tmp_path):
    settings.OPCMS_BACKUP_DIR = str(tmp_path)
    (tmp_path / "20251201-020000").mkdir()
    (tmp_path / "20251201-020000" / "manifest.json").write_text(
        json.dumps({"created_at": timezone.now().isoformat()})
    )
    return tmp_path


def test_everything_healthy_answers_200(client, fresh_backup, settings):
    settings.REDIS_URL = ""  # eager tasks: no broker, no worker to wait for
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert set(body["checks"]) == {"database", "redis", "worker", "backup"}


def test_a_missing_backup_answers_503_and_says_so(client, settings, tmp_path):
    settings.REDIS_URL = ""
    settings.OPCMS_BACKUP_DIR = str(tmp_path / "none")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["backup"] == {"ok": False, "detail": "还没有备份"}


def test_the_web_scope_ignores_worker_and_backup(client, settings, tmp_path):
    settings.REDIS_URL = ""
    settings.OPCMS_BACKUP_DIR = str(tmp_path / "none")

    response = client.get("/healthz", {"scope": "web"})

    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "redis"}


def test_an_unreachable_redis_answers_503(client, settings, fresh_backup):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz", {"scope": "web"})

    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False


def test_a_stale_worker_heartbeat_answers_503(client, settings, fresh_backup, require_redis):
    settings.REDIS_URL = require_redis
    cache.set(HEARTBEAT_KEY, time.time() - 3600)

    stale = client.get("/healthz")
    worker_heartbeat_record()
    fresh = client.get("/healthz")

    assert stale.status_code == 503
    assert stale.json()["checks"]["worker"]["ok"] is False
    assert fresh.status_code == 200, fresh.json()


def test_healthz_answers_any_host_over_plain_http(settings, fresh_backup):
    # docker-compose asks http://web:8000/healthz: neither ALLOWED_HOSTS nor the HTTPS
    # redirect may stand in the way
    from django.test import Client

    settings.REDIS_URL = ""
    settings.ALLOWED_HOSTS = ["opcms.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    response = Client().get("/healthz", HTTP_HOST="web:8000")

    assert response.status_code == 200
