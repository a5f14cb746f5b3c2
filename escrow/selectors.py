"""Reads of the escrow app. Pages, API and reports all read figures from here.

Scoping (who may see what): oversight roles (reviewer, auditor, custodian,
pool manager, finance) see the whole ledger; enterprise and platform staff
see only their organisation's own accounts, the custody (and, for the
platform, pool-advance) accounts of their projects, the entries touching
those accounts and the operations of their projects; everybody else sees
nothing. Another organisation's object is simply not found (404).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import ExtractMonth
from django.utils import timezone
from django.utils.translation import pgettext

from core.choices import Role
from core.money import ZERO, money
from core.periods import year_bounds
from core.permissions import is_oversight

from . import accounts as codes
from .choices import AccountKind, OperationKind, OperationState
from .models import Account, BankStatement, BankStatementLine, JournalEntry, MoneyOperation, PoolTranche, Posting

log = logging.getLogger(__name__)

POOL_KINDS = [AccountKind.POOL_FUNDING, AccountKind.POOL_AVAILABLE, AccountKind.POOL_ADVANCED,
              AccountKind.POOL_LOSSES]


# -- pool ---------------------------------------------------------------------
@dataclass(frozen=True)
class PoolSummary:
    funding: Decimal
    available: Decimal
    advanced: Decimal
    losses: Decimal

    @property
    def utilisation(self) -> Decimal:
        """Share of the pool's funding that is advanced or lost, 0–1 (a ratio, not money)."""
        if not self.funding:
            return Decimal("0.0000")
        return ((self.advanced + self.losses) / self.funding).quantize(Decimal("0.0001"))


def account_names(account_codes: Iterable[str], *, project_titles: dict | None = None) -> dict[str, str]:
    """Each account code in words (``accounts.account_name``), with its organisation's name looked up."""
    from core.models import Organization

    account_codes = set(account_codes)
    owners = {codes.owner_id_of(code) for code in account_codes} - {None}
    org_names = dict(Organization.objects.filter(pk__in=owners).values_list("pk", "name")) if owners else {}
    return {code: codes.account_name(code, org_names=org_names, project_titles=project_titles)
            for code in account_codes}


def account_balance(code: str) -> Decimal:
    return Account.objects.filter(code=code).values_list("balance", flat=True).first() or ZERO


def pool_summary() -> PoolSummary:
    """Read from the balances kept on the account rows (two queries, whatever the journal's size)."""
    rows = dict(Account.objects.filter(code__in=codes.POOL_CODES).values_list("code", "balance"))
    advanced = money(Account.objects.filter(kind=AccountKind.POOL_ADVANCED)
                     .aggregate(s=Sum("balance"))["s"] or ZERO)
    return PoolSummary(funding=-(rows.get(codes.POOL_FUNDING) or ZERO),
                       available=rows.get(codes.POOL_AVAILABLE) or ZERO,
                       advanced=advanced,
                       losses=rows.get(codes.POOL_LOSSES) or ZERO)


@dataclass(frozen=True)
class PoolPoint:
    entry_id: int
    at: datetime
    memo: str
    funding: Decimal
    available: Decimal
    advanced: Decimal
    losses: Decimal


def pool_history(*, since: date | None = None) -> list[PoolPoint]:
    """The pool's figures after each entry that touched a pool account, in time order, from the postings."""
    rows = (Posting.objects.filter(account__kind__in=POOL_KINDS)
            .values("entry_id", "entry__created_at", "entry__memo", "account__kind")
            .annotate(total=Sum("amount")).order_by("entry__created_at", "entry_id", "account__kind"))
    figures = {kind: ZERO for kind in POOL_KINDS}
    points: list[PoolPoint] = []
    current = None

    def flush():
        if current is not None:
            points.append(PoolPoint(entry_id=current[0], at=current[1], memo=current[2],
                                    funding=-figures[AccountKind.POOL_FUNDING],
                                    available=figures[AccountKind.POOL_AVAILABLE],
                                    advanced=figures[AccountKind.POOL_ADVANCED],
                                    losses=figures[AccountKind.POOL_LOSSES]))

    for row in rows:
        if current is None or current[0] != row["entry_id"]:
            flush()
            current = (row["entry_id"], row["entry__created_at"], row["entry__memo"])
        figures[row["account__kind"]] += money(row["total"])
    flush()
    if since is not None:
        points = [p for p in points if timezone.localdate(p.at) >= since]
    return points


