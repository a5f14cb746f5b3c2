"""Idempotency-Key under concurrency on PostgreSQL: the unique constraint decides."""
from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.models import IdempotencyRecord
from escrow import accounts as codes
from escrow.models import PoolTranche

from .factories import balance
from .test_ledger_postgres import run_threads

pytestmark = pytest.mark.postgres


@pytest.mark.django_db(transaction=True)
def test_same_idempotency_key_racing_posts_one_effect_same_answer(demo, ledger_ok):
    body = {"amount": "700.00", "decided_on": "2025-10-01", "decision_ref": "并发"}

    def post(i):
        client = APIClient()
        client.force_authenticate(demo.poolmanager)
        response = client.post("/api/v1/pool/topups/", body, format="json", HTTP_IDEMPOTENCY_KEY="race-1")
        return response.status_code, response.json()

    results = run_threads(6, post)
    assert all(not isinstance(r, Exception) for r in results), results
    assert {status for status, _ in results} == {201}
    assert all(payload == results[0][1] for _, payload in results)  # same answer (jsonb may reorder keys)
    assert PoolTranche.objects.count() == 2  # the first tranche of the fixture + this one
    assert IdempotencyRecord.objects.filter(key="race-1").count() == 1
    assert balance(codes.POOL_AVAILABLE) == Decimal("100000700.00")
