"""Bench of the customer import and export (issue 4). Prints its figures; not a test.

    DJANGO_SETTINGS_MODULE=opcms.settings.local \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opcms_bench \
    .venv/bin/python bench/import_customers.py [--rows 100000]

Wipes the customers of the target database first. Measures:
1. the 1,320-row sample, end to end through the import job (target < 3 s);
2. N generated rows through the same job (issue 17: <= 10 s for 100,000, peak RSS < 300 MB;
   the unchanged re-import <= 5 s), with the process's own CPU beside the wall time;
3. the raw openpyxl read-only parse of the same generated file, and import / raw-parse,
   beside the project's upload reader (python-calamine) on the same file;
4. export of every customer to .xlsx (target < 30 s for 100,000).

Measured 2026-11-22 on the 2-core machine, PostgreSQL 15, load average ~3:
sample 0.29 s (re-import 0.22 s); 100,000 rows 13.8 s, peak RSS 259 MB;
re-import unchanged 12.2 s; 100,000 updates 17.5 s; raw openpyxl parse 4.7 s
(import / raw parse 2.9); export of 101,318 customers to .xlsx 9.4 s.
Under load ~9 (other jobs on the machine) the same run gave 1.2 s / 39 s /
15.8 s raw / 29.6 s export.
With the workbook prices handed to billing (plans made in bulk, COPY on
PostgreSQL), 2026-11-22, load ~3: sample 0.33 s (re-import 0.19 s); 100,000
rows 19.6 s, peak RSS 280 MB; re-import unchanged 12.7 s; 100,000 updates
22.9-29.9 s; raw parse 6.4 s (ratio 3.05); export 12.4 s. (Per-row plan
services had made these 101 s and 158 s.)

Issue 17, 2026-12-01, same machine shared with other engineers (load average 8-10, under
which the calamine read of the 100,000-row file took 2.4-6.4 s instead of ~1.3 s):
main 71 s wall / 21 s CPU, peak 511 MB; unchanged re-import 29 s / 9.2 s CPU. After:
36-56 s wall / 6.3-7.2 s CPU, peak 295 MB; unchanged 10.4-12.4 s / 3.2-3.8 s CPU. The
CPU went from pinyin (9.0 -> 0.7 s), normalising (2.2 -> 0.8), the comparison (3.2 -> 0.6),
duplicates (0.9 -> 0.1). Most of the remaining wall time of a first import is
PostgreSQL's: the 15 secondary indexes of customers_customer (three trigram GIN) make
inserting 20,000 customers 2.2 s against 0.2 s without them, plus the deferred foreign-key
checks at commit; the process's own CPU is printed beside the wall time.

Issue 17, indexes (customers 0006), 2026-12-01, load average 4-7 throughout (the machine
shared): the run also prints its PostgreSQL backend's CPU, which load moves far less than
wall time. Per phase of a first import of 100,000 rows (wall / backend CPU): COPY of the
customers 3.8 / 2.6 s -> 2.5 / 1.6 s (15 -> 10 secondary indexes maintained; the UPPER(name)
trigram twin alone cost 1.2 s, the two varchar_pattern_ops twins 0.7 s); progress reports
while reading 200 -> 50 committed UPDATEs (0.4-1.0 s -> 0.1-0.2 s). Process + PostgreSQL
CPU 10.4-11.7 s -> 8.7-9.9 s (three alternating pairs); wall 9.1 s at load 3.8, 16-19 s at
load 4-7 (main: 15-30 s at the same loads). Unchanged re-import 2.3-4.8 s (2.2-2.7 s CPU).
What is left of PostgreSQL's share: the deferred foreign-key checks at commit (~1.8 s of
backend CPU: ~600,000 RI trigger events, one per foreign key of every row written, all
rows the import must write) and the name's trigram index (the search needs it).

Issue 17, session 2 (import CPU), 2026-12-01, load average 3-7 throughout (the machine
shared; the calamine read of the file took 2.0-4.6 s). Six alternating before/after pairs
of the import job alone (first import, then the unchanged re-import), process CPU
before -> after: first import 8.2-11.0 (mean 9.5) -> 5.9-8.5 (mean 7.1) s; unchanged
re-import 3.6-6.8 (mean 4.9) -> 3.2-4.6 (mean 3.8) s. PostgreSQL's CPU unchanged (9-13 s
both ways: load moves it by 40 %). Wall, same pairs: first 25.6-34.0 (mean 29.2) ->
21.9-31.8 (mean 26.2) s, re-import 7.0-12.4 (mean 8.9) -> 3.8-8.2 (mean 6.5) s. The
full bench, two alternating pairs: import 20.4-32.5 s before, 16.7-43.7 s after (process
CPU 7.0-9.8 -> 5.9-8.5 s), peak RSS 296 MB both. From: pinyin runs found by one regex
(0.64 -> 0.30 s for the 100,000 names), ANY() parameters sent as array literals (psycopg
dumped 100,000 ids in 0.1 s and names in 0.2-0.3 s), new customers' pks taken from the
sequence (no read-back), no second per-cell length check (normalising 1.05-1.27 ->
0.77-0.83 s), new price plans copied from one constructed plan (0.38-0.70 -> 0.1-0.2 s) and
written with their empty bands prepared once (0.31-0.51 -> 0.15-0.24 s), progress
reports committed without waiting for the WAL flush (50: 0.18 -> 0.02 s wall).
Where a first import's time goes (process / PostgreSQL CPU, one run at load ~4 before the plans
changes): reading 1.7 / 0; analysis 1.2 / 0.4; customers' COPY 1.3 / 4.3 (of which index
upkeep ~3.3 s: the name's trigram GIN 1.2-1.7 s, the 11 b-trees ~2 s; the COPY into the
table with only its two unique indexes is 0.7-1.2 s); history COPY 0.6 / 0.7; price plans
1.8 / 0.6; COMMIT 0 / 3.0 (the deferred foreign-key checks, per constraint 0.06-0.69 s:
a NULL key ~1.4 us an event, a set one ~6 us). Overlapping the process with PostgreSQL
was measured and not done: the Python-only phases (reading, analysis) precede anything
that may be written (duplicates and the archive comparison need the whole file, and
calamine parses the whole sheet before the first row), the PostgreSQL-only one (commit)
follows the last Python work, and the plans read from the import's own connection first;
streaming the COPY during the analysis could hide the normalising alone (~1 s) at the
price of a second import path. Tried, no gain: SET CONSTRAINTS ... IMMEDIATE per chunk
(two runs, -1.9 and +1.0 s of backend CPU: noise), binary COPY (-0.1 s), work_mem 64 MB
for the GIN pending-list merge (none). A 2 GB gin_pending_list_limit saved ~0.7 s of the
COPY by leaving the trigram merge to autovacuum, with every name search scanning the
unmerged list until then: not done.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opcms.settings.local")

import django  # noqa: E402

django.setup()

import openpyxl  # noqa: E402
import xlsxwriter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import Job, User  # noqa: E402
from accounts.services import job_create, job_run  # noqa: E402
from bench._common import quiet, require_scratch_database, result, wipe_customers  # noqa: E402
from billing.workbook.services import customer_import_job_work  # noqa: E402
from customers.exports import EXPORT_FIELDS, export_write  # noqa: E402
from customers.importers import COLUMNS  # noqa: E402
from customers.models import Customer, ImportedPrice  # noqa: E402
from opcms.spreadsheets import spreadsheet_read  # noqa: E402

SAMPLE = Path(settings.BASE_DIR) / "fixtures" / "customers_sample.xlsx"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wipe() -> None:
    wipe_customers(ImportedPrice._meta.db_table)


def generate(path: Path, rows: int, seed: int = 4) -> None:
    """A workbook shaped like the company's, with the same kinds of dirt, `rows` data rows."""
    rng = random.Random(seed)
    cities = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "天津"]
    kinds = ["房产经纪", "置业顾问", "地产代理", "租赁服务", "房地产开发"]
    owners = ["王珂", "赵一鸣", "孙晓", "#N/A", "#N/A", "#N/A", 0, "—"]
    notes = ["正常使用", "近一年未使用", "待确认", "商务阶段", None, None, "待确认  @孙晓"]
    # Shared strings, as Excel itself writes them (constant_memory would write
    # inline strings, which openpyxl parses about twice as slowly).
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    sheet = workbook.add_worksheet("房产客户分月用量1225（L）")
    sheet.write_row(0, 0, [c.label for c in COLUMNS])
    for i in range(1, rows + 1):
        priced = i % 9 == 0
        sheet.write_row(
            i,
            0,
            [
                100_000 + i,
                f"{rng.choice(cities)}{rng.choice(['广厦', '远景', '明珠', '锦绣'])}{rng.choice(kinds)}有限公司{i}",
                rng.choice(["正式", "正式", "众趣内部", "客户测试账号"]),
                rng.choice(["项目", "房产经纪", "无", "房产ERP"]),
                rng.choice(["", "", "", "易遨", "巧房"]),
                rng.choice(["", "", "25上半年", "26年上半年"]),
                rng.choice(["#N/A", "S", "A", "B", "C", "D"]),
                rng.choice(owners),
                rng.choice(["", "", " @钱多", " @李静\n @高远", "-"]),
                rng.choice(notes) or "",
                rng.choice(["", "是", "否", "待确认"]),
                rng.choice(["是", "否", "否"]),
                "尽可能转新方案，关停" if i % 50 == 0 else "",
                "定价结算" if priced else "#N/A",
                rng.choice([8, 10, 12.5, "12", "1m²1元"]) if priced else "#N/A",
                rng.choice([0, 15, "14+（F-1）*10", "6+(F-1)*6"]) if priced else "#N/A",
                rng.choice(["C2", "C3", "C6", 0]) if priced else "#N/A",
                rng.randint(0, 200) if priced else "#N/A",
            ],
        )
    workbook.close()


