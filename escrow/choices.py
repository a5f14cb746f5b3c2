from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    POOL_FUNDING = "pool_funding", _("风险池资金来源")
    POOL_AVAILABLE = "pool_available", _("风险池可用")
    POOL_ADVANCED = "pool_advanced", _("风险池已垫付")
    POOL_LOSSES = "pool_losses", _("风险池损失")
    CUSTODY = "custody", _("安心宝监管")
    EXTERNAL = "external", _("外部")


# Balances of these kinds may never go below zero (invariant 2 and issue 3).
NON_NEGATIVE_KINDS = (AccountKind.POOL_AVAILABLE, AccountKind.POOL_ADVANCED, AccountKind.CUSTODY)


class OperationKind(models.TextChoices):
    TOP_UP = "top_up", _("风险池注资")
    ADVANCE = "advance", _("风险池垫付")
    DEPOSIT = "deposit", _("保证金到账")
    BALANCE = "balance", _("尾款到账")
    RELEASE = "release", _("拨付平台")
    FORFEIT = "forfeit", _("保证金罚没")
    REFUND = "refund", _("退还企业")
    REPAYMENT = "repayment", _("平台归还垫付")
    WRITE_OFF = "write_off", _("核销损失")


class OperationState(models.TextChoices):
    REQUESTED = "requested", _("已申请")
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("待复核")
    EXECUTING = "executing", _("执行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
