"""Labels, headings and buttons of the project and milestone pages carry no bare rule codes: a rule id appears
only as an explained reference (an abbr whose title says what the rule is)."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from projects.tests.factories import project_at

pytestmark = pytest.mark.django_db

CODE = re.compile(r"(?<![A-Za-z0-9_])[RI]\d{1,2}(?![0-9])")
LABELS = re.compile(r"<(th|h2|h3|button|label|summary)\b[^>]*>(.*?)</\1>", re.S)
EXPLAINED = re.compile(r'<abbr class="rule-ref" title="[^"]*[RI]\d{1,2} [^"]+">[RI]\d{1,2}</abbr>')


@pytest.fixture(autouse=True)
def _scheme_in_force(db):
    from core.tests.factories import scheme_in_force

    scheme_in_force()


def bare_codes(html: str) -> list[str]:
    found = []
    for _tag, inner in LABELS.findall(html):
        text = re.sub(r"<[^>]+>", "", EXPLAINED.sub("", inner))
        found += [f"{code} in {text.strip()[:60]!r}" for code in CODE.findall(text)]
    return found


@pytest.mark.parametrize("state", ["reviewed", "approved"])
def test_project_and_milestone_pages_label_in_words(demo, client, state, ledger_ok):
    project = project_at(demo, state)
    for user in (demo.reviewer, demo.enterprise, demo.custodian):
        client.force_login(user)
        for url in (reverse("projects:detail", args=[project.pk]), reverse("milestones:project", args=[project.pk])):
            r = client.get(url)
            if r.status_code != 200:
                continue
            html = r.content.decode()
            assert bare_codes(html) == [], (user.username, url)


def test_rule_reference_is_explained(demo, client):
    project = project_at(demo, "reviewed")
    client.force_login(demo.reviewer)
    html = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert EXPLAINED.search(html) and "政策依据：R12 受理须备齐材料" in html
