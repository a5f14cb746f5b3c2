"""Money through the ledger over a period: custody flows, what platforms receive, a project's postings, the
pool's movements. Every such figure in pages, reports and subsidies is read here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.models.functions import ExtractMonth
from django.utils import timezone

from core.money import ZERO
from core.periods import year_bounds

from .. import accounts as codes
from ..choices import OperationKind
from ..models import Account, JournalEntry, Posting


def ledger_mark() -> str:
    """The journal's last entry and its size: a new entry (or one committed late, with a lower number)
    changes it, so figures cached under it are never stale. Entries are never changed or removed."""
    from django.db.models import Count, Max

    mark = JournalEntry.objects.aggregate(last=Max("pk"), n=Count("pk"))
    return f"{mark['last']}-{mark['n']}"


# -- custody flows --------------------------------------------------------------
@dataclass
class Flows:
    """Money through custody accounts (workflow.md's ledger), classified by the counterpart postings."""

    inputs: Decimal = ZERO       # ext:enterprise → custody (deposits and balances)
    releases: Decimal = ZERO     # custody → ext:platform in a release (R7)
    forfeitures: Decimal = ZERO  # custody → ext:platform in a forfeit (R8)
    refunds: Decimal = ZERO      # custody → ext:enterprise (I3), a forfeit's remainder included

    @property
    def held(self) -> Decimal:
        return self.inputs - self.releases - self.forfeitures - self.refunds

    def add(self, other: Flows) -> None:
        self.inputs += other.inputs
        self.releases += other.releases
        self.forfeitures += other.forfeitures
        self.refunds += other.refunds


_TO_ENTERPRISE = Q(account__code__startswith=codes.EXT_ENTERPRISE)
_TO_PLATFORM = Q(account__code__startswith=codes.EXT_PLATFORM, amount__gt=0)
_FORFEIT = Q(entry__operation__kind=OperationKind.FORFEIT) | Q(entry__operation__purpose="milestone_forfeit")
_FLOW_SUMS = {"inputs": Sum("amount", filter=_TO_ENTERPRISE & Q(amount__lt=0)),
              "refunds": Sum("amount", filter=_TO_ENTERPRISE & Q(amount__gt=0)),
              "platform": Sum("amount", filter=_TO_PLATFORM),
              "forfeitures": Sum("amount", filter=_TO_PLATFORM & _FORFEIT)}


def _flows(row: dict) -> Flows:
    platform = row["platform"] or ZERO
    forfeitures = row["forfeitures"] or ZERO
    return Flows(inputs=-(row["inputs"] or ZERO), releases=platform - forfeitures, forfeitures=forfeitures,
                 refunds=row["refunds"] or ZERO)


def custody_flows(*, project_ids=None, start: datetime | None = None, end: datetime | None = None,
                  by: str | None = "project"):
    """Every journal entry that touches a custody account, classified by its counterpart postings:
    ext:enterprise → custody = input, custody → ext:enterprise = refund, custody → ext:platform =
    forfeiture in a forfeit operation (R8; its refund of the remainder counts as a refund, I3),
    release otherwise (R7). Entries dated in [start, end).

    ``by="project"`` → {project_id: Flows}; ``by="month"`` → {month: Flows} (local calendar);
    ``by=None`` → one Flows for everything. One grouped query, whatever the journal's size.
    """
    custody = Posting.objects.filter(account__code__startswith=codes.CUSTODY)
    if project_ids is not None:
        prefixes = Q(pk__in=[])
        for pid in project_ids:
            prefixes |= Q(account__code__startswith=codes.custody_of_project(pid))
        custody = custody.filter(prefixes)
    if start is not None:
        custody = custody.filter(entry__created_at__gte=start)
    if end is not None:
        custody = custody.filter(entry__created_at__lt=end)
    counterparts = Posting.objects.filter(entry_id__in=custody.values("entry_id"),
                                          account__code__startswith=codes.EXTERNAL).order_by()
    if by is None:
        return _flows(counterparts.aggregate(**_FLOW_SUMS))
    if by == "project":
        key = Subquery(Posting.objects.filter(entry_id=OuterRef("entry_id"), account__code__startswith=codes.CUSTODY)
                       .order_by("pk").values("account__code")[:1])
    elif by == "month":
        key = ExtractMonth("entry__created_at", tzinfo=timezone.get_current_timezone())
    else:
        raise ValueError(by)
    out: dict[int, Flows] = {}
    for row in counterparts.annotate(key=key).values("key").annotate(**_FLOW_SUMS):
        k = codes.custody_project_id(row["key"]) if by == "project" else row["key"]
        if k is None:
            continue
        flows = out.setdefault(k, Flows())
        flows.add(_flows(row))
    return out


# -- what platforms receive ---------------------------------------------------
RECEIPT_KINDS = (OperationKind.RELEASE, OperationKind.FORFEIT)
_RECEIPT_KEYS = {"project": ("entry__operation__project_ref",),
                 "platform": ("account__owner_id", "entry__operation__kind"),
                 "kind": ("entry__operation__kind",)}


def platform_receipts(*, by: str, year: int | None = None, kinds=RECEIPT_KINDS, project_ids=None,
                      platform_id: int | None = None) -> dict:
    """Money paid to platforms: positive postings to ``ext:platform:*`` in entries of money operations of
    ``kinds`` (releases and forfeitures: what I5 counts as the enterprise's input), dated in the calendar
    year ``year`` (Asia/Shanghai; None: all time), optionally of some projects or one platform.

    ``by="project"`` → {project_id: total} (the operation's project); ``by="platform"`` →
    {(platform_id, kind): total}; ``by="kind"`` → {kind: total}. One grouped query.
    """
    qs = Posting.objects.filter(amount__gt=0, account__code__startswith=codes.EXT_PLATFORM,
                                entry__operation__kind__in=list(kinds))
    if year is not None:
        start, end = year_bounds(year)
        qs = qs.filter(entry__created_at__gte=start, entry__created_at__lt=end)
    if project_ids is not None:
        qs = qs.filter(entry__operation__project_ref__in=list(project_ids))
    if platform_id is not None:
        qs = qs.filter(account__code=codes.ext_platform(platform_id))
    keys = _RECEIPT_KEYS[by]
    rows = qs.order_by().values_list(*keys).annotate(total=Sum("amount")).values_list(*keys, "total")
    if by == "project":
        return {int(project): total for project, total in rows if project is not None}
    if by == "platform":
        return {(owner, kind): total for owner, kind, total in rows}
    return dict(rows)


# -- a project's and a year's ledger, for documents ------------------------------
def custody_accounts(project_id: int) -> list[Account]:
    """The project's custody accounts (one per milestone that took money), in code order."""
    return list(Account.objects.filter(code__startswith=codes.custody_of_project(project_id)).order_by("code"))


def project_postings(project_id: int) -> list[Posting]:
    """Every posting of every entry that touches the project's custody or pool-advance accounts."""
    touching = (Q(account__code__startswith=codes.custody_of_project(project_id))
                | Q(account__code=codes.pool_advanced(project_id)))
    entry_ids = Posting.objects.filter(touching).values("entry_id")
    return list(Posting.objects.filter(entry_id__in=entry_ids).select_related("account", "entry", "entry__actor")
                .order_by("entry__created_at", "entry_id", "pk"))


def custody_project_ids(*, year: int) -> set[int]:
    """Projects whose custody accounts moved during the calendar year ``year``."""
    start, end = year_bounds(year)
    moved = (Posting.objects.filter(account__code__startswith=codes.CUSTODY,
                                    entry__created_at__gte=start, entry__created_at__lt=end)
             .values_list("account__code", flat=True).distinct())
    return {pid for pid in map(codes.custody_project_id, moved) if pid}


def pool_moves(*, year: int) -> dict[str, Decimal]:
    """The pool's movements during ``year``: "in" to and "out" of the available balance, and "losses"."""
    start, end = year_bounds(year)
    moves: dict[str, Decimal] = {}
    for code, amount in (Posting.objects.filter(entry__created_at__gte=start, entry__created_at__lt=end,
                                                account__code__startswith=codes.POOL)
                         .values_list("account__code", "amount")):
        if code == codes.POOL_AVAILABLE:
            key, amount = ("in", amount) if amount > 0 else ("out", -amount)
        elif code == codes.POOL_LOSSES:
            key = "losses"
        else:
            continue
        moves[key] = moves.get(key, ZERO) + amount
    return moves
