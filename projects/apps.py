from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("合作项目")

    def ready(self) -> None:
        from . import hooks  # noqa: F401  (registers escrow completion hooks)
