from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("组织与角色")

    def ready(self):
        from . import signals_cache  # noqa: F401 - the receivers that keep the per-user cache true
