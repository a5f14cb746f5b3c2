"""Error pages a person can act on: 403 says why (the rule the page or service named), 404 gives nothing away."""
import pytest
from django.template.loader import render_to_string
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_403_page_names_the_reason_and_leads_back(client, demo):
    client.force_login(demo.enterprise)
    r = client.get(reverse("escrow:desk"))
    assert r.status_code == 403
    html = r.content.decode()
    assert 'id="denied-reason">仅限监管账户操作员<' in html
    assert f'href="{reverse("home")}"' in html and "nav" in html  # the site's own page, with its navigation


def test_404_page_is_the_same_for_missing_and_for_another_organisations_project(client, demo):
    from projects.tests.factories import make_project

    theirs = make_project(demo, enterprise=demo.ent2, platform=demo.plat2, title="他人的项目")
    client.force_login(demo.enterprise)
    missing = client.get(reverse("projects:detail", args=[999999]))
    other = client.get(reverse("projects:detail", args=[theirs.pk]))
    assert missing.status_code == other.status_code == 404
    assert "页面不存在" in missing.content.decode()
    assert "No Project matches" not in other.content.decode() and "他人的项目" not in other.content.decode()


def test_500_page_renders_without_a_request():
    html = render_to_string("500.html")  # Django renders it with no context: nothing may need the request
    assert "系统错误" in html and "Server error" in html and "/static/css/app.css" in html
