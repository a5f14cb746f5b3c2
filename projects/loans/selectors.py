"""Reads of the guarantee loans: a loan is visible to whoever sees its project."""
from __future__ import annotations

from django.db.models import QuerySet

from ..selectors import projects_visible_to
from .models import GuaranteeLoan


def loans_visible_to(user) -> QuerySet[GuaranteeLoan]:
    return (GuaranteeLoan.objects.filter(project__in=projects_visible_to(user).values("pk"))
            .select_related("project", "project__enterprise", "project__platform"))


def loans_of_projects(project_ids) -> QuerySet[GuaranteeLoan]:
    """The loans of these projects (the dossier, the annual report), in project then recording order."""
    return GuaranteeLoan.objects.filter(project_id__in=project_ids).select_related("project").order_by("project_id", "pk")
