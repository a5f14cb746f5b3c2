"""Project files (R12): PDF or image only, judged by their bytes, at most 20 MB, outside the web root.

The proposal's documents (R12: the cooperation plan, the agreement, and the policy of an insured project)
are filed with the proposal through ``documents_store`` and required at submission and again at 受理
by ``documents_check``.
"""
from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.exceptions import DomainError
from core.files import check_upload
from core.models import User
from core.services import audit_record

from .. import permissions as perms
from ..choices import AttachmentKind
from ..models import Attachment, Milestone, Project
from ._common import check


def store_attachment(*, project: Project, milestone: Milestone | None, kind: str, file, actor: User,
                     field: str = "file") -> Attachment:
    """Check the file (R12: PDF or image by its bytes, at most 20 MB), hash it and store it.

    The one place an Attachment row is written; callers check who may upload and audit the step.
    """
    content_type = check_upload(file, field=field)
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
def attachment_add(*, project: Project, actor: User, kind: str, file, milestone: Milestone | None = None,
                   field: str = "file") -> Attachment:
    """Store an uploaded file of the project (plan, agreement, policy; receipts and evidence for milestones)."""
    check(perms.can_upload(actor, project))
    if kind not in AttachmentKind.values:
        raise DomainError(_("附件类型无效"), code="invalid_kind", fields={"kind": [_("附件类型无效")]})
    if milestone is not None and milestone.project_id != project.pk:
        raise DomainError(_("里程碑不属于该项目"), code="invalid_milestone")
    attachment = store_attachment(project=project, milestone=milestone, kind=kind, file=file, actor=actor,
                                  field=field)
    audit_record(actor=actor, target=project, action="attachment_added",
                 data={"attachment": attachment.pk, "kind": kind, "name": attachment.original_name,
                       "sha256": attachment.sha256})
    return attachment


# R12: what a proposal files with the bureau; the policy only when the cooperation is insured (R9).
DOCUMENT_KINDS = (AttachmentKind.PLAN, AttachmentKind.AGREEMENT, AttachmentKind.POLICY)


def documents_store(*, project: Project, actor: User, documents: dict | None) -> list[Attachment]:
    """File the proposal's documents (``{kind: file}``, a missing or empty one skipped) inside the caller's
    transaction: a refused file (its bytes, its size) refuses the whole save, naming its field (the kind)."""
    sent = [(kind, (documents or {}).get(kind)) for kind in DOCUMENT_KINDS]
    sent = [(kind, file) for kind, file in sent if file]
    for kind, file in sent:  # every file judged before any is stored: a refusal leaves no file behind
        check_upload(file, field=kind)
    return [attachment_add(project=project, actor=actor, kind=kind, file=file, field=kind) for kind, file in sent]


def documents_required(project: Project) -> list[str]:
    """The kinds a proposal must have on file: plan and agreement, and the policy when insured (R12)."""
    kinds = [AttachmentKind.PLAN, AttachmentKind.AGREEMENT]
    return [*kinds, AttachmentKind.POLICY] if project.insured else kinds


def documents_check(project: Project, *, step: str) -> None:
    """Refuse ``step`` ("submit" or "accept", 受理) while a required document is missing, naming each one beside
    its field (the kind) and the rule as a reference: words first, then the rule id (R12)."""
    on_file = set(project.attachments.filter(milestone__isnull=True).values_list("kind", flat=True))
    missing = [kind for kind in documents_required(project) if kind not in on_file]
    if not missing:
        return
    labels = dict(AttachmentKind.choices)
    listed = pgettext("标点", "、").join(str(labels[kind]) for kind in missing)
    detail = (_("尚未上传%(m)s，不能提交申报：申报须报备合作方案和合作协议，投保项目另附保单") if step == "submit"
              else _("尚未上传%(m)s，不能受理：申报须报备合作方案和合作协议，投保项目另附保单"))
    raise DomainError(
        detail % {"m": listed}, code="attachments_missing", rule="R12",
        fields={str(kind): [_("请上传%(m)s") % {"m": labels[kind]}] for kind in missing})
