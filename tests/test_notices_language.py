"""A notice reads in its reader's language, whatever language the actor used (issue 12, point 5): written while
the actor's pages are in English it reads in Chinese for a Chinese reader, and the other way round — on the
inbox page, in its unread rows and once read."""
from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from core.choices import Role
from core.tests.factories import make_user
from projects.tests.factories import project_at

pytestmark = pytest.mark.django_db


def _client(user, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})  # the site's language switch
    return client


def _rows(client, kind: str) -> str:
    """The text of the inbox rows of ``kind`` (``unread`` or ``read``)."""
    page = client.get("/notifications/").content.decode()
    rows = re.findall(rf'<tr class="{kind}" id="notice-\d+">(.*?)</tr>', page, flags=re.S)
    return html.unescape(" ".join(rows))


def _reads(client, shown: str, hidden: str, kind: str = "unread") -> None:
    rows = _rows(client, kind)
    assert shown in rows and hidden not in rows


# (state, who acts, in which language, action, reason, the notice in Chinese, in English)
CASES = {
    "written in English": ("submitted", "platform", "en", "platform_decline", "No capacity this year",
                           "“{plat}”不予揭榜“{title}”：{r}", "“{plat}” declined to take on “{title}”: {r}"),
    "written in Chinese": ("reviewed", "reviewer", "zh-hans", "reject", "研发成本测算依据不足",
                           "项目“{title}”未予立项：{r}", "Project “{title}” not approved: {r}"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_notice_reads_in_chinese_for_a_chinese_reader_and_in_english_for_an_english_one(demo, case):
    state, who, language, action, reason, zh, en = case
    project = project_at(demo, state)
    english_colleague = make_user("enterprise_en", demo.ent1, Role.ENTERPRISE)
    chinese, english = _client(demo.enterprise, "zh-hans"), _client(english_colleague, "en")
    _client(getattr(demo, who), language).post(f"/projects/{project.pk}/do/{action}/", {"reason": reason})
    zh, en = (text.format(plat=demo.plat1.name, title=project.title, r=reason) for text in (zh, en))
    _reads(chinese, zh, en)
    _reads(english, en, zh)
    for client in (chinese, english):
        client.post("/notifications/read/", {"all": "1"})
    _reads(chinese, zh, en, "read")
    _reads(english, en, zh, "read")


@pytest.mark.django_db(transaction=True)  # the deposit's custody operation executes after commit
def test_a_milestone_notice_written_in_english_reads_in_each_readers_language(demo):
    """The bureau's "not met" finding, taken on English pages, and the deposit call that opened the milestone:
    the enterprise's Chinese user reads both in Chinese, an English colleague in English — label included."""
    from django.utils import translation

    from projects import milestones as ms
    from projects.tests.steps import reported_milestone

    english_colleague = make_user("enterprise_en", demo.ent1, Role.ENTERPRISE)
    with translation.override("en"):
        milestone = reported_milestone(demo)
        ms.milestone_review_not_met(milestone=milestone, actor=demo.reviewer, reason="Targets missed")
    chinese, english = _client(demo.enterprise, "zh-hans"), _client(english_colleague, "en")
    title = milestone.project.title
    _reads(chinese, f"“{title}”第1个里程碑 认定未达标：Targets missed", "found not met")
    _reads(english, f"Milestone 1 of “{title}” found not met: Targets missed", "认定未达标")
    _reads(chinese, f"“{title}”第1个里程碑 待缴保证金", "deposit due")
    _reads(english, f"Milestone 1 of “{title}” deposit due", "待缴保证金")
