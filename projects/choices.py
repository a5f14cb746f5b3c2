from django.db import models
from django.utils.translation import gettext_lazy as _


class Mode(models.TextChoices):  # R1
    PROJECT_COOPERATION = "project_cooperation", _("项目合作")
    TECHNOLOGY_TRANSFER = "technology_transfer", _("技术转化")
    JOINT_RESEARCH_CENTER = "joint_research_center", _("共建联合研究中心")
    JOINT_LAB = "joint_lab", _("联合实验室")
    OTHER = "other", _("其他")


class ProjectState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    SIGNED = "signed", _("已揭榜")
    ACCEPTED = "accepted", _("已受理")
    UNDER_REVIEW = "under_review", _("专家评审中")
    WAITLISTED = "waitlisted", _("择优排队")
    APPROVED = "approved", _("已立项")
    ACTIVE = "active", _("实施中")
    REJECTED = "rejected", _("未立项")
    TERMINATED = "terminated", _("已终止")
    COMPLETED = "completed", _("已结项")


class MilestoneState(models.TextChoices):
    PLANNED = "planned", _("计划中")
    DEPOSIT_DUE = "deposit_due", _("待缴保证金")
    IN_PROGRESS = "in_progress", _("研发中")
    OVERDUE = "overdue", _("已逾期")
    REPORTED = "reported", _("已报告完成")
    BALANCE_DUE = "balance_due", _("待付尾款")
    BALANCE_OVERDUE = "balance_overdue", _("尾款逾期")  # I15
    BREACHED = "breached", _("企业违约")  # I15
    RELEASABLE = "releasable", _("可拨付")
    RELEASED = "released", _("已拨付")
    FAILED = "failed", _("未达标")
    FORFEITED = "forfeited", _("保证金已罚没")
    CANCELLED = "cancelled", _("已取消")  # I15: a later milestone of a project ended by breach or termination


class AttachmentKind(models.TextChoices):
    PLAN = "plan", _("合作方案")
    AGREEMENT = "agreement", _("合作协议")
    POLICY = "policy", _("保险保单")
    RECEIPT = "receipt", _("银行回单")
    EVIDENCE = "evidence", _("里程碑成果材料")
    OTHER = "other", _("其他")
