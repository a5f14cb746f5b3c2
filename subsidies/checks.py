"""Checks subsidies registers with the apps below it."""
from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.exceptions import DomainError

from .choices import InsuredParty


def insured_project_has_policy_document(project) -> None:
    """R12: an insured project (a policy on file insuring the enterprise or the platform) is accepted 受理
    only with the policy document of each of its policies."""
    from .models import InsurancePolicy

    missing = list(InsurancePolicy.objects.filter(
        project=project, insured__in=[InsuredParty.ENTERPRISE, InsuredParty.PLATFORM], document="")
        .order_by("pk").values_list("pk", "policy_number"))
    if missing:
        listed = pgettext("标点", "、").join(number or f"#{pk}" for pk, number in missing)
        raise DomainError(_("投保项目受理前须上传保单文件（保单 %(p)s）") % {"p": listed},
                          code="policy_document_missing", rule="R12",
                          fields={"document": [_("缺少保单文件：%(p)s") % {"p": listed}]})
