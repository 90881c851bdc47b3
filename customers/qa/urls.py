"""Routes of Q&A: one entry's actions and attachments, the cross-customer search."""

from django.urls import path

from . import views

ISSUE = "<int:pk>/issues/<int:issue_pk>/"

urlpatterns = [
    path("issues/", views.issue_search, name="issue-search"),
    path(ISSUE, views.issue_detail, name="issue-detail"),
    path(f"{ISSUE}actions/", views.issue_action_add, name="issue-action-add"),
    path(
        f"{ISSUE}actions/<int:action_pk>/done/", views.issue_action_done, name="issue-action-done"
    ),
    path(
        f"{ISSUE}actions/<int:action_pk>/delete/",
        views.issue_action_delete,
        name="issue-action-delete",
    ),
    path(f"{ISSUE}attachments/", views.issue_attachment_add, name="issue-attachment-add"),
    path(
        f"{ISSUE}attachments/<int:attachment_pk>/",
        views.issue_attachment_download,
        name="issue-attachment-download",
    ),
    path(
        f"{ISSUE}attachments/<int:attachment_pk>/delete/",
        views.issue_attachment_delete,
        name="issue-attachment-delete",
    ),
]
