"""Load the demo data. Running it twice changes nothing (every step is keyed)."""
from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand
from django.db import transaction

from core.models import Organization, SchemeVersion, User
from core.services import user_create
from demo import people
from escrow.services import pool_top_up
from projects import demo as projects_demo
from projects.milestones.demo import seed_milestones
from subsidies import demo as subsidies_demo


class Command(BaseCommand):
    help = "Create the Xiaoshan 2025 scheme version, the pool's first tranche, demo organisations and users."

    @transaction.atomic
    def handle(self, *args, **options):
        scheme, _ = SchemeVersion.objects.get_or_create(
            name="萧山区科创安心宝 2025 版", defaults={"valid_from": date(2025, 3, 9), "valid_to": date(2026, 3, 8)})
        orgs = {}
        for key, kind, name, body in people.ORGANIZATIONS:
            orgs[key], _ = Organization.objects.get_or_create(
                name=name, defaults={"kind": kind, "uscc": people.code(body)})
        for username, org_key, roles, full_name, superuser in people.USERS:
            if not User.objects.filter(username=username).exists():
                user_create(username=username, password=people.DEMO_PASSWORD, organization=orgs.get(org_key),
                            roles=roles, email=f"{username}@demo.anxinbao.local", is_superuser=superuser,
                            full_name=full_name)
        people.apply_demo_attributes(orgs)  # R1 district platforms, I17 expert categories
        people.outside_platform()
        people.scheme_renewal(scheme)  # I16: the 2026 renewal in force today
        pool_top_up(amount=scheme.pool_first_tranche, decided_on=date(2025, 3, 9),
                    actor=User.objects.get(username="poolmanager"), idempotency_key="seed:pool:tranche-1",
                    decision_ref="萧科〔2025〕1号", note="首期科创风险池")
        # Projects in every state, their milestones, then the subsidies that read them.
        projects_demo.seed(orgs=orgs, scheme=scheme, stdout=self.stdout)
        seed_milestones(stdout=self.stdout)
        subsidies_demo.seed(orgs=orgs, scheme=scheme, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Password for every user: {people.DEMO_PASSWORD}"))
