"""R17: only the bureau's reviewers list or lift a blacklisting, checked in the service itself."""
import pytest

from core.exceptions import PermissionDeniedError
from core.models import BlacklistEntry
from core.services import organization_blacklist, organization_lift_blacklist

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["enterprise2", "platform", "custodian", "auditor", "finance"])
def test_only_a_reviewer_blacklists_r17(demo, who):
    with pytest.raises(PermissionDeniedError):
        organization_blacklist(organization=demo.ent1, actor=getattr(demo, who), reason="虚报经费")
    demo.ent1.refresh_from_db()
    assert not demo.ent1.blacklisted and not BlacklistEntry.objects.exists()


def test_only_a_reviewer_lifts_a_blacklisting_r17(demo):
    organization_blacklist(organization=demo.ent1, actor=demo.reviewer, reason="虚报经费")
    with pytest.raises(PermissionDeniedError):
        organization_lift_blacklist(organization=demo.ent1, actor=demo.auditor, reason="整改完成")
    organization_lift_blacklist(organization=demo.ent1, actor=demo.reviewer, reason="整改完成")
    demo.ent1.refresh_from_db()
    assert not demo.ent1.blacklisted and BlacklistEntry.objects.count() == 2
