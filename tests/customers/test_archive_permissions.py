"""Permission matrix of the issue-18 sections and actions: roles x routes, out of scope is 404."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import AdAccount, BusinessProfile, IssueAction, Project, WebsiteInfo
from tests.factories import AdAccountFactory, ProjectFactory, QualityIssueFactory

from . import test_permissions
from .test_permissions import ACCESS, ROLES, as_, expected

# The same users and customer as the issue-3 matrix (admin, ops, owner, manager, lead, outsider).
world = test_permissions.world

NEW_SECTIONS = {
    "projects": ({"name": "年度拍摄", "kind": "shooting", "status": "in_progress"}, Project),
    "adaccounts": ({"platform": "google", "account_id": "123-456", "status": "active"}, AdAccount),
}
PROFILES = {
    "business": ({"business_model": "brand", "overseas_sales": "100000"}, BusinessProfile),
    "website": ({"site_url": "https://shop.example.com", "build_status": "live"}, WebsiteInfo),
}


@pytest.mark.parametrize("section", list(NEW_SECTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_new_row_sections(client, world, role, section):
    customer = world["customer"]
    data, model = NEW_SECTIONS[section]
    client = as_(client, world, role)
    url = reverse("customers:customer-section-new", args=[customer.pk, section])

    assert client.get(url, HTTP_HX_REQUEST="true").status_code == expected(role)
    response = client.post(url, data, HTTP_HX_REQUEST="true")

    assert response.status_code == expected(role)
    assert model.objects.filter(customer=customer).count() == (ACCESS[role] == "edit")


EDITS = {
    "projects": (
        ProjectFactory,
        {"name": "改名的项目", "kind": "website", "status": "done"},
        "name",
        "改名的项目",
    ),
    "adaccounts": (
        AdAccountFactory,
        {"platform": "facebook", "account_id": "999", "status": "paused"},
        "status",
        "paused",
    ),
}


@pytest.mark.parametrize("section", list(EDITS))
@pytest.mark.parametrize("role", ROLES)
def test_new_row_sections_edit_and_delete(client, world, role, section):
    customer = world["customer"]
    factory, data, field, changed = EDITS[section]
    row = factory(customer=customer)
    client = as_(client, world, role)
    edit = reverse("customers:customer-section-edit", args=[customer.pk, section, row.pk])
    delete = reverse("customers:customer-section-delete", args=[customer.pk, section, row.pk])

    assert client.post(edit, data, HTTP_HX_REQUEST="true").status_code == expected(role)
    edits = ACCESS[role] == "edit"
    row.refresh_from_db()
    assert (getattr(row, field) == changed) == edits
    assert client.post(delete, HTTP_HX_REQUEST="true").status_code == expected(role)
    assert type(row).objects.filter(pk=row.pk).exists() == (not edits)


@pytest.mark.parametrize("section", list(PROFILES))
@pytest.mark.parametrize("role", ROLES)
def test_profile_sections(client, world, role, section):
    customer = world["customer"]
    data, model = PROFILES[section]
    client = as_(client, world, role)
    url = reverse("customers:customer-profile", args=[customer.pk, section])

    assert client.get(url, HTTP_HX_REQUEST="true").status_code == (
        404 if role == "outsider" else 200
    )
    assert client.get(url + "?edit=1", HTTP_HX_REQUEST="true").status_code == expected(role)
    response = client.post(url, data, HTTP_HX_REQUEST="true")

    assert response.status_code == expected(role)
    assert model.objects.filter(customer=customer).exists() == (ACCESS[role] == "edit")


@pytest.mark.parametrize("role", ROLES)
def test_issue_actions_and_attachments(client, world, role):
    customer = world["customer"]
    issue = QualityIssueFactory(customer=customer)
    client = as_(client, world, role)
    args = [customer.pk, issue.pk]

    page = client.get(reverse("customers:issue-detail", args=args))
    add = client.post(
        reverse("customers:issue-action-add", args=args),
        {"description": "每周回访", "due_on": "2026-12-31"},
    )
    upload = client.post(
        reverse("customers:issue-attachment-add", args=args),
        {"file": SimpleUploadedFile("说明.txt", "延迟原因说明".encode())},
    )

    assert page.status_code == (404 if role == "outsider" else 200)
    assert add.status_code == expected(role, ok=302)
    assert upload.status_code == expected(role, ok=302)
    edits = ACCESS[role] == "edit"
    assert IssueAction.objects.filter(issue=issue).exists() == edits
    assert issue.attachments.exists() == edits
    if edits:
        attachment = issue.attachments.get()
        download = client.get(
            reverse("customers:issue-attachment-download", args=[*args, attachment.pk])
        )
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == "延迟原因说明".encode()
        assert "attachment" in download["Content-Disposition"]


@pytest.mark.parametrize("role", ROLES)
def test_issue_action_done_and_delete_and_attachment_delete(client, world, role):
    customer = world["customer"]
    issue = QualityIssueFactory(customer=customer)
    done = IssueAction.objects.create(issue=issue, description="回访")
    gone = IssueAction.objects.create(issue=issue, description="发邮件")
    client.force_login(world["users"]["admin"])
    client.post(
        reverse("customers:issue-attachment-add", args=[customer.pk, issue.pk]),
        {"file": SimpleUploadedFile("a.txt", b"plain text")},
    )
    attachment = issue.attachments.get()
    client = as_(client, world, role)
    args = [customer.pk, issue.pk]

    responses = [
        client.post(reverse("customers:issue-action-done", args=[*args, done.pk])),
        client.post(reverse("customers:issue-action-delete", args=[*args, gone.pk])),
        client.post(reverse("customers:issue-attachment-delete", args=[*args, attachment.pk])),
    ]

    assert [r.status_code for r in responses] == [expected(role, ok=302)] * 3
    edits = ACCESS[role] == "edit"
    done.refresh_from_db()
    assert (done.done_on is not None) == edits
    assert IssueAction.objects.filter(pk=gone.pk).exists() == (not edits)
    assert issue.attachments.exists() == (not edits)


def test_issue_and_attachment_urls_answer_404_out_of_scope(client, world):
    customer = world["customer"]
    issue = QualityIssueFactory(customer=customer)
    action = IssueAction.objects.create(issue=issue, description="x")
    client.force_login(world["users"]["admin"])
    client.post(
        reverse("customers:issue-attachment-add", args=[customer.pk, issue.pk]),
        {"file": SimpleUploadedFile("a.txt", b"plain text")},
    )
    attachment = issue.attachments.get()
    client.force_login(world["users"]["outsider"])
    args = [customer.pk, issue.pk]
    urls = [
        reverse("customers:issue-detail", args=args),
        reverse("customers:issue-action-add", args=args),
        reverse("customers:issue-action-done", args=[*args, action.pk]),
        reverse("customers:issue-action-delete", args=[*args, action.pk]),
        reverse("customers:issue-attachment-add", args=args),
        reverse("customers:issue-attachment-download", args=[*args, attachment.pk]),
        reverse("customers:issue-attachment-delete", args=[*args, attachment.pk]),
        reverse("customers:customer-profile", args=[customer.pk, "business"]),
        reverse("customers:customer-section-new", args=[customer.pk, "projects"]),
        reverse("customers:customer-section-new", args=[customer.pk, "adaccounts"]),
    ]
    for url in urls:
        assert client.get(url).status_code in (404, 405), url
        assert client.post(url, {}).status_code == 404, url


SETTINGS_ACCESS = {
    # route name, args -> roles allowed
    ("customers:settings", ()): {"admin", "ops"},
    ("customers:setting-list", ("dictionary",)): {"admin", "ops"},
    ("customers:setting-list", ("mapping",)): {"admin", "ops"},
    ("customers:setting-list", ("categories",)): {"admin"},
    ("customers:setting-list", ("lifecycle-rules",)): {"admin", "ops"},
    ("customers:field-visibility", ()): {"admin"},
}


@pytest.mark.parametrize("route", list(SETTINGS_ACCESS), ids=lambda r: "-".join([r[0], *r[1]]))
@pytest.mark.parametrize("role", ROLES)
def test_settings_pages(client, world, role, route):
    name, args = route

    response = as_(client, world, role).get(reverse(name, args=args))

    assert response.status_code == (200 if role in SETTINGS_ACCESS[route] else 403)


@pytest.mark.parametrize("role", ROLES)
def test_issue_search_is_open_to_every_role(client, world, role):
    response = as_(client, world, role).get(reverse("customers:issue-search"))

    assert response.status_code == 200
