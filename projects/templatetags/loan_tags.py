"""The project page's loans section (R10): the loans, their states, the actions this user may take."""
from django import template

from core.permissions import is_oversight

from ..loans.permissions import can_record
from ..loans.services import RECORDABLE_STATES, loan_actions
from ..loans.views import LoanForm

register = template.Library()


@register.inclusion_tag("projects/_loans.html", takes_context=True)
def project_loans(context, project):
    user = context["request"].user
    loans = list(project.loans.order_by("pk"))
    for loan in loans:  # the permission checks read loan.project: one query for the list, none per loan
        loan.project = project
    may_record = bool(can_record(user, project)) and project.state in RECORDABLE_STATES
    if not loans and not may_record and not is_oversight(user):
        return {"show": False}
    return {"show": True, "project": project, "csrf_token": context.get("csrf_token"),
            "loans": [{"obj": loan, "actions": loan_actions(user, loan)} for loan in loans],
            "may_record": may_record, "form": LoanForm() if may_record else None}
