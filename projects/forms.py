"""Browser forms of the proposal. They validate input shapes; the services check the rules."""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import MoneyFormField
from core.models import Organization
from core.money import format_percent

from .choices import AttachmentKind, Mode

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def money_field(label, **kwargs):
    # Read as text by core.money.parse_money: a third decimal is refused naming the rule (I4).
    return MoneyFormField(label=label, **kwargs)


class ProjectForm(forms.Form):
    platform = forms.ModelChoiceField(label=_("科创平台（揭榜方）"), queryset=Organization.objects.none())
    mode = forms.ChoiceField(label=_("合作方式"), choices=Mode.choices)
    title = forms.CharField(label=_("项目名称"), max_length=200)
    summary = forms.CharField(label=_("项目简介（企业提出的技术难题）"), widget=forms.Textarea(attrs={"rows": 3}),
                              required=False)
    total_amount = money_field(_("协议总合作经费（元）"))
    equipment_amount = money_field(_("其中归属企业固定资产的设备购置费（元）"), initial="0.00")
    budget = money_field(_("平台立项预算 B（元，不低于首笔合作经费）"))
    start_date = forms.DateField(label=_("项目开始日期"), widget=DATE)
    end_date = forms.DateField(label=_("项目结束日期"), widget=DATE)
    # R4 made exact: both are required at submission, so the form asks for them from the first draft.
    ip_terms = forms.CharField(label=_("各阶段知识产权归属"), widget=forms.Textarea(attrs={"rows": 3}))
    profit_sharing = forms.CharField(label=_("后续盈利分成"), widget=forms.Textarea(attrs={"rows": 3}))
    # R12: the documents filed with the proposal, stored with it through the attachments service (its byte
    # check and size limit). Not required by the form: a draft may be saved without them, and a draft that
    # has them on file need not send them again; submission refuses while one is missing.
    insured = forms.BooleanField(label=_("本项目投保科创保险"), required=False,
                                 help_text=_("投保的项目须随申报附上保险保单"))
    plan = forms.FileField(label=_("合作方案"), required=False)
    agreement = forms.FileField(label=_("合作协议"), required=False)
    policy = forms.FileField(label=_("保险保单（投保项目必附）"), required=False)

    DOCUMENTS = ("plan", "agreement", "policy")
    DOCUMENT_HELP = _("PDF 或图片（PNG、JPEG、GIF、WebP），不超过 20 MB")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # R1 made exact: the district's platforms, as the bureau keeps them.
        self.fields["platform"].queryset = Organization.objects.filter(kind="platform",
                                                                       district_platform=True).order_by("name")
        for name in self.DOCUMENTS:
            self.fields[name].help_text = self.DOCUMENT_HELP
            self.fields[name].widget.attrs["accept"] = "application/pdf,image/*"

    def terms_fields(self):
        return [self[name] for name in self.fields if name not in self.DOCUMENTS and name != "insured"]

    def document_fields(self):
        return [self["insured"], *(self[name] for name in self.DOCUMENTS)]

    def documents(self) -> dict:
        """The files sent, by attachment kind (R12); what was not sent is left out."""
        return {name: self.cleaned_data[name] for name in self.DOCUMENTS if self.cleaned_data.get(name)}

    def proposal_values(self) -> dict:
        """The proposal's own fields, as ``project_create``/``project_update`` take them."""
        return {k: v for k, v in self.cleaned_data.items() if k not in self.DOCUMENTS}


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("里程碑名称"), max_length=200)
    targets = forms.CharField(label=_("目标"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    deliverables = forms.CharField(label=_("交付成果"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    amount = money_field(_("阶段合作经费 T（元）"))
    deposit_amount = money_field(_("约定保证金 D（元）"))
    start_date = forms.DateField(label=_("开始日期"), widget=DATE)
    due_date = forms.DateField(label=_("截止日期"), widget=DATE)

    def __init__(self, *args, deposit_ratio: Decimal | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if deposit_ratio is not None:  # the minimum of the scheme the proposal falls under (R5/R7, R19)
            self.fields["deposit_amount"].label = _("约定保证金 D（元，≥%(pct)s T）") % {
                "pct": format_percent(deposit_ratio)}


MilestoneFormSet = forms.formset_factory(MilestoneForm, extra=0, can_delete=True, min_num=1, validate_min=True)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("材料类型"), help_text=_("受理前须备齐的材料"), choices=[
        (AttachmentKind.PLAN, AttachmentKind.PLAN.label), (AttachmentKind.AGREEMENT, AttachmentKind.AGREEMENT.label),
        (AttachmentKind.POLICY, AttachmentKind.POLICY.label)])
    file = forms.FileField(label=_("文件（PDF 或图片，≤20 MB）"))


class ReviewForm(forms.Form):
    feasibility = forms.IntegerField(label=_("可行性（0–100）"), min_value=0, max_value=100)
    terms = forms.IntegerField(label=_("协议条款合理性（0–100）"), min_value=0, max_value=100)
    cost = forms.IntegerField(label=_("研发成本合理性（0–100）"), min_value=0, max_value=100)
    opinion = forms.CharField(label=_("评审意见"), widget=forms.Textarea)


class ConflictForm(forms.Form):
    conflict_with = forms.ChoiceField(label=_("利害关系方"),
                                      choices=[("enterprise", _("企业")), ("platform", _("科创平台"))])
    reason = forms.CharField(label=_("回避原因"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
