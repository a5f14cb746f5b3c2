"""The admin shows every model of the project's apps; counters and records kept by services are read-only there."""
import pytest
from django.apps import apps
from django.contrib import admin

PROJECT_APPS = ["core", "escrow", "projects", "subsidies", "reports", "dashboards"]


def test_every_model_of_the_project_apps_is_registered_in_the_admin():
    missing = [model._meta.label for label in PROJECT_APPS for model in apps.get_app_config(label).get_models()
               if model not in admin.site._registry]
    assert missing == []


@pytest.mark.django_db
def test_document_counters_are_listed_read_only(admin_client, rf, admin_user):
    from reports.models import DocumentCounter

    DocumentCounter.objects.create(prefix="萧科安审", year=2025, last=7)
    model_admin = admin.site._registry[DocumentCounter]
    assert list(model_admin.list_display) == ["prefix", "year", "last"]
    request = rf.get("/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    response = admin_client.get("/admin/reports/documentcounter/")
    assert response.status_code == 200
    assert "萧科安审" in response.content.decode()
