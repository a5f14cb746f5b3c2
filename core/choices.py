from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    PLATFORM = "platform", _("科创平台")
    INSURER = "insurer", _("保险公司")
    CUSTODIAN = "custodian", _("第三方监管机构")
    BUREAU = "bureau", _("区科技局")
    FINANCE = "finance", _("区财政局")
    AUDITOR = "auditor", _("第三方审计机构")
    EXPERT = "expert", _("专家所在单位")


class Role(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业人员")
    PLATFORM = "platform", _("平台人员")
    REVIEWER = "reviewer", _("科技局审核人员")
    EXPERT = "expert", _("专家")
    CUSTODIAN = "custodian", _("监管账户操作员")
    POOL_MANAGER = "pool_manager", _("风险池管理员")
    AUDITOR = "auditor", _("审计人员")
    FINANCE = "finance", _("财政局人员")


class ExpertCategory(models.TextChoices):
    """The expert committee's make-up (R16, I17): every approval panel has one of each where the pool has them."""
    TECHNICAL = "technical", _("技术专家")
    INVESTMENT = "investment", _("投资专家")
    FINANCIAL = "financial", _("财务专家")
