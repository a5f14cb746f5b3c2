from django.urls import path, register_converter

from . import views


class KindConverter:
    regex = "grant|premium"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(KindConverter, "kind")

app_name = "subsidies"
urlpatterns = [
    path("", views.index, name="index"),
    path("compute/<kind:kind>/", views.compute, name="compute"),
    path("export/<int:year>/", views.export, name="export"),
    path("<kind:kind>/<int:pk>/", views.figure_detail, name="figure"),
    path("<kind:kind>/<int:pk>/approve/", views.figure_approve, name="approve"),
    path("<kind:kind>/<int:pk>/pay/", views.figure_pay, name="pay"),
    path("audits/", views.audits, name="audits"),
    path("audits/<int:pk>/", views.audit_detail, name="audit"),
    path("audits/<int:pk>/report/", views.audit_report, name="audit_report"),
    path("insurance/", views.policies, name="policies"),
    path("insurance/<int:pk>/", views.policy_detail, name="policy"),
    path("insurance/<int:pk>/document/", views.policy_document, name="policy_document"),
    path("other/", views.other_subsidies, name="other"),
    path("blacklist/", views.blacklist, name="blacklist"),
    path("blacklist/<int:pk>/evidence/", views.blacklist_evidence, name="blacklist_evidence"),
]