CPU: dict[str, float | None] = {}  # the last import_job's process CPU ("last") and its
# PostgreSQL backend's ("db"): neither is moved by other jobs on the machine, as wall time is.


def backend_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend, or None when the server is not
    on this machine (its /proc entry is not readable)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def cpu_text(process: float | None, db: float | None) -> str:
    if db is None:
        return f"CPU {process:.1f} s"
    return f"CPU {process:.1f} s + PostgreSQL {db:.1f} s = {process + db:.1f} s"


def import_job(path: Path, user: User) -> tuple[float, Job]:
    db_started = backend_cpu()
    started = time.perf_counter()
    cpu_started = time.process_time()
    job = job_create(
        kind="customer_import",
        created_by=user,
        title=f"bench {path.name}",
        params={"filename": path.name, "series": "", "valid_from": "", "mapping": None},
        input_name=path.name,
        input_bytes=path.read_bytes(),
    )
    job = job_run(job_id=job.pk, work=customer_import_job_work)
    CPU["last"] = time.process_time() - cpu_started
    seconds = time.perf_counter() - started
    db_now = backend_cpu()
    CPU["db"] = None if db_started is None or db_now is None else db_now - db_started
    return seconds, job


def raw_parse(path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()
    count = sum(1 for _ in sheet.iter_rows(values_only=True))
    workbook.close()
    return time.perf_counter() - started, count


def reader_parse(path: Path) -> tuple[float, int]:
    """The same file through the project's upload reader (python-calamine, all checks)."""
    started = time.perf_counter()
    book = spreadsheet_read(path.read_bytes(), filename=path.name)
    count = len(next(book.sheets()).rows)
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--generate", default="")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    if args.generate:
        generate(Path(args.generate), args.rows, args.seed)
        return
    require_scratch_database()
    quiet()
    # Measure as production runs: DEBUG on would keep every SQL string in memory.
    settings.DEBUG = False
    user, _ = User.objects.get_or_create(
        username="bench", defaults={"full_name": "压测", "role": "ops"}
    )
    # The owners the workbook names exist as users, as they would in production.
    for n, full_name in enumerate(["王珂", "赵一鸣", "孙晓", "钱多", "李静", "高远"]):
        User.objects.get_or_create(
            username=f"bench{n}", defaults={"full_name": full_name, "role": "sales"}
        )
    print(f"database: PostgreSQL {settings.DATABASES['default']['NAME']}")

    wipe()
    seconds, job = import_job(SAMPLE, user)
    assert job.status == Job.Status.SUCCEEDED, job.message
    print(f"sample 1,320 rows via job: {seconds:.2f} s  result={job.result}")
    seconds, job = import_job(SAMPLE, user)
    print(f"sample re-import via job:  {seconds:.2f} s  result={job.result}")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.xlsx"
        started = time.perf_counter()
        # Generated in a child process so its memory does not count in the import's peak.
        subprocess.run(  # noqa: S603
            [sys.executable, __file__, "--generate", str(path), "--rows", str(args.rows)],
            check=True,
        )
        print(
            f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f} s, "
            f"{path.stat().st_size / 1e6:.1f} MB"
        )
        rss_before = peak_rss_mb()
        import_seconds, job = import_job(path, user)
        import_cpu = cpu_text(CPU["last"], CPU["db"])
        import_rss = peak_rss_mb()
        assert job.status == Job.Status.SUCCEEDED, job.message
        print(
            f"import {args.rows:,} rows via job: {import_seconds:.1f} s ({import_cpu}) "
            f"result={job.result}  "
            f"peak RSS {peak_rss_mb():.0f} MB (before {rss_before:.0f} MB)"
        )
        again_seconds, job = import_job(path, user)
        again_cpu = cpu_text(CPU["last"], CPU["db"])
        print(
            f"re-import {args.rows:,} rows via job (all unchanged): {again_seconds:.1f} s "
            f"({again_cpu}) result={job.result}"
        )
        changed = Path(tmp) / "changed.xlsx"
        subprocess.run(  # noqa: S603
            [
                sys.executable,
                __file__,
                "--generate",
                str(changed),
                "--rows",
                str(args.rows),
                "--seed",
                "5",
            ],
            check=True,
        )
        update_seconds, job = import_job(changed, user)
        print(
            f"import {args.rows:,} rows with other values (updates): {update_seconds:.1f} s  result={job.result}"
        )
        raw_seconds, count = raw_parse(path)
        print(f"raw openpyxl read-only parse: {raw_seconds:.1f} s ({count:,} rows)")
        reader_seconds, count = reader_parse(path)
        print(f"upload reader (python-calamine) parse: {reader_seconds:.1f} s ({count:,} rows)")
        print(f"ratio import / raw parse: {import_seconds / raw_seconds:.2f}")
        yardstick = f"openpyxl read {raw_seconds:.1f} s, calamine read {reader_seconds:.1f} s"
        scale = min(1.0, args.rows / 100_000)  # smaller files: the same rate
        result(
            f"customer import {args.rows:,} rows",
            f"{import_seconds:.1f} s ({import_cpu}), peak RSS {import_rss:.0f} MB",
            f"<= {10 * scale:.2g} s, < 300 MB",
            yardstick,
            import_seconds <= 10 * scale and import_rss < 300,
        )
        result(
            f"customer re-import {args.rows:,} rows unchanged",
            f"{again_seconds:.1f} s ({again_cpu})",
            f"<= {5 * scale:.2g} s",
            yardstick,
            again_seconds <= 5 * scale,
        )

        out = Path(tmp) / "export.xlsx"
        total = Customer.objects.count()
        started = time.perf_counter()
        with out.open("wb") as fileobj:
            exported = export_write(
                queryset=Customer.objects.all(),
                fields=list(EXPORT_FIELDS),
                fmt="xlsx",
                output=fileobj,
            )
        print(
            f"export {exported:,} of {total:,} customers to xlsx: {time.perf_counter() - started:.1f} s, "
            f"{out.stat().st_size / 1e6:.1f} MB, peak RSS {peak_rss_mb():.0f} MB"
        )


if __name__ == "__main__":
    main()
