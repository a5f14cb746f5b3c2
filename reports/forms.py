from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.choices import OrgKind
from core.models import Organization
from core.permissions import is_oversight

from .choices import KIND_PARAMS, ReportKind
from .selectors import projects_visible_to


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("报告类型"), choices=ReportKind.choices)
    project = forms.ModelChoiceField(label=_("项目"), queryset=None, required=False)
    enterprise = forms.ModelChoiceField(label=_("企业"), queryset=None, required=False)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects_visible_to(user).order_by("-pk")
        enterprises = Organization.objects.filter(kind=OrgKind.ENTERPRISE).order_by("name")
        if not is_oversight(user):
            enterprises = enterprises.filter(pk=user.organization_id)
        self.fields["enterprise"].queryset = enterprises
        self.fields["year"].initial = timezone.localdate().year

    def clean(self):
        """Each document kind names what it is about; a missing choice is said in words beside its field."""
        data = super().clean()
        kind = data.get("kind")
        for name in KIND_PARAMS.get(kind, ()):
            if name in self.fields and not data.get(name) and name not in self.errors:
                self.add_error(name, _("请选择%(field)s：%(kind)s需要它") % {
                    "field": self.fields[name].label, "kind": ReportKind(kind).label})
        return data

    def add_domain_error(self, exc) -> None:
        """A refusal of the service, shown next to the field it names (``params.project`` is the 项目 field)."""
        placed = False
        for key, texts in (exc.fields or {}).items():
            name = key.removeprefix("params.")
            if name in self.fields:
                texts = texts if isinstance(texts, (list, tuple)) else [texts]
                self.add_error(name, "；".join(f"{self.fields[name].label}{t}" for t in texts))
                placed = True
        if not placed:
            self.add_error(None, exc.detail)

    def params(self) -> dict:
        data = self.cleaned_data
        out = {}
        if data.get("project"):
            out["project"] = data["project"].pk
        if data.get("enterprise"):
            out["enterprise"] = data["enterprise"].pk
        if data.get("year"):
            out["year"] = data["year"]
        return out
