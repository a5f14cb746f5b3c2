from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubsidiesConfig(AppConfig):
    name = "subsidies"
    verbose_name = _("资助与保费补助")

    def ready(self) -> None:
        """R12: an insured project is accepted only with its policy document (projects never imports us)."""
        from projects.acceptance import register_acceptance_check

        from .checks import insured_project_has_policy_document

        register_acceptance_check(insured_project_has_policy_document)
