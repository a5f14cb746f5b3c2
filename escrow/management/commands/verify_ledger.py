"""Check the five ledger invariants of workflow.md; exit 1 naming each violation."""
from django.core.management.base import BaseCommand, CommandError

from escrow.invariants import ledger_violations


class Command(BaseCommand):
    help = "Verify the ledger invariants (workflow.md). Exits non-zero on any violation."

    def handle(self, *args, **options):
        problems = ledger_violations()
        if problems:
            for p in problems:
                self.stderr.write(p)
            raise CommandError(f"{len(problems)} ledger invariant violation(s)")
        self.stdout.write(self.style.SUCCESS("ledger OK: invariants 1–5 hold"))
