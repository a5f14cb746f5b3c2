"""Project files (R12): PDF or image only, judged by their bytes, at most 20 MB, outside the web root."""
from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from core.files import check_upload
from core.models import User
from core.services import audit_record

from .. import permissions as perms
from ..choices import AttachmentKind
from ..models import Attachment, Milestone, Project
from ._common import check


def store_attachment(*, project: Project, milestone: Milestone | None, kind: str, file, actor: User) -> Attachment:
    """Check the file (R12: PDF or image by its bytes, at most 20 MB), hash it and store it.

    The one place an Attachment row is written; callers check who may upload and audit the step.
    """
    content_type = check_upload(file)
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    name = (getattr(file, "name", "") or "file").rsplit("/", 1)[-1][:255]
    attachment = Attachment(project=project, milestone=milestone, kind=kind, original_name=name,
                            content_type=content_type, size=file.size, sha256=digest.hexdigest(), uploaded_by=actor)
    attachment.file.save(name, file, save=False)
    attachment.save()
    return attachment


@transaction.atomic
def attachment_add(*, project: Project, actor: User, kind: str, file, milestone: Milestone | None = None) -> Attachment:
    """Store an uploaded file of the project (plan, agreement, policy; receipts and evidence for milestones)."""
    check(perms.can_upload(actor, project))
    if kind not in AttachmentKind.values:
        raise DomainError(_("附件类型无效"), code="invalid_kind", fields={"kind": [_("附件类型无效")]})
    if milestone is not None and milestone.project_id != project.pk:
        raise DomainError(_("里程碑不属于该项目"), code="invalid_milestone")
    attachment = store_attachment(project=project, milestone=milestone, kind=kind, file=file, actor=actor)
    audit_record(actor=actor, target=project, action="attachment_added",
                 data={"attachment": attachment.pk, "kind": kind, "name": attachment.original_name,
                       "sha256": attachment.sha256})
    return attachment
