"""The annual audit report seals both hash chains first and prints their heads in its closing section
(issue 14, point 7; docs/trail.md)."""
from datetime import date

import pytest
from django.utils import timezone

from core.models import AuditEvent
from escrow.models import JournalEntry
from escrow.services.seal import chains_seal
from escrow.tests.factories import tamper
from reports import documents

from .pdfcheck import page_texts, squeeze


@pytest.mark.django_db
def test_annual_audit_prints_the_sealed_heads_of_ledger_and_audit_chains(projects):
    assert JournalEntry.objects.filter(chain_seq__isnull=True).exists()
    year = timezone.localdate().year

    out = documents.annual_audit(year, number=f"萧科安审〔{year}〕5号", issued_on=date(2026, 1, 15))

    assert not JournalEntry.objects.filter(chain_seq__isnull=True).exists()   # sealed before rendering
    assert not AuditEvent.objects.filter(chain_seq__isnull=True).exists()
    last_page = squeeze(page_texts(out.content)[-1])
    entry = JournalEntry.objects.order_by("-chain_seq").first()
    event = AuditEvent.objects.order_by("-chain_seq").first()
    assert f"记账分录{entry.chain_seq}{entry.hash}" in last_page
    assert f"审计记录{event.chain_seq}{event.hash}" in last_page
    assert "哈希链逐条复算无误" in last_page


@pytest.mark.django_db
def test_annual_audit_opinion_names_a_broken_chain(projects):
    chains_seal()
    entry = JournalEntry.objects.get(chain_seq=1)
    tamper("UPDATE escrow_journalentry SET memo = %s WHERE id = %s", ["改过的摘要", entry.pk])
    year = timezone.localdate().year

    out = documents.annual_audit(year, number=f"萧科安审〔{year}〕6号", issued_on=date(2026, 1, 15))

    body = squeeze("".join(page_texts(out.content)))
    assert f"escrow_journalentryid{entry.pk}chain_seq1" in body and "哈希链逐条复算无误" not in body
