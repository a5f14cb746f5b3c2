from django.db import models
from django.utils.translation import gettext_lazy as _


class InsuredParty(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    PLATFORM = "platform", _("科创平台")


class PolicyType(models.TextChoices):  # R9, R20
    RD_LOSS = "rd_loss", _("研发费用损失险")
    TRANSFORMATION = "transformation", _("成果转化费用损失险")


class ComputationState(models.TextChoices):
    COMPUTED = "computed", _("已测算")
    APPROVED = "approved", _("已审定")
    PAID = "paid", _("已拨付")
    SUPERSEDED = "superseded", _("已被新版本取代")


class RunKind(models.TextChoices):
    GRANT = "grant", _("研发投入资助")
    PREMIUM = "premium", _("保费补助")
