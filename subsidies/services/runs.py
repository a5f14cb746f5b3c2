"""A year's computation run: versions of a figure, the run's log, one run of a kind and year at a time.

Versions of a figure. A computation that gives the same result as the
latest version of (enterprise, year) changes nothing (the yearly job may run
any number of times). A different result makes a new version: a still
``computed`` latest version is superseded; an ``approved`` or ``paid`` one is
never changed silently — the new version waits for the reviewer's approval,
and only that approval supersedes an approved, unpaid predecessor. A paid
predecessor stays paid; the new version's trace carries ``previously_paid``
and the finance officer pays only the difference.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.bulk import bulk_insert
from core.choices import Role
from core.models import SchemeVersion
from core.money import ZERO, money
from core.permissions import require
from core.services import audit_record, notify, users_with_role

from .. import permissions as perms
from ..choices import RunKind
from ..models import SubsidyRun, trace_digest
from ._common import CS, as_text, scheme_for_year, scheme_trace


@dataclass
class Figure:
    amount: Decimal
    uncapped: Decimal
    capped: bool
    trace: dict


@dataclass
class RunResult:
    year: int
    created: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    excluded: list = field(default_factory=list)
    run: SubsidyRun | None = None

    def as_dict(self) -> dict:
        return {"year": self.year, "created": len(self.created), "unchanged": len(self.unchanged),
                "excluded": self.excluded}


def _same(fig: Figure, digest: str, latest: dict, scheme: SchemeVersion) -> bool:
    return (latest["amount"] == fig.amount and latest["uncapped_amount"] == fig.uncapped
            and latest["capped"] == fig.capped and latest["scheme_id"] == scheme.pk
            and latest["trace_digest"] == digest)


def _year_settled(versions: list[dict]) -> Decimal:
    """I10: what the enterprise has been given for one year so far, over all versions: cash paid, plus
    recoveries netted from those payments, less what was recovered (``SubsidyFigure.settled_value``)."""
    return sum((money(v["paid_amount"] or 0) + v["netted"] - v["recovered"] for v in versions), ZERO)


_STORED = ("pk", "enterprise_id", "version", "state", "amount", "uncapped_amount", "capped", "scheme_id",
           "trace_digest", "paid_amount", "netted", "recovered")


def _store(model, *, year: int, scheme: SchemeVersion, figures: dict[int, Figure], scheme_trace: dict,
           result: RunResult) -> None:
    """Create new versions where a figure changed; leave equal ones alone (idempotent).

    The year's rows are read as plain values, without their traces: a figure is the same when its amounts,
    scheme and trace digest are (``models.trace_digest``).
    """
    existing: dict[int, list] = defaultdict(list)
    # Locked (pk order): an approval or payment committing meanwhile is seen, never overwritten.
    for row in model.objects.select_for_update().filter(year=year).order_by("pk").values(*_STORED):
        existing[row["enterprise_id"]].append(row)
    new_rows = []
    to_supersede = []
    for ent_id, fig in figures.items():
        versions = sorted(existing.get(ent_id, []), key=lambda r: r["version"])
        latest = versions[-1] if versions else None
        digest = trace_digest(fig.trace)
        if latest is not None and latest["state"] != CS.SUPERSEDED and _same(fig, digest, latest, scheme):
            result.unchanged.append(latest["pk"])
            continue
        trace = {**fig.trace, "scheme": scheme_trace}
        paid = _year_settled(versions)
        trace["previously_paid"] = as_text(paid)
        if latest is not None:
            trace["supersedes"] = {"version": latest["version"], "state": latest["state"]}
            if latest["state"] == CS.COMPUTED:
                to_supersede.append(latest["pk"])
        new_rows.append(model(enterprise_id=ent_id, year=year, version=(latest["version"] + 1) if latest else 1,
                              amount=fig.amount, uncapped_amount=fig.uncapped, capped=fig.capped, trace=trace,
                              trace_digest=digest, scheme=scheme, recovery=max(paid - fig.amount, ZERO)))
    for row in model.objects.filter(pk__in=to_supersede).order_by("pk"):
        row.supersede()
        row.save(update_fields=["state"])
        audit_record(actor=None, target=row, action="supersede", from_state=CS.COMPUTED, to_state=CS.SUPERSEDED,
                     reason=_("重新测算结果不同，生成新版本"))
    bulk_insert(model, new_rows, key="enterprise")  # one new version per enterprise in a run
    result.created.extend(new_rows)


def _record_run(kind: str, result: RunResult, actor) -> None:
    """Log the run (with the enterprises excluded under R17) unless it changed nothing at all."""
    last = SubsidyRun.objects.filter(kind=kind, year=result.year).order_by("-pk").first()
    if not result.created and last is not None and last.summary.get("excluded") == result.excluded:
        result.run = last
        return
    result.run = SubsidyRun.objects.create(kind=kind, year=result.year, actor=actor if getattr(actor, "pk", None) else None,
                                           summary=result.as_dict())
    audit_record(actor=actor, target=result.run, action=f"{kind}_compute", data=result.as_dict())


def _tell_reviewers(model, result: RunResult) -> None:
    """New figures wait for the bureau's approval: one notice per run that created any."""
    if not result.created:
        return
    notify(users=users_with_role(Role.REVIEWER), verb="subsidy_to_approve",
           msg=gettext_noop("%(year)s 年度%(what)s已生成 %(n)s 项新测算，待审定"),
           params={"year": result.year, "what": model._meta.verbose_name, "n": len(result.created)},
           url=f"{reverse('subsidies:index')}?year={result.year}")


_LOCK_KEYS = {RunKind.GRANT: 6101, RunKind.PREMIUM: 6102}


def _lock_year(kind: str, year: int) -> None:
    """One computation of a kind and year at a time (PostgreSQL advisory lock, released at commit)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_KEYS[kind], year])


def _may_compute(actor) -> None:
    if actor is not None:  # the yearly job runs without a user
        require(perms.can_compute(actor))

def run_begin(kind: str, *, year: int, actor) -> SchemeVersion:
    """Who may compute, one run of ``kind`` and ``year`` at a time, and the year's scheme version (R19)."""
    _may_compute(actor)
    _lock_year(kind, year)
    return scheme_for_year(year)


def blacklisted_rows(excluded: dict[int, str]) -> list[dict]:
    """R17: the enterprises left out of the run, by id and name."""
    return [{"enterprise": e, "name": n, "rule": "R17", "reason": "blacklisted"} for e, n in sorted(excluded.items())]


def run_finish(model, kind: str, *, result: RunResult, scheme: SchemeVersion, figures: dict[int, Figure], actor,
               scheme_fields: tuple[str, ...]) -> RunResult:
    """Store the changed figures as new versions, log the run and tell the bureau what waits for approval."""
    _store(model, year=result.year, scheme=scheme, figures=figures,
           scheme_trace=scheme_trace(scheme, result.year, *scheme_fields), result=result)
    _record_run(kind, result, actor)
    _tell_reviewers(model, result)
    return result
