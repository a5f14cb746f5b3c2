"""The permission matrix: every page and API route × every role × own and another organisation's object.

The routes come from the URL configuration (``get_resolver()``), so a new route is in the test the moment it is
added. The expected answers are in ``tests/permission_matrix.csv``, one line per route and method:

    route,method,anonymous,enterprise,platform,reviewer,expert,custodian,pool_manager,auditor,finance

A cell is the status code for a route without an object (``200``), or ``own/other`` for a route about one object
(``200/404``: the user's own organisation's object answers 200, another organisation's 404). "Own" is the side of
enterprise 1 and platform 1 (the expert is assigned to its project); "other" the side of enterprise 2 and
platform 2. Oversight roles see both sides alike. The anonymous user has one code.

GETs are sent for every route. POSTs (PATCH for the API's update routes) are sent for every route that takes them,
with an empty body, inside a savepoint that is rolled back; a refused one (401, 403, 404, 405, or a redirect to
the login page) must not have written anything. Successful writes are not driven here (each app's tests do).

To add a route: add its lines to the CSV (the failure message prints them as observed; check each cell is what
the role may do), or regenerate the whole file with ``ANXINBAO_MATRIX_WRITE=1`` and review the diff. A route with
an object in its path also needs an entry in ``OBJECTS`` below saying which object its id names.
"""
from __future__ import annotations

import csv
import inspect
import io
import logging
import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

MATRIX = Path(__file__).with_name("permission_matrix.csv")
ROLES = {"anonymous": None, "enterprise": "enterprise", "platform": "platform", "reviewer": "reviewer",
         "expert": "expert1", "custodian": "custodian", "pool_manager": "poolmanager", "auditor": "auditor",
         "finance": "finance"}
SIDES = ("own", "other")
# Not part of the matrix: Django's admin (superusers only, its own permission system), the login page and the
# language switch (open to everyone by design), the schema's format-suffix duplicates of the API routes.
SKIP_NAMESPACES = ("admin",)
SKIP_ROUTES = {"login", "set_language"}
REFUSED = {401, 403, 404, 405}
# Routes that end the session: sent by a client of their own so that the role's client stays signed in.
SESSION_ENDING = {"logout"}
# Routes whose answer is the same for everyone signed in (the OpenAPI schema, whose generation is slow): checked
# as anonymous and as the enterprise; the other cells read "=".
ROLE_BLIND = {"schema"}

# Which object the id in a route's path names (kinds are built by ``World``). Routes whose path holds no id need
# no entry. ``str`` parameters that select an action are listed in ``VALUES``: each value is its own matrix line.
OBJECTS = {
    "dashboards:case_edit": "project",
    "escrow:operation_confirm": "operation", "escrow:operation_redispatch": "operation",
    "escrow:operation_review": "operation", "escrow:operation_reject": "operation",
    "escrow:statement": "statement", "escrow:account_statement": "account",
    "projects:attachment": "attachment", "projects:detail": "project", "projects:edit": "project",
    "projects:attachment_upload": "project", "projects:review": "project", "projects:action": "project",
    "milestones:project": "project", "milestones:project-action": "project", "milestones:action": "milestone",
    "milestones:operation-confirm": "operation", "milestones:attachment": "milestone_attachment",
    "subsidies:figure": "figure", "subsidies:approve": "figure", "subsidies:pay": "figure",
    "subsidies:audit": "audit", "subsidies:audit_report": "audit", "subsidies:policy": "policy",
    "subsidies:policy_document": "policy", "subsidies:blacklist_evidence": "blacklist",
    "reports:detail": "report", "reports:progress": "report", "reports:download": "report",
    "reports:project-export": "project",
    "organization-detail": "organization", "scheme-detail": "scheme",
    "ledger-account-detail": "account", "ledger-entry-detail": "entry",
    "operation-detail": "operation", "operation-confirm": "operation", "operation-reject": "operation",
    "project-detail": "project", "project-history": "project", "project-reviews": "project",
    "project-approval-outcome": "project",
    "project-action": "project", "api-milestone-detail": "milestone", "api-milestone-action": "milestone",
    "insurance-policy-detail": "policy", "insurance-policy-document": "policy", "insurance-claim-detail": "claim",
    "audit-detail": "audit", "audit-opinion": "audit", "audit-report": "audit",
    "grant-detail": "grant", "grant-approve": "grant", "grant-pay": "grant",
    "premium-detail": "premium", "premium-approve": "premium", "premium-pay": "premium",
    "other-subsidy-detail": "other_subsidy",
    "reports-api:report-detail": "report", "reports-api:report-download": "report",
    "reports-api:report-retry": "report",
    "projects:loan_create": "project", "projects:loan_action": "loan", "project-loans": "project",
    "loan-detail": "loan", "loan-action": "loan",
    "project-attachments": "project", "attachment-download": "attachment",
}


