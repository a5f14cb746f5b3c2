"""Who sees which accounts, entries and operations (the package's docstring), and the custodian's desk."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db.models import Prefetch, Q, QuerySet

from core.choices import Role
from core.permissions import is_oversight

from .. import accounts as codes
from ..choices import AccountKind, OperationState
from ..models import Account, JournalEntry, MoneyOperation, Posting


def account_names(account_codes: Iterable[str], *, project_titles: dict | None = None) -> dict[str, str]:
    """Each account code in words (``accounts.account_name``), with its organisation's name looked up."""
    from core.models import Organization

    account_codes = set(account_codes)
    owners = {codes.owner_id_of(code) for code in account_codes} - {None}
    org_names = dict(Organization.objects.filter(pk__in=owners).values_list("pk", "name")) if owners else {}
    return {code: codes.account_name(code, org_names=org_names, project_titles=project_titles)
            for code in account_codes}


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
    return (MoneyOperation.objects.select_related("ordered_by", "executed_by", "confirmed_by", "rejected_by")
            .order_by("-pk"))


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
