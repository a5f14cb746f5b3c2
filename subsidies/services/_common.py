"""What every subsidies service shares: the scheme version of a year (R19), amounts as text, R17.

Scheme version (R19). A year's figures use the scheme version in force on
31 December of that year (``scheme_for_year``); if the scheme had lapsed by
then (a trial that ended without a successor), the latest version that had
started by that day. So a new version with a new rate changes the
computations of the years whose 31 December falls in it, and no earlier one:
an earlier year recomputed after the new version exists still selects its
own version and gives the same figure.

Money (I4): ``Decimal`` all the way, rounded half-up at the fen once, at the
end of each computation; the trace keeps the unrounded shares.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from core.exceptions import DomainError
from core.models import Organization, SchemeVersion

from ..choices import ComputationState

CS = ComputationState
SHANGHAI = ZoneInfo("Asia/Shanghai")


def as_text(value: Decimal) -> str:
    return format(value, "f")


def check_not_blacklisted(org: Organization) -> None:
    """R17, read from the database (the in-memory object may predate the listing)."""
    if Organization.objects.filter(pk=org.pk, blacklisted=True).exists():
        raise DomainError(_("%(name)s 已被列入黑名单，不得参与科创安心宝") % {"name": org.name},
                          code="blacklisted", rule="R17")


def label_of(model) -> str:
    return str(model._meta.verbose_name)


def scheme_reference_date(year: int) -> date:
    return date(year, 12, 31)


def scheme_for_year(year: int) -> SchemeVersion:
    day = scheme_reference_date(year)
    scheme = SchemeVersion.active_on(day) or SchemeVersion.objects.filter(valid_from__lte=day).order_by(
        "-valid_from").first()
    if scheme is None:
        raise DomainError(_("%(year)s 年没有生效的政策版本") % {"year": year}, code="no_scheme", rule="R19")
    return scheme


def scheme_trace(scheme: SchemeVersion, year: int, *fields: str) -> dict:
    out = {"id": scheme.pk, "name": scheme.name, "selected_on": scheme_reference_date(year).isoformat()}
    for f in fields:
        out[f] = as_text(getattr(scheme, f))
    return out
