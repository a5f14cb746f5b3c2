from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo data and its tools: above every other app, so no app needs to know about it."""

    name = "demo"
    verbose_name = _("演示数据")
