"""manage.py soak: the 10,000-operation soak that proves the money (docs/operations.md)."""
from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = ("Drive random but valid operations across the whole workflow from concurrent workers against "
            "PostgreSQL with a real Celery worker on Redis (killed and restarted), then check every invariant. "
            "Runs on a scratch database only (its name contains 'soak'): it adds organisations, users and "
            "pool money.")

    def add_arguments(self, parser):
        parser.add_argument("--operations", type=int, default=10_000)
        parser.add_argument("--workers", type=int, default=8)
        parser.add_argument("--seed", type=int, default=None, help="replay a run (printed by every run)")
        parser.add_argument("--kill-every", type=float, default=20.0,
                            help="mean seconds between SIGKILLs of the Celery worker (0: never)")
        parser.add_argument("--log-dir", default=None, help="where the operation log and worker logs go")

    def handle(self, *args, **opts):
        from dashboards.soak.runner import run_soak

        name = connection.settings_dict.get("NAME") or ""
        if connection.vendor != "postgresql" or "soak" not in str(name):
            raise CommandError("the soak writes test data: run it on a PostgreSQL database whose name contains "
                               f"'soak' (DATABASE_URL=postgres://…/anx_soak_run), not on {name!r}")
        result = run_soak(operations=opts["operations"], workers=opts["workers"], seed=opts["seed"],
                          kill_every=opts["kill_every"], log_dir=opts["log_dir"], out=self.stdout)
        self.stdout.write(result.summary())
        if not result.ok:
            raise CommandError(f"soak failed; replay with --seed {result.seed}; details in {result.log_path.parent}")