# A day is closed (its figures stored) once this long after its midnight: an entry stamped 23:59:59
# that commits a moment later is still counted in its own day.
CLOSE_AFTER = timedelta(minutes=10)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def pool_days(summary: PoolSummary | None = None) -> list[PoolPoint]:
    """The pool's figures at the end of each day with pool entries, then now: the chart's series.

    Closed days come from the stored series (PoolDay); days closed since the last stored one are summed
    once (two queries over their postings) and stored; today is the account balances. A page view reads a
    row per active day and the postings since the last closed day, however long the ledger grows.

    The stored series checks itself on every read: the last stored day plus the postings stamped after it
    must give the balances. An entry stamped before a day closed but committed after it (a long transaction
    around midnight) breaks that sum; the series is then summed afresh from the postings, once.
    """
    from .models import PoolDay

    now = timezone.localtime()
    last_closed = (now - CLOSE_AFTER).date() - timedelta(days=1)
    summary = summary or pool_summary()
    for attempt in range(2):
        stored = list(PoolDay.objects.all())
        since = stored[-1].day + timedelta(days=1) if stored else None
        if since is None or since <= last_closed:
            stored += _close_days(since, last_closed, stored[-1] if stored else None)
        open_since = _day_start(last_closed + timedelta(days=1))
        recent = dict(Posting.objects.filter(account__kind__in=POOL_KINDS, entry__created_at__gte=open_since)
                      .values_list("account__kind").annotate(total=Sum("amount")).values_list("account__kind", "total"))
        last = stored[-1] if stored else None
        expected = PoolSummary(
            funding=(last.funding if last else ZERO) - money(recent.get(AccountKind.POOL_FUNDING) or ZERO),
            available=(last.available if last else ZERO) + money(recent.get(AccountKind.POOL_AVAILABLE) or ZERO),
            advanced=(last.advanced if last else ZERO) + money(recent.get(AccountKind.POOL_ADVANCED) or ZERO),
            losses=(last.losses if last else ZERO) + money(recent.get(AccountKind.POOL_LOSSES) or ZERO))
        if expected == summary or attempt:
            break
        log.warning("pool daily series disagrees with the balances (%s vs %s): summed afresh", expected, summary)
        PoolDay.objects.all().delete()
    points = [PoolPoint(entry_id=0, at=timezone.make_aware(datetime.combine(d.day, time.max)), memo="",
                        funding=d.funding, available=d.available, advanced=d.advanced, losses=d.losses)
              for d in stored if d.entries]  # a quiet day's row only marks how far the series is closed
    if recent:
        points.append(PoolPoint(entry_id=0, at=now, memo="", funding=summary.funding, available=summary.available,
                                advanced=summary.advanced, losses=summary.losses))
    return points


def _close_days(since: date | None, through: date, previous) -> list:
    """Store the end-of-day figures of the days with pool entries from ``since`` (None: the start) to ``through``."""
    from django.db.models.functions import TruncDate

    from .models import PoolDay

    postings = Posting.objects.filter(account__kind__in=POOL_KINDS,
                                      entry__created_at__lt=_day_start(through + timedelta(days=1)))
    if since is not None:
        postings = postings.filter(entry__created_at__gte=_day_start(since))
    postings = postings.annotate(day=TruncDate("entry__created_at", tzinfo=timezone.get_current_timezone()))
    totals = postings.values("day", "account__kind").annotate(total=Sum("amount")).order_by("day")
    counts = dict(postings.values("day").annotate(n=Count("entry_id", distinct=True)).values_list("day", "n"))
    figures = {k: ZERO for k in POOL_KINDS}
    if previous is not None:
        figures = {AccountKind.POOL_FUNDING: -previous.funding, AccountKind.POOL_AVAILABLE: previous.available,
                   AccountKind.POOL_ADVANCED: previous.advanced, AccountKind.POOL_LOSSES: previous.losses}
    per_day: dict[date, list] = {}
    for row in totals:
        per_day.setdefault(row["day"], []).append((row["account__kind"], money(row["total"])))
    # The last closed day is stored even without entries: it marks the series as closed through that day,
    # so the next view does not sum the same quiet days again.
    per_day.setdefault(through, [])
    days = []
    for day in sorted(per_day):
        for kind, total in per_day[day]:
            figures[kind] += total
        days.append(PoolDay(day=day, funding=-figures[AccountKind.POOL_FUNDING],
                            available=figures[AccountKind.POOL_AVAILABLE], advanced=figures[AccountKind.POOL_ADVANCED],
                            losses=figures[AccountKind.POOL_LOSSES], entries=counts.get(day, 0)))
    PoolDay.objects.bulk_create(days, ignore_conflicts=True)  # a concurrent reader stores the same figures
    return days


