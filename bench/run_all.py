"""Run every bench against a scratch database and print one table (what `make bench` runs).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opcms_bench .venv/bin/python bench/run_all.py
    ... bench/run_all.py --tiny      # every bench at a tiny size: seconds, no timing asserted
    ... bench/run_all.py --only reports load

The database must be named opcms_bench* (benches truncate tables); it is created and
migrated if needed. Each bench runs in its own process and prints RESULT lines
(bench/_common.py); this collects them into: path, figure, target, yardstick, pass/miss,
load average. The exit status is non-zero when a bench fails to run (not when it misses
its target), so CI catches a bench a model change broke.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "RESULT\t"

# name: (script and full-size arguments, tiny arguments)
BENCHES: dict[str, tuple[list[str], list[str]]] = {
    "import": (
        ["import_customers.py", "--rows", "100000"],
        ["import_customers.py", "--rows", "200"],
    ),
    "bills": (
        ["generate_bills.py", "--sizes", "1320", "100000"],
        ["generate_bills.py", "--sizes", "40"],
    ),
    "receipts": (["receipts_import.py", "1000"], ["receipts_import.py", "20"]),
    "statement": (["statement_pdf.py", "subset", "150"], ["statement_pdf.py", "subset", "5"]),
    "customers": (
        ["customers_list.py", "--customers", "100000"],
        ["customers_list.py", "--customers", "200"],
    ),
    "reports": (
        ["reports.py", "--customers", "100000"],
        ["reports.py", "--customers", "60", "--runs", "2"],
    ),
    "api": (["api_ingest.py", "--records", "10000"], ["api_ingest.py", "--records", "200"]),
    "whatif": (["whatif.py", "--customers", "100000"], ["whatif.py", "--customers", "50"]),
    "load": (
        ["load.py", "--users", "20", "50", "100", "--duration", "60"],
        ["load.py", "--users", "3", "--duration", "4", "--workers", "1"],
    ),
    "pages": (["load_pages.py", "--repeat", "20"], ["load_pages.py", "--repeat", "1"]),
}


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("opcms_bench"):
        raise SystemExit(
            f"DATABASE_URL names {name!r}: benches need a scratch database opcms_bench*"
        )
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"], check=True
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--tiny", action="store_true", help="tiny sizes: does every bench still run?"
    )
    parser.add_argument("--only", nargs="*", choices=list(BENCHES), default=list(BENCHES))
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opcms.settings.local")
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/opcms_bench")
    os.environ["DATABASE_URL"] = url
    ensure_database(url)

    rows: list[list[str]] = []
    failed: list[str] = []
    for name in args.only:
        full, tiny = BENCHES[name]
        command = [sys.executable, str(ROOT / "bench" / (tiny if args.tiny else full)[0])]
        command += (tiny if args.tiny else full)[1:]
        print(f"== {name}: {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
        )
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(RESULT_PREFIX):
                rows.append(line.rstrip("\n").split("\t")[1:])
            else:
                sys.stdout.write("   " + line)
        status = process.wait()
        print(f"   ({name}: exit {status}, {time.perf_counter() - started:.0f} s)", flush=True)
        if status != 0:
            failed.append(name)
            rows.append([f"{name}: bench failed (exit {status})", "-", "-", "-", "ERROR", "-"])

    header = ["path", "figure", "target", "yardstick", "verdict", "load avg"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        if args.tiny and row[4] in ("pass", "miss", "n/a"):
            row = [*row[:4], "(tiny)", row[5]]
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    if failed:
        print(f"\nbenches that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
