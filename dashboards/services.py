"""Writes of the dashboards app: publishing exemplary cases (R18)."""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core.choices import Role
from core.exceptions import DomainError
from core.permissions import require_role
from core.services import audit_record
from projects.choices import ProjectState as S
from projects.models import Project

PUBLISHABLE = (S.APPROVED, S.ACTIVE, S.COMPLETED)


@transaction.atomic
def project_publish_case(*, project: Project | int, actor, summary: str, public_amounts: bool = False) -> Project:
    """R18: the bureau marks a project as an exemplary case, with the summary it approves for publication."""
    require_role(actor, Role.REVIEWER)
    pk = project.pk if isinstance(project, Project) else project
    project = Project.objects.select_for_update(no_key=True).get(pk=pk)
    summary = (summary or "").strip()
    if not summary:
        raise DomainError(_("公开典型案例须附经审定的公开摘要"), code="public_summary_required", rule="R18",
                          fields={"summary": [_("必填")]})
    if project.state not in PUBLISHABLE:
        raise DomainError(_("仅已立项、实施中或已结项的项目可作为典型案例公开"), code="case_not_publishable",
                          rule="R18")
    before = {"exemplary": project.exemplary, "public_amounts": project.public_amounts}
    project.exemplary = True
    project.public_summary = summary
    project.public_amounts = bool(public_amounts)
    project.save(update_fields=["exemplary", "public_summary", "public_amounts", "updated_at"])
    audit_record(actor=actor, target=project, action="case_publish", reason=summary,
                 data={"before": before, "public_amounts": project.public_amounts})
    return project


@transaction.atomic
def project_withdraw_case(*, project: Project | int, actor, reason: str = "") -> Project:
    """R18: take a case off the public page (the summary is kept for the record)."""
    require_role(actor, Role.REVIEWER)
    pk = project.pk if isinstance(project, Project) else project
    project = Project.objects.select_for_update(no_key=True).get(pk=pk)
    project.exemplary = False
    project.public_amounts = False
    project.save(update_fields=["exemplary", "public_amounts", "updated_at"])
    audit_record(actor=actor, target=project, action="case_withdraw", reason=reason)
    return project
