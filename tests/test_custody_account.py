"""The Anxinbao account enterprises pay into is declared in settings from the environment, never made up."""
import pytest
from django.test import Client

from projects import milestones as ms
from projects.tests.factories import tranche_project


def _instructions_html(demo) -> str:
    p = tranche_project(demo, tranches=[("1200000.00", "120000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    page = Client()
    page.force_login(demo.enterprise)
    html = page.get(f"/projects/{p.pk}/").content.decode()
    start = html.index('class="pay-instructions"')
    return html[start:html.index("</div>", start)]


def test_the_settings_declare_the_account_with_no_number_of_their_own():
    from django.conf import settings

    assert set(settings.ANXINBAO_CUSTODY_ACCOUNT) == {"name", "bank", "number"}
    assert settings.ANXINBAO_CUSTODY_ACCOUNT["number"] == "" and settings.ANXINBAO_CUSTODY_ACCOUNT["bank"] == ""


@pytest.mark.django_db
def test_an_account_not_configured_is_said_so_rather_than_invented(demo):
    html = _instructions_html(demo)
    assert "尚未配置，请联系监管银行" in html and "开户行尚未配置" in html
    assert "2010 0001" not in html


@pytest.mark.django_db
def test_the_configured_account_is_printed(demo, settings):
    settings.ANXINBAO_CUSTODY_ACCOUNT = {"name": "科创安心宝监管账户", "bank": "某银行某支行", "number": "1234 5678"}
    html = _instructions_html(demo)
    assert "某银行某支行" in html and "1234 5678" in html and "尚未配置" not in html
