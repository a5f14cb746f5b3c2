"""R17: only the bureau's reviewers list or lift a blacklisting, checked in the service itself."""
import re

import pytest

from core.exceptions import DomainError, PermissionDeniedError
from core.models import AuditEvent, BlacklistEntry
from core.services import organization_blacklist, organization_lift_blacklist
from projects.tests.factories import pdf_file

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["enterprise2", "platform", "custodian", "auditor", "finance"])
def test_only_a_reviewer_blacklists_r17(demo, who):
    with pytest.raises(PermissionDeniedError):
        organization_blacklist(organization=demo.ent1, actor=getattr(demo, who), reason="虚报经费",
                               evidence=pdf_file("证据.pdf"))
    demo.ent1.refresh_from_db()
    assert not demo.ent1.blacklisted and not BlacklistEntry.objects.exists()


def test_only_a_reviewer_lifts_a_blacklisting_r17(demo):
    organization_blacklist(organization=demo.ent1, actor=demo.reviewer, reason="虚报经费", evidence=pdf_file("证据.pdf"))
    with pytest.raises(PermissionDeniedError):
        organization_lift_blacklist(organization=demo.ent1, actor=demo.auditor, reason="整改完成")
    organization_lift_blacklist(organization=demo.ent1, actor=demo.reviewer, reason="整改完成")
    demo.ent1.refresh_from_db()
    assert not demo.ent1.blacklisted and BlacklistEntry.objects.count() == 2


def test_blacklisting_needs_evidence_r17(demo):
    with pytest.raises(DomainError) as exc:
        organization_blacklist(organization=demo.ent1, actor=demo.reviewer, reason="虚报经费", evidence=None)
    assert exc.value.code == "evidence_required" and exc.value.rule == "R17" and "R17" not in exc.value.detail
    assert "evidence" in exc.value.fields
    demo.ent1.refresh_from_db()
    assert not demo.ent1.blacklisted and not BlacklistEntry.objects.exists()
    assert not AuditEvent.objects.filter(action="blacklist").exists()


def test_blacklist_page_requires_the_evidence_file_r17(demo, client):
    client.force_login(demo.reviewer)
    html = client.get("/subsidies/blacklist/").content.decode()
    assert re.search(r'<input type="file" name="add-evidence"[^>]* required', html)
    r = client.post("/subsidies/blacklist/", {"action": "add", "add-organization": demo.ent1.pk,
                                              "add-reason": "虚报经费"})
    assert r.status_code == 200 and "evidence" in r.context["add_form"].errors
    demo.ent1.refresh_from_db()
    assert not demo.ent1.blacklisted and not BlacklistEntry.objects.exists()