def _values():
    from projects.loans.services import LOAN
    from projects.milestones.registry import MILESTONE
    from projects.registry import PROJECT, milestone_panel_actions

    return {
        "projects:action": {"action": PROJECT.names()}, "project-action": {"action_name": PROJECT.names()},
        "milestones:project-action": {"action": milestone_panel_actions()},
        "milestones:action": {"action": MILESTONE.names()}, "api-milestone-action": {"action": MILESTONE.names()},
        "projects:loan_action": {"action": LOAN.names()}, "loan-action": {"action": LOAN.names()},
        "subsidies:compute": {"kind": ["grant", "premium"]}, "subsidies:figure": {"kind": ["grant", "premium"]},
        "subsidies:approve": {"kind": ["grant", "premium"]}, "subsidies:pay": {"kind": ["grant", "premium"]},
    }


def _walk(resolver, namespace=None):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(x for x in (namespace, p.namespace) if x) or None
            if p.namespace not in SKIP_NAMESPACES:
                yield from _walk(p, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield (f"{namespace}:{p.name}" if namespace else p.name), p


def _methods(pattern) -> list[str]:
    """GET always; POST or PATCH where the view takes them. A function view takes POST when its code reads the
    method (``request.method``, ``require_POST``, ``request.POST``); one that does not answers a POST as a GET."""
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:
        return ["GET", *[m.upper() for m in ("post", "patch") if m in actions]]
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return ["GET", *[m.upper() for m in ("post", "patch") if hasattr(view_class, m)]]
    view = inspect.unwrap(callback)
    try:
        source = inspect.getsource(view)
    except (OSError, TypeError):
        return ["GET", "POST"]
    return ["GET", "POST"] if "POST" in source or _decorated_post_only(callback) else ["GET"]


def _decorated_post_only(callback) -> bool:
    """``require_POST`` (or ``require_http_methods``) around the view: the decorator's closure holds the list."""
    for cell in getattr(callback, "__closure__", None) or ():
        value = cell.cell_contents
        if isinstance(value, (list, tuple)) and "POST" in value:
            return True
    return False


def routes() -> list[dict]:
    """Every route of the URL configuration as matrix lines: name (with its action value), kwargs maker, methods."""
    values = _values()
    seen, out, missing = set(), [], []
    for name, pattern in _walk(get_resolver()):
        if name in SKIP_ROUTES or "format" in pattern.pattern.regex.groupindex or name.endswith("api-root"):
            continue
        if name in seen:
            continue
        seen.add(name)
        params = [k for k in pattern.pattern.regex.groupindex if k not in values.get(name, {})]
        obj = OBJECTS.get(name)
        extra = [k for k in params if k not in ("pk", "project_id", "op_id", "att_id", "year")]
        if (params and obj is None and params != ["year"]) or extra:
            missing.append(f"{name} ({pattern.pattern}): add it to OBJECTS (the object its id names) "
                           f"or VALUES in tests/test_permission_matrix.py")
            continue
        choices = [{}]
        for key, options in values.get(name, {}).items():
            choices = [{**c, key: v} for c in choices for v in options]
        for choice in choices:
            label = name + "".join(f"[{v}]" for v in choice.values())
            out.append({"route": label, "name": name, "fixed": choice, "params": params, "object": obj,
                        "methods": _methods(pattern)})
    assert not missing, "\n".join(missing)
    return out


class World:
    """The demo data (seed_demo) and, for each kind of object, one on the own side and one on the other side."""

    def __init__(self):
        call_command("seed_demo", stdout=io.StringIO())
        from core.models import BlacklistEntry, Organization, SchemeVersion, User
        from escrow.models import Account, BankStatement, JournalEntry, MoneyOperation
        from projects.loans.models import GuaranteeLoan
        from projects.models import Attachment, ExpertAssignment, Milestone, Project
        from reports.models import Report
        from subsidies.models import (
            AnnualAudit,
            GrantComputation,
            InsuranceClaim,
            InsurancePolicy,
            OtherPolicySubsidy,
            PremiumSubsidy,
        )

        self.users = {u.username: u for u in User.objects.all()}
        ent1, ent2 = (self.users[u].organization for u in ("enterprise", "enterprise2"))
        plat1, plat2 = (self.users[u].organization for u in ("platform", "platform2"))
        pairs = {"own": (ent1, plat1), "other": (ent2, plat2)}
        self.objects: dict[tuple[str, str], int] = {}
        for side, (ent, plat) in pairs.items():
            projects = Project.objects.filter(enterprise=ent, platform=plat).order_by("pk")
            ids = list(projects.values_list("pk", flat=True))
            active = projects.filter(state="active").first()
            first = lambda qs: qs.order_by("pk").values_list("pk", flat=True).first()  # noqa: E731
            accounts = Account.objects.filter(project_ref__in=ids, code__startswith="custody")
            statement = BankStatement.objects.order_by("pk").first()
            if statement is None:
                statement = BankStatement.objects.create(filename="matrix.csv", sha256="0" * 64,
                                                         uploaded_by=self.users["custodian"])
            if not Report.objects.filter(requested_by__organization=ent).exists():
                user = self.users["enterprise" if side == "own" else "enterprise2"]
                Report.objects.create(kind="project_dossier", params={"project": active.pk}, requested_by=user,
                                      organization=ent)
            self.objects.update({
                (side, "project"): active.pk,
                (side, "milestone"): first(Milestone.objects.filter(project=active)),
                (side, "operation"): first(MoneyOperation.objects.filter(project_ref__in=ids)),
                (side, "attachment"): first(Attachment.objects.filter(project__in=ids, milestone__isnull=True)),
                (side, "milestone_attachment"): first(Attachment.objects.filter(project__in=ids,
                                                                                milestone__isnull=False)),
                (side, "account"): first(accounts),
                (side, "entry"): first(JournalEntry.objects.filter(postings__account__in=accounts)),
                (side, "statement"): statement.pk,
                (side, "audit"): first(AnnualAudit.objects.filter(project__enterprise=ent)),
                (side, "policy"): first(InsurancePolicy.objects.filter(project__enterprise=ent)),
                (side, "claim"): first(InsuranceClaim.objects.all()) if side == "own" else None,
                (side, "grant"): first(GrantComputation.objects.filter(enterprise=ent)),
                (side, "premium"): first(PremiumSubsidy.objects.filter(enterprise=ent)),
                (side, "other_subsidy"): first(OtherPolicySubsidy.objects.all()) if side == "own" else None,
                (side, "report"): first(Report.objects.filter(requested_by__organization=ent)),
                (side, "loan"): None,
                (side, "organization"): ent.pk,
                (side, "scheme"): SchemeVersion.objects.order_by("pk").first().pk,
            })
        # The demo's claim and other subsidy belong to enterprise 1; the other side gets its own copies.
        claim = InsuranceClaim.objects.get(pk=self.objects[("own", "claim")])
        other_policy = InsurancePolicy.objects.get(pk=self.objects[("other", "policy")])
        self.objects[("other", "claim")] = InsuranceClaim.objects.create(
            policy=other_policy, assessed_loss=claim.assessed_loss, paid_amount=claim.paid_amount,
            paid_on=claim.paid_on, description=claim.description, created_by=claim.created_by).pk
        # The demo's loan is copied onto each side's project (the expert's assignment to the demo's loan project is
        # drawn at random, to the own project it is fixed below).
        loan = GuaranteeLoan.objects.order_by("pk").first()
        for side, user in (("own", "enterprise"), ("other", "enterprise2")):
            self.objects[(side, "loan")] = GuaranteeLoan.objects.create(
                project_id=self.objects[(side, "project")], lender=loan.lender, guarantor=loan.guarantor,
                amount=loan.amount, rate=loan.rate, term_months=loan.term_months, purpose=loan.purpose,
                state=loan.state, created_by=self.users[user]).pk
        subsidy = OtherPolicySubsidy.objects.get(pk=self.objects[("own", "other_subsidy")])
        self.objects[("other", "other_subsidy")] = OtherPolicySubsidy.objects.create(
            enterprise=ent2, policy_name=subsidy.policy_name, issuer=subsidy.issuer, type=subsidy.type,
            year=subsidy.year, amount=subsidy.amount, premium_covered=subsidy.premium_covered,
            created_by=subsidy.created_by).pk
        evidence = BlacklistEntry.objects.create(organization=Organization.objects.get(kind="insurer"),
                                                 action="add", reason="权限矩阵测试", actor=self.users["reviewer"])
        self.objects[("own", "blacklist")] = self.objects[("other", "blacklist")] = evidence.pk
        # The expert is assigned to the own project (experts see the projects they review).
        ExpertAssignment.objects.get_or_create(project_id=self.objects[("own", "project")],
                                               expert=self.users["expert1"])
        empty = [key for key, pk in self.objects.items() if pk is None]
        assert not empty, f"the demo data has no object for {empty}: build one in World"
        self.year = InsurancePolicy.objects.order_by("pk").first().year

    def url(self, route: dict, side: str) -> str:
        kwargs = dict(route["fixed"])
        for param in route["params"]:
            kind = kwargs["kind"] if route["object"] == "figure" else route["object"]  # grant or premium
            kwargs[param] = self.year if param == "year" else self.objects[(side, kind)]
        return reverse(route["name"], kwargs=kwargs)


def _fingerprint():
    """What a refused request must not change: rows of the audit trail, the ledger, operations, files, notices,
    and every project's and milestone's state."""
    from core.models import AuditEvent, Notification
    from escrow.models import JournalEntry, MoneyOperation
    from projects.models import Attachment, Milestone, Project

    return (AuditEvent.objects.count(), JournalEntry.objects.count(), MoneyOperation.objects.count(),
            Attachment.objects.count(), Notification.objects.count(),
            hash(tuple(Project.objects.order_by("pk").values_list("state", flat=True))),
            hash(tuple(Milestone.objects.order_by("pk").values_list("state", flat=True))))


def _refused(response) -> bool:
    return response.status_code in REFUSED or (
        response.status_code == 302 and response.url.startswith(reverse("login")))


def _send(client: Client, method: str, url: str, problems: list[str], label: str) -> int:
    if method == "GET":
        return client.get(url).status_code
    with transaction.atomic():
        before = _fingerprint()
        if url.startswith("/api/"):
            response = getattr(client, method.lower())(url, data="{}", content_type="application/json")
        else:
            response = client.post(url, {})
        if _refused(response) and _fingerprint() != before:
            problems.append(f"{label}: refused with {response.status_code} but changed the database")
        transaction.set_rollback(True)
    return response.status_code


def read_matrix() -> dict[tuple[str, str], dict[str, str]]:
    if not MATRIX.exists():
        return {}
    with MATRIX.open(newline="") as f:
        return {(row["route"], row["method"]): {r: row[r] for r in ROLES} for row in csv.DictReader(f)}


def write_matrix(observed: dict[tuple[str, str], dict[str, str]]) -> None:
    with MATRIX.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["route", "method", *ROLES])
        for (route, method), cells in sorted(observed.items()):
            writer.writerow([route, method, *(cells[r] for r in ROLES)])


