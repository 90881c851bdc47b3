"""JobTable and AuditTable on their pages: sorted and paged on the server, htmx gets the partial."""

import re

import pytest
from django.urls import reverse

from tests import factories


@pytest.mark.django_db
def test_job_list_sorts_on_the_server(client, ops_user):
    # given jobs titled out of order
    for title in ("乙任务", "甲任务", "丙任务"):
        factories.JobFactory(title=title, created_by=ops_user)
    client.force_login(ops_user)
    # when sorted by title descending
    page = client.get(reverse("accounts:job-list"), {"sort": "-title"}).content.decode()
    # then the rows come back in that order (code point order of the titles)
    positions = [page.index(t) for t in sorted(("乙任务", "甲任务", "丙任务"), reverse=True)]
    assert positions == sorted(positions)


@pytest.mark.django_db
def test_job_list_pages_by_thirty(client, ops_user):
    # given 31 jobs
    for n in range(31):
        factories.JobFactory(title=f"任务{n:02d}", created_by=ops_user)
    client.force_login(ops_user)
    # when the second page is asked for
    page = client.get(reverse("accounts:job-list"), {"page": 2}).content.decode()
    # then it holds the one job left over
    assert len(re.findall(r'href="/accounts/jobs/\d+/"', page)) == 1


@pytest.mark.django_db
def test_audit_list_htmx_gets_only_the_table(client, admin_user):
    # given an audited change
    factories.CustomerFactory(name="审计丙公司")
    client.force_login(admin_user)
    # when htmx asks for the list
    html = client.get(reverse("accounts:audit-list"), HTTP_HX_REQUEST="true").content.decode()
    # then only the table partial comes back, with the change in it
    assert html.lstrip().startswith('<div id="audit-table"')
    assert "审计丙公司" in html and "<html" not in html


@pytest.mark.django_db
def test_audit_rows_name_tags_and_users_instead_of_type_and_operation(client, ops_user):
    # given a tag added to a customer and its sales owner set
    from auditlog.models import LogEntry

    from accounts.tables import audit_change_rows

    owner = factories.UserFactory(username="owner-a", full_name="赵销售")
    customer = factories.CustomerFactory(name="可读房产")
    customer.tags.add(factories.TagFactory(name="重点客户"))
    customer.sales_owner = owner
    customer.save()
    entries = list(LogEntry.objects.get_for_object(customer).order_by("pk"))

    # when the rows are rendered
    created, tagged, owned = (audit_change_rows(e) for e in entries)

    # then the tag change reads "添加 重点客户", the owner by name, and the created
    # entry lists no empty reverse relations (`billing.Bill.None`)
    assert tagged == [("标签", "添加 重点客户")]
    assert owned == [("销售负责人", "— → 赵销售")]
    assert not any(".None" in text for _, text in created)
    assert ("公司名称", "— → 可读房产") in created
    # and ops read the page, where the same text shows
    client.force_login(ops_user)
    page = client.get(reverse("accounts:audit-list")).content.decode()
    assert "添加 重点客户" in page
    assert "type → objects" not in page
