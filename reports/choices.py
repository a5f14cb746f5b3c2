from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    APPROVAL_NOTICE = "approval_notice", _("准予立项通知书")
    PROJECT_DOSSIER = "project_dossier", _("项目档案")
    CUSTODY_STATEMENT = "custody_statement", _("安心宝监管账户对账单")
    ANNUAL_AUDIT = "annual_audit", _("年度专项审计报告")
    SUBSIDY_DECISION = "subsidy_decision", _("资助与保费补助决定书")
    DOSSIER_EXPORT = "dossier_export", _("项目档案导出（ZIP）")


class ReportState(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


# Parameters each kind takes (api.md).
KIND_PARAMS = {
    ReportKind.APPROVAL_NOTICE: ("project",),
    ReportKind.PROJECT_DOSSIER: ("project",),
    ReportKind.CUSTODY_STATEMENT: ("project",),
    ReportKind.ANNUAL_AUDIT: ("year",),
    ReportKind.SUBSIDY_DECISION: ("enterprise", "year"),
    ReportKind.DOSSIER_EXPORT: ("project",),
}

# Prefix of the document number of each kind (the approval notice carries the project's own number).
NUMBER_PREFIX = {
    ReportKind.PROJECT_DOSSIER: "萧科安档",
    ReportKind.CUSTODY_STATEMENT: "萧科安账",
    ReportKind.ANNUAL_AUDIT: "萧科安审",
    ReportKind.SUBSIDY_DECISION: "萧科安补",
    ReportKind.DOSSIER_EXPORT: "萧科安档",
}
