"""Backup -> restore into another database gives identical counts and totals; retention."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from billing.operations.backups import (
    DUMP_NAME,
    MANIFEST_NAME,
    Database,
    backup_create,
    backup_restore,
    backups_prune,
    backups_to_keep,
    database_figures,
)
from tests import factories


@pytest.fixture
def empty_database(db):
    """A second, empty database on the same server, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restore"
    source = Database.default().with_name(connection.settings_dict["NAME"])
    with source.connect(autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield source.with_name(name)
    with source.connect(autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def money_world(ops_user, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    (tmp_path / "media" / "jobs").mkdir(parents=True)
    (tmp_path / "media" / "jobs" / "upload.xlsx").write_bytes(b"workbook bytes")
    from billing.payments.services import payment_allocate

    customer = factories.CustomerFactory()
    bill = factories.ApiBillFactory(customer=customer, total=Decimal("1234.56"))
    payment = factories.ApiPaymentFactory(customer=customer, amount=Decimal("1000.10"))
    payment_allocate(user=ops_user, payment=payment, allocations=[(bill, Decimal("900.05"))])
    return customer


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_another_database_gives_identical_figures(
    money_world, empty_database, tmp_path, settings
):
    # given a database with bills, payments, an allocation and an uploaded file
    before = database_figures()
    assert before["sums"] == {
        "bill_total": "1234.56",
        "payment_amount": "1000.10",
        "allocation_amount": "900.05",
    }
    # when it is backed up and restored into an empty database (media into a fresh root)
    manifest = backup_create(target=tmp_path / "backup")
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")
    backup_restore(source=tmp_path / "backup", database=empty_database)
    # then the restored database has the same row counts and totals as the manifest
    after = database_figures(empty_database)
    assert after["row_counts"] == manifest["row_counts"] == before["row_counts"]
    assert after["sums"] == manifest["sums"] == before["sums"]
    assert manifest["row_counts"]["billing_bill"] == 1
    assert (tmp_path / "restored-media" / "jobs" / "upload.xlsx").read_bytes() == b"workbook bytes"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty(money_world, tmp_path):
    backup_create(target=tmp_path / "backup")

    with pytest.raises(ValidationError, match="不是空库"):
        backup_restore(source=tmp_path / "backup", database=Database.default())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_dump_that_does_not_match_its_manifest(
    money_world, empty_database, tmp_path
):
    backup_create(target=tmp_path / "backup")
    with (tmp_path / "backup" / DUMP_NAME).open("ab") as dump:
        dump.write(b"tampered")

    with pytest.raises(ValidationError, match="校验和不符"):
        backup_restore(source=tmp_path / "backup", database=empty_database)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_restore_refuses_when_the_figures_differ_from_the_manifest(
    money_world, empty_database, tmp_path
):
    # given a manifest that claims one bill more than the dump holds
    backup_create(target=tmp_path / "backup")
    path = tmp_path / "backup" / MANIFEST_NAME
    manifest = json.loads(path.read_text())
    manifest["row_counts"]["billing_bill"] += 1
    path.write_text(json.dumps(manifest))
    # then the restore is refused, naming the table
    with pytest.raises(ValidationError) as refused:
        backup_restore(source=tmp_path / "backup", database=empty_database)
    assert "billing_bill" in " ".join(refused.value.messages)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_commands_back_up_and_restore(money_world, empty_database, tmp_path, capsys):
    call_command("backup", "--to", str(tmp_path / "b"))
    call_command("restore", str(tmp_path / "b"), "--database-name", empty_database.name)

    out = capsys.readouterr().out
    assert "backup=" in out and "checked=ok" in out


def test_retention_keeps_7_daily_4_weekly_12_monthly():
    # given two backups a day for 400 days
    start = dt.datetime(2025, 1, 1, 2, 0)  # noqa: DTZ001
    stamps = [start + dt.timedelta(hours=12 * n) for n in range(800)]
    # when retention decides
    kept = sorted(backups_to_keep(stamps))
    newest = stamps[-1]
    # then the newest of the last 7 days, 4 weeks and 12 months survive, and no more
    days = {s.date() for s in kept if (newest - s).days < 7}
    assert len(days) == 7
    assert newest in kept
    months = {(s.year, s.month) for s in kept}
    assert len(months) == 12
    assert len(kept) <= 7 + 4 + 12
    assert all(s >= newest - dt.timedelta(days=366) for s in kept)


def test_prune_deletes_what_retention_does_not_keep(tmp_path):
    for day in range(1, 21):
        (tmp_path / f"202511{day:02d}-020000").mkdir()
    (tmp_path / "not-a-backup").mkdir()

    removed = backups_prune(root=tmp_path)

    left = sorted(p.name for p in tmp_path.iterdir())
    assert "not-a-backup" in left
    assert "20251120-020000" in left and "20251114-020000" in left
    assert len(removed) == 20 - (len(left) - 1)
    assert len(left) - 1 <= 7 + 4 + 12
