"""AuditFilter and JobFilter: the one filter of each accounts list (the jobs API shares JobFilter)."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from accounts.filters import AuditFilter, JobFilter
from accounts.models import Job
from tests import factories


@pytest.mark.django_db
def test_job_filter_narrows_by_status_and_kind(ops_user):
    # given jobs of two kinds and statuses
    done = factories.JobFactory(kind="customer_export", created_by=ops_user, status="succeeded")
    factories.JobFactory(kind="customer_export", created_by=ops_user, status="failed")
    factories.JobFactory(kind="usage_import", created_by=ops_user, status="succeeded")
    # when filtered by status and kind
    result = JobFilter({"status": "succeeded", "kind": "customer_export"}, Job.objects.all()).qs
    # then only the matching job remains
    assert list(result) == [done]


@pytest.mark.django_db
def test_job_api_uses_the_same_filter(client, ops_user):
    # given a succeeded and a failed job of the user
    factories.JobFactory(kind="a", created_by=ops_user, status="succeeded")
    failed = factories.JobFactory(kind="a", created_by=ops_user, status="failed")
    client.force_login(ops_user)
    # when the API list is filtered by status
    body = client.get(reverse("api:job-list"), {"status": "failed"}).json()
    # then it answers what the page's filter does
    rows = body["results"] if isinstance(body, dict) else body
    assert [row["id"] for row in rows] == [failed.pk]


@pytest.mark.django_db
def test_audit_filter_narrows_by_actor_and_object_text(admin_user, ops_user):
    # given audited changes by two users
    factories.CustomerFactory(name="审计甲公司")
    factories.CustomerFactory(name="审计乙公司")
    LogEntry.objects.filter(object_repr__contains="甲").update(actor=ops_user)
    LogEntry.objects.filter(object_repr__contains="乙").update(actor=admin_user)
    # when filtered by actor and by object text
    by_actor = AuditFilter({"actor": ops_user.pk}, LogEntry.objects.all()).qs
    by_text = AuditFilter({"q": "乙公司"}, LogEntry.objects.all()).qs
    # then each narrows to the matching entries only
    assert {e.actor_id for e in by_actor} == {ops_user.pk}
    assert by_text.count() >= 1 and all("乙公司" in e.object_repr for e in by_text)


@pytest.mark.django_db
def test_audit_filter_refuses_a_bad_date_instead_of_failing(admin_user):
    # when the date is not a date / then the form says so and nothing breaks
    audit_filter = AuditFilter({"date_from": "2025-13-40"}, LogEntry.objects.all())
    assert not audit_filter.is_valid()
    assert "date_from" in audit_filter.errors
