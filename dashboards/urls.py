from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("performance/", views.performance, name="performance"),
    path("cases/manage/", views.case_manage, name="case_manage"),
    path("cases/manage/<int:pk>/", views.case_edit, name="case_edit"),
]
