"""Check the five ledger invariants of workflow.md and the hash chains; exit 1 naming each violation."""
from django.core.management.base import BaseCommand, CommandError

from escrow.invariants import ledger_violations
from escrow.services.seal import chain_heads, chain_violations, chains_seal


class Command(BaseCommand):
    help = ("Verify the ledger invariants (workflow.md) and the hash chains of the ledger and the audit trail "
            "(docs/trail.md). Exits non-zero on any violation.")

    def add_arguments(self, parser):
        parser.add_argument("--no-seal", action="store_true",
                            help="check without sealing the rows written since the last seal first")

    def handle(self, *args, **options):
        if not options["no_seal"]:
            chains_seal()
        invariants, chains = ledger_violations(), chain_violations()
        if invariants or chains:
            for p in invariants + chains:
                self.stderr.write(p)
            raise CommandError(f"{len(invariants)} ledger invariant violation(s), "
                               f"{len(chains)} hash chain violation(s)")
        heads = "; ".join(f"{name} chain_seq {seq} hash {digest}" for name, seq, digest in chain_heads())
        self.stdout.write(self.style.SUCCESS(f"ledger OK: invariants 1–5 hold; hash chains intact ({heads})"))
