"""The risk pool's figures: now, after each entry, at the end of each day, and its tranches."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from core.money import ZERO, money

from .. import accounts as codes
from ..choices import AccountKind
from ..models import Account, PoolTranche, Posting

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
    from ..models import PoolDay

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

    from ..models import PoolDay

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