def pool_recent(limit: int = 15, summary: PoolSummary | None = None) -> list[PoolPoint]:
    """The last ``limit`` entries that touched the pool, newest first, each with the pool's figures after it.

    Worked back from the current balances, so it reads ``limit`` entries, not the history before them.
    """
    summary = summary or pool_summary()
    last = (Posting.objects.filter(account__kind__in=POOL_KINDS).order_by("-entry_id")
            .values("entry_id").distinct()[:limit])
    sums: dict[int, dict] = {}
    entries: dict[int, tuple] = {}
    for row in (Posting.objects.filter(entry_id__in=last, account__kind__in=POOL_KINDS)
                .values("entry_id", "entry__created_at", "entry__memo", "account__kind").annotate(total=Sum("amount"))):
        sums.setdefault(row["entry_id"], {})[row["account__kind"]] = money(row["total"])
        entries[row["entry_id"]] = (row["entry__created_at"], row["entry__memo"])
    ids = sorted(entries, reverse=True)
    figures = {AccountKind.POOL_FUNDING: -summary.funding, AccountKind.POOL_AVAILABLE: summary.available,
               AccountKind.POOL_ADVANCED: summary.advanced, AccountKind.POOL_LOSSES: summary.losses}
    out = []
    for pk in ids:
        out.append(PoolPoint(entry_id=pk, at=entries[pk][0], memo=entries[pk][1],
                             funding=-figures[AccountKind.POOL_FUNDING], available=figures[AccountKind.POOL_AVAILABLE],
                             advanced=figures[AccountKind.POOL_ADVANCED], losses=figures[AccountKind.POOL_LOSSES]))
        for kind, total in sums.get(pk, {}).items():
            figures[kind] -= total
    return out


def pool_tranches() -> QuerySet[PoolTranche]:
    return PoolTranche.objects.select_related("operation", "created_by").order_by("-decided_on", "-pk")


# -- scoping ------------------------------------------------------------------
# escrow knows projects only as ids (``project_ref``). Which projects an organisation is party to is told by
# the app that owns projects, registered in its ready() (projects.selectors.party_project_ids): escrow
# depends on nothing above it. With no provider, enterprise and platform users see no project's money.
PartyProjects = Callable[[object], tuple[Iterable[int], Iterable[int]]]
_party_provider: PartyProjects | None = None


def register_party_projects(provider: PartyProjects) -> None:
    global _party_provider
    _party_provider = provider


def _party_projects(user):
    """Ids of the projects of the user's organisation (as enterprise, as platform), or (None, None) for all."""
    if is_oversight(user):
        return None, None
    if _party_provider is None:
        return [], []
    return _party_provider(user)


def accounts_visible_to(user) -> QuerySet[Account]:
    qs = Account.objects.select_related("owner").order_by("code")
    as_enterprise, as_platform = _party_projects(user)
    if as_enterprise is None:
        return qs
    org = getattr(user, "organization", None)
    if org is None or not user.has_role(Role.ENTERPRISE, Role.PLATFORM):
        return qs.none()
    return qs.filter(Q(owner=org)
                     | Q(kind=AccountKind.CUSTODY, project_ref__in=as_enterprise)
                     | Q(kind__in=[AccountKind.CUSTODY, AccountKind.POOL_ADVANCED], project_ref__in=as_platform))


def entries_visible_to(user) -> QuerySet[JournalEntry]:
    qs = (JournalEntry.objects.select_related("actor", "operation")
          .prefetch_related(Prefetch("postings", queryset=Posting.objects.select_related("account").order_by("pk")))
          .order_by("-pk"))
    if is_oversight(user):
        return qs
    return qs.filter(pk__in=Posting.objects.filter(account__in=accounts_visible_to(user)).values("entry_id"))


def operations_visible_to(user) -> QuerySet[MoneyOperation]:
    qs = operations_list()
    as_enterprise, as_platform = _party_projects(user)
    if as_enterprise is None:
        return qs
    return qs.filter(Q(project_ref__in=as_enterprise) | Q(project_ref__in=as_platform))


