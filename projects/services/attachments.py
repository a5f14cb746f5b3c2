"""Project files (R12): PDF or image only, judged by their bytes, at most 20 MB, outside the web root."""
from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from core.files import MAX_BYTES, sniff_content_type
from core.models import User
from core.services import audit_record

from .. import permissions as perms
from ..choices import AttachmentKind
from ..models import Attachment, Milestone, Project
from ._common import check


@transaction.atomic
def attachment_add(*, project: Project, actor: User, kind: str, file, milestone: Milestone | None = None) -> Attachment:
    """Store an uploaded file of the project (plan, agreement, policy; receipts and evidence for milestones)."""
    check(perms.can_upload(actor, project))
    if kind not in AttachmentKind.values:
        raise DomainError(_("附件类型无效"), code="invalid_kind", fields={"kind": [_("附件类型无效")]})
    if milestone is not None and milestone.project_id != project.pk:
        raise DomainError(_("里程碑不属于该项目"), code="invalid_milestone")
    size = file.size
    if size is None or size <= 0:
        raise DomainError(_("文件为空"), code="empty_file", fields={"file": [_("文件为空")]})
    if size > MAX_BYTES:
        raise DomainError(_("R12：文件超过 20 MB"), code="file_too_large", rule="R12",
                          fields={"file": [_("R12：文件不能超过 20 MB")]})
    file.seek(0)
    head = file.read(16)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise DomainError(_("R12：只接受 PDF 或图片文件（按文件内容判断）"), code="file_type", rule="R12",
                          fields={"file": [_("R12：只接受 PDF 或图片（PNG、JPEG、GIF、WebP）")]})
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    name = (getattr(file, "name", "") or "file").rsplit("/", 1)[-1][:255]
    attachment = Attachment(project=project, milestone=milestone, kind=kind, original_name=name,
                            content_type=content_type, size=size, sha256=digest.hexdigest(), uploaded_by=actor)
    attachment.file.save(name, file, save=False)
    attachment.save()
    audit_record(actor=actor, target=project, action="attachment_added",
                 data={"attachment": attachment.pk, "kind": kind, "name": name, "sha256": attachment.sha256})
    return attachment
