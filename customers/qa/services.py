"""Writes of Q&A and corrective measures: follow-up actions and attachments of one entry."""

from __future__ import annotations

import os
from typing import IO, Any

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction

from customers.models import IssueAction, IssueAttachment, QualityIssue
from customers.services import _assign, _full_clean, _require_edit

from .attachments import attachment_check


@transaction.atomic
def issue_action_save(
    *, user: Any, issue: QualityIssue, data: dict[str, Any], action: IssueAction | None = None
) -> IssueAction:
    """Add or change a follow-up action (what, owner, due date, done date) of a Q&A entry."""
    _require_edit(user, issue.customer)
    if action is None:
        action = IssueAction(issue=issue)
    elif action.issue_id != issue.pk:
        raise PermissionDenied("记录不属于该问题")
    _assign(action, {k: v for k, v in data.items() if k != "issue"})
    _full_clean(action)
    with set_actor(user):
        action.save()
    return action


@transaction.atomic
def issue_action_delete(*, user: Any, action: IssueAction) -> None:
    _require_edit(user, action.issue.customer)
    with set_actor(user):
        action.delete()


@transaction.atomic
def issue_attachment_add(
    *, user: Any, issue: QualityIssue, fileobj: IO[bytes], name: str, size: int
) -> IssueAttachment:
    """Check the file (size, type, content) and store it as media under the Q&A entry."""
    _require_edit(user, issue.customer)
    name = os.path.basename(name or "").strip()[:200]
    if not name:
        raise ValidationError("请选择要上传的附件")
    ext = attachment_check(fileobj, name=name, size=size)
    attachment = IssueAttachment(issue=issue, original_name=name, size_bytes=size, uploaded_by=user)
    # The stored name is ours, not the uploader's: no path tricks, no odd characters.
    attachment.file.save(f"issue-{issue.pk}.{ext}", File(fileobj), save=False)
    with set_actor(user):
        attachment.save()
    return attachment


@transaction.atomic
def issue_attachment_delete(*, user: Any, attachment: IssueAttachment) -> None:
    _require_edit(user, attachment.issue.customer)
    stored = attachment.file.name
    with set_actor(user):
        attachment.delete()
    # Remove the file only once the row is gone for good.
    transaction.on_commit(lambda: attachment.file.storage.delete(stored))
