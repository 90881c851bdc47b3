"""`close_period YYYY-MM [--check] [--force-reason TEXT]`: one line per gate, then closed=yes/no."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from billing.models import Bill, Period
from tests.factories import BillFactory

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, list[str]]:
    out = StringIO()
    try:
        call_command("close_period", *args, stdout=out, stderr=StringIO())
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue().strip().splitlines()


def test_a_red_gate_keeps_the_month_open_and_exits_non_zero(admin_user):
    BillFactory(status=Bill.Status.DRAFT)

    code, lines = run("2025-10", "--check")
    assert code == 1
    assert len(lines) == 6 and lines[-1] == "closed=no"
    assert lines[3].startswith("drafts: red count=1")

    code, lines = run("2025-10")
    assert (code, lines[-1]) == (1, "closed=no")
    assert not Period.objects.filter(status=Period.Status.CLOSED).exists()


def test_force_reason_closes_and_records_the_override(admin_user):
    BillFactory(status=Bill.Status.DRAFT)

    code, lines = run("2025-10", "--force-reason", "草稿下月处理")

    assert (code, lines[-1]) == (0, "closed=yes")
    period = Period.objects.get()
    assert period.is_closed
    assert period.overrides.get().reason == "草稿下月处理"


def test_all_green_closes(admin_user):
    code, lines = run("2025-10", "--check")
    assert (code, lines[-1]) == (0, "closed=no")  # --check never closes
    code, lines = run("2025-10")
    assert (code, lines[-1]) == (0, "closed=yes")
    assert all(": green count=0" in line for line in lines[:-1])
