from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("合作项目")

    def ready(self) -> None:
        from escrow.invariants import register_invariant_check

        from . import hooks  # noqa: F401  (registers escrow completion hooks)
        from .invariants import milestone_custody_violations

        register_invariant_check(milestone_custody_violations)
