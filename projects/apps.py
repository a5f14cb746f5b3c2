from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("合作项目")

    def ready(self) -> None:
        """Tell escrow about projects without escrow importing this app (it only knows project ids)."""
        from escrow.invariants import register_invariant_check
        from escrow.selectors import register_party_projects

        from . import hooks  # noqa: F401  (registers escrow completion hooks)
        from .invariants import milestone_custody_violations
        from .selectors import party_project_ids

        register_invariant_check(milestone_custody_violations)
        register_party_projects(party_project_ids)
