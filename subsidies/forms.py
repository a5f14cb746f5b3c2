from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.files import check_upload
from core.forms import MoneyFormField
from core.models import Organization

from .choices import InsuredParty, PolicyType


def clean_upload(file):
    """R12 on the form's field: PDF or image by its bytes, at most 20 MB (the services check it again)."""
    if file:
        try:
            check_upload(file)
        except DomainError as exc:
            raise forms.ValidationError(exc.detail, code=exc.code) from exc
    return file


class DateInput(forms.DateInput):
    input_type = "date"


class PolicyForm(forms.Form):
    project = forms.ModelChoiceField(label=_("合作项目"), queryset=None)
    insurer = forms.ModelChoiceField(label=_("保险公司"), queryset=Organization.objects.filter(kind="insurer"))
    insured = forms.ChoiceField(label=_("被保险人"), choices=InsuredParty.choices, initial=InsuredParty.ENTERPRISE)
    type = forms.ChoiceField(label=_("险种"), choices=PolicyType.choices)
    policy_number = forms.CharField(label=_("保单号"), max_length=64, required=False)
    premium = MoneyFormField(label=_("保费（元）"), min_value=Decimal("0.01"))
    cover = MoneyFormField(label=_("保险金额（元）"), min_value=Decimal("0.01"))
    start_date = forms.DateField(label=_("保险起期"), widget=DateInput)
    end_date = forms.DateField(label=_("保险止期"), widget=DateInput)
    document = forms.FileField(label=_("保单文件"), required=False)

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects

    def clean_document(self):
        return clean_upload(self.cleaned_data.get("document"))


class ClaimForm(forms.Form):
    milestone = forms.ModelChoiceField(label=_("所涉里程碑"), queryset=None, required=False)
    description = forms.CharField(label=_("出险情况"), widget=forms.Textarea, required=False)
    assessed_loss = MoneyFormField(label=_("保险公司核定损失（元）"), min_value=0)
    paid_amount = MoneyFormField(label=_("实际赔付（元）"), min_value=0, initial=0)
    paid_on = forms.DateField(label=_("赔付日期"), widget=DateInput, required=False)
    loss_year = forms.IntegerField(label=_("损失所属年度"), min_value=2000, max_value=2100, required=False,
                                   help_text=_("所补偿投入的年度；不填则取里程碑审核决定的年度，否则取赔付年度"))

    def __init__(self, *args, milestones, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["milestone"].queryset = milestones


class OtherSubsidyForm(forms.Form):
    enterprise = forms.ModelChoiceField(label=_("企业"), queryset=None)
    policy_name = forms.CharField(label=_("政策名称"), max_length=200)
    issuer = forms.CharField(label=_("发放地区或层级"), max_length=100)
    type = forms.ChoiceField(label=_("险种"), choices=PolicyType.choices)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    amount = MoneyFormField(label=_("已获补助金额（元）"), min_value=Decimal("0.01"))
    premium_covered = MoneyFormField(label=_("所补保费（元）"), min_value=0, initial=0)
    policy = forms.ModelChoiceField(label=_("对应保单（所补的保费）"), queryset=None, required=False,
                                    help_text=_("只抵减该保单的保费补助；不对应本区补助的保单则不抵减"))

    def __init__(self, *args, enterprises, policies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = enterprises
        self.fields["policy"].queryset = policies


class PolicyDocumentForm(forms.Form):
    document = forms.FileField(label=_("保单文件"))

    def clean_document(self):
        return clean_upload(self.cleaned_data.get("document"))


class AuditForm(forms.Form):
    project = forms.ModelChoiceField(label=_("合作项目"), queryset=None)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    audited_input = MoneyFormField(label=_("审计确认的实际投入（元）"), min_value=0)
    reason = forms.CharField(label=_("与账户记录不一致的原因"), widget=forms.Textarea, required=False)
    expert_evaluation = forms.CharField(label=_("专家组评价"), widget=forms.Textarea, required=False)
    report = forms.FileField(label=_("专项审计报告"), required=False)

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects

    def clean_report(self):
        return clean_upload(self.cleaned_data.get("report"))


class OpinionForm(forms.Form):
    opinion = forms.CharField(label=_("企业验收意见"), widget=forms.Textarea)


class PayForm(forms.Form):
    amount = MoneyFormField(label=_("拨付金额（元）"), min_value=0)
    paid_on = forms.DateField(label=_("拨付日期"), widget=DateInput)
    voucher = forms.CharField(label=_("凭证号"), max_length=64, required=False)


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)


class BlacklistForm(forms.Form):
    organization = forms.ModelChoiceField(label=_("企业"), queryset=None)
    reason = forms.CharField(label=_("原因"), widget=forms.Textarea)
    evidence = forms.FileField(label=_("证据材料"))

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations

    def clean_evidence(self):
        return clean_upload(self.cleaned_data.get("evidence"))


class LiftForm(forms.Form):
    organization = forms.ModelChoiceField(label=_("企业"), queryset=None)
    reason = forms.CharField(label=_("移出原因"), widget=forms.Textarea)

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
