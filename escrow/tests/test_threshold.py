"""The maker–checker threshold comes from the scheme version (R19), never from code."""
from decimal import Decimal

import pytest

from core.exceptions import DomainError
from core.models import SchemeVersion
from escrow.choices import OperationState

from .factories import deposit, request_release

pytestmark = pytest.mark.django_db


def test_release_threshold_follows_the_scheme_version_r19(demo, ledger_ok):
    deposit(demo, project=1, seq=1, amount="600000.00")
    scheme = SchemeVersion.objects.get()
    SchemeVersion.objects.filter(pk=scheme.pk).update(dual_control_threshold=Decimal("500000.00"))
    op = request_release(demo, project=1, seq=1, amount="600000.00")
    assert op.state == OperationState.AWAITING_CONFIRMATION  # above the lowered threshold


def test_release_without_any_scheme_version_is_refused_naming_r19(demo, ledger_ok):
    deposit(demo, project=1, seq=1, amount="600000.00")
    SchemeVersion.objects.all().delete()
    with pytest.raises(DomainError) as err:
        request_release(demo, project=1, seq=1, amount="600000.00")
    assert err.value.rule == "R19"
