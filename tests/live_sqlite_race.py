"""Run by tests/test_sqlite_live.py in a pytest of its own, on a file SQLite database (the embedded default).

Eight custodian clients POST ``forfeit`` on one milestone at the same moment through the live server (one thread
per request): exactly one operation, the others a clean 409, never a 500 ("database is locked").
"""
from __future__ import annotations

import threading

import pytest
import requests
from django.db import connection
from rest_framework.authtoken.models import Token

from escrow.invariants import assert_ledger_invariants
from escrow.models import MoneyOperation
from projects import milestones as ms
from projects.choices import MilestoneState as M
from projects.tests.steps import fresh, reported_milestone

CLIENTS = 8


@pytest.mark.django_db(transaction=True)
def test_eight_simultaneous_forfeits_on_sqlite_one_effect_and_clean_409s(live_server, demo):
    assert connection.vendor == "sqlite" and connection.settings_dict["NAME"] != ":memory:"
    assert "file:memorydb" not in str(connection.settings_dict["NAME"])
    m = reported_milestone(demo)
    ms.milestone_review_not_met(milestone=m, actor=demo.reviewer, reason="未达到验收指标")
    assert fresh(m).state == M.FAILED
    tokens = [Token.objects.get_or_create(user=u)[0].key for u in (demo.custodian, demo.custodian2)]
    barrier = threading.Barrier(CLIENTS)
    answers: list = [None] * CLIENTS

    def post(i: int) -> None:
        barrier.wait()
        try:
            r = requests.post(f"{live_server.url}/api/v1/milestones/{m.pk}/forfeit/", json={}, timeout=60,
                              headers={"Authorization": f"Token {tokens[i % 2]}"})
            is_json = r.headers.get("Content-Type", "").startswith("application/json")
            answers[i] = (r.status_code, r.json().get("code") if is_json else r.text[:200])
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            answers[i] = ("crash", repr(exc))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(a[0] for a in answers if isinstance(a[0], int))
    assert statuses == [200] + [409] * (CLIENTS - 1), answers
    assert MoneyOperation.objects.filter(kind="forfeit").count() == 1
    assert fresh(m).state == M.FORFEITED
    assert_ledger_invariants()