def operations_list() -> QuerySet[MoneyOperation]:
    return MoneyOperation.objects.select_related("ordered_by", "executed_by", "confirmed_by").order_by("-pk")


def can_see_pool(user) -> bool:
    return is_oversight(user)


# -- the custodian's desk -----------------------------------------------------
def desk_queues(user) -> dict:
    """Operations waiting on a custodian operator, and recent failures."""
    ops = operations_visible_to(user)
    awaiting = list(ops.filter(state=OperationState.AWAITING_CONFIRMATION).order_by("created_at", "pk"))
    pending = list(ops.filter(state__in=[OperationState.REQUESTED, OperationState.EXECUTING])
                   .order_by("created_at", "pk")[:100])
    failed = list(ops.filter(state=OperationState.FAILED).order_by("-finished_at", "-pk")[:20])
    return {"awaiting": awaiting, "pending": pending, "failed": failed}


# -- account statements -------------------------------------------------------
@dataclass(frozen=True)
class StatementRow:
    entry_id: int
    at: datetime
    memo: str
    amount: Decimal
    balance: Decimal
    operation_id: int | None
    operation_kind: str
    counterparts: str


@dataclass(frozen=True)
class Statement:
    account: Account
    start: date | None
    end: date | None
    opening: Decimal
    rows: list[StatementRow]
    closing: Decimal


def account_statement(account: Account, *, start: date | None = None, end: date | None = None) -> Statement:
    """The account's postings in [start, end] with the running balance, from the postings themselves."""
    postings = Posting.objects.filter(account=account)
    opening = ZERO
    if start is not None:
        opening = money(postings.filter(entry__created_at__date__lt=start).aggregate(s=Sum("amount"))["s"] or ZERO)
        postings = postings.filter(entry__created_at__date__gte=start)
    if end is not None:
        postings = postings.filter(entry__created_at__date__lte=end)
    postings = (postings.select_related("entry", "entry__operation")
                .prefetch_related(Prefetch("entry__postings", queryset=Posting.objects.select_related("account")))
                .order_by("entry_id", "pk"))
    running = opening
    rows = []
    for p in postings:
        running += p.amount
        op = getattr(p.entry, "operation", None)
        others = pgettext("标点", "、").join(q.account.code for q in p.entry.postings.all() if q.account_id != account.pk)
        rows.append(StatementRow(entry_id=p.entry_id, at=p.entry.created_at, memo=p.entry.memo, amount=p.amount,
                                 balance=running, operation_id=op.pk if op else None,
                                 operation_kind=op.get_kind_display() if op else "", counterparts=others))
    return Statement(account=account, start=start, end=end, opening=opening, rows=rows, closing=running)


# -- reconciliation -----------------------------------------------------------
CUSTODY_IN = (OperationKind.DEPOSIT, OperationKind.BALANCE)
CUSTODY_OUT = (OperationKind.RELEASE, OperationKind.FORFEIT, OperationKind.REFUND)


def custody_operations() -> QuerySet[MoneyOperation]:
    """Operations that move money through the Anxinbao account (done ones are expected on the statement)."""
    return MoneyOperation.objects.filter(kind__in=[*CUSTODY_IN, *CUSTODY_OUT], state=OperationState.DONE)


def reconciliation(statement: BankStatement) -> dict:
    lines = list(statement.lines.select_related("operation").order_by("line_no"))
    matched = [ln for ln in lines if ln.operation_id]
    unmatched_lines = [ln for ln in lines if not ln.operation_id]
    ops = custody_operations().select_related("ordered_by").order_by("finished_at", "pk")
    if statement.period_start:
        ops = ops.filter(finished_at__date__gte=statement.period_start)
    if statement.period_end:
        ops = ops.filter(finished_at__date__lte=statement.period_end)
    unmatched_ops = list(ops.exclude(pk__in=BankStatementLine.objects.filter(operation__isnull=False)
                                     .values("operation_id")))
    return {"statement": statement, "matched": matched, "unmatched_lines": unmatched_lines,
            "unmatched_operations": unmatched_ops}


def statements_list() -> QuerySet[BankStatement]:
    return BankStatement.objects.select_related("uploaded_by").order_by("-uploaded_at", "-pk")


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
