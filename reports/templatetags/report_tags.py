from django import template

from core.money import format_amount
from reports.capitals import amount_in_capitals

register = template.Library()
register.filter("capitals", amount_in_capitals)  # 人民币壹佰贰拾万元整
register.filter("plain", format_amount)  # 1,200,000.00 (wide tables state the unit in their heading)


@register.inclusion_tag("reports/_project_documents.html", takes_context=True)
def project_documents(context, project):
    """Buttons for the documents of one project (the approval notice only once it has its number)."""
    from core.choices import Role
    from core.permissions import has_role, is_oversight
    from reports.choices import ReportKind

    user = context["request"].user
    if not (is_oversight(user) or has_role(user, Role.ENTERPRISE, Role.PLATFORM)):
        return {"document_kinds": []}
    kinds = [ReportKind.PROJECT_DOSSIER, ReportKind.CUSTODY_STATEMENT, ReportKind.DOSSIER_EXPORT]
    if project.notice_number:
        kinds.insert(0, ReportKind.APPROVAL_NOTICE)
    return {"project": project, "document_kinds": [(k.value, k.label) for k in kinds],
            "csrf_token": context.get("csrf_token")}