def _line(key, cells) -> str:
    return ",".join([*key, *(cells[r] for r in ROLES)])


def observe(route, world, clients, observed, problems) -> None:
    for method in route["methods"]:
        cells = {}
        for role, client in clients.items():
            if route["name"] in ROLE_BLIND and role not in ("anonymous", "enterprise"):
                cells[role] = "="
                continue
            if route["name"] in SESSION_ENDING and role != "anonymous":
                client = Client(raise_request_exception=False)
                client.force_login(world.users[ROLES[role]])
            sides = SIDES if route["params"] and route["object"] and role != "anonymous" else SIDES[:1]
            codes = [str(_send(client, method, world.url(route, side), problems,
                               f"{route['route']} {method} {role} {side}")) for side in sides]
            cells[role] = "/".join(codes)
        observed[(route["route"], method)] = cells


@pytest.mark.django_db
def test_permission_matrix():
    started = time.monotonic()
    world = World()
    clients = {}
    for role, username in ROLES.items():
        clients[role] = Client(raise_request_exception=False)
        if username:
            clients[role].force_login(world.users[username])
    observed, problems = {}, []
    logging.disable(logging.WARNING)  # refusals are logged by django.request; thousands of them here
    try:
        timings = []
        for route in routes():
            t0 = time.monotonic()
            observe(route, world, clients, observed, problems)
            timings.append((time.monotonic() - t0, route["route"]))
        if os.environ.get("ANXINBAO_MATRIX_TIMINGS"):
            print(sorted(timings)[-25:])
    finally:
        logging.disable(logging.NOTSET)
    if os.environ.get("ANXINBAO_MATRIX_WRITE"):
        write_matrix(observed)
    expected = read_matrix()
    new = [_line(k, c) for k, c in observed.items() if k not in expected]
    gone = [f"{k[0]} {k[1]}" for k in expected if k not in observed]
    changed = [f"{k[0]} {k[1]} {role}: expected {expected[k][role]}, got {c[role]}"
               for k, c in observed.items() if k in expected for role in ROLES if expected[k][role] != c[role]]
    server_errors = [f"{k[0]} {k[1]} {role}: {c[role]}" for k, c in observed.items() for role in ROLES
                     if "5" in [code[0] for code in c[role].split("/")]]
    message = []
    if new:
        message.append(f"Routes without an expectation in {MATRIX.name}: add these lines (as observed; check that "
                       "each cell is what the role may do), or regenerate with ANXINBAO_MATRIX_WRITE=1:\n"
                       + "\n".join(new))
    if gone:
        message.append(f"Lines of {MATRIX.name} for routes that no longer exist (remove them):\n" + "\n".join(gone))
    if changed:
        message.append("Answers that differ from the matrix:\n" + "\n".join(changed))
    if server_errors:
        message.append("Server errors:\n" + "\n".join(server_errors))
    message += problems
    assert not message, "\n\n".join(message)
    print(f"permission matrix: {len(observed)} route lines × {len(ROLES)} roles in {time.monotonic() - started:.1f} s")
