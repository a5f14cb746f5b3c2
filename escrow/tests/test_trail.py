"""The tamper-evident trail (issue 14, point 7; docs/trail.md): journal entries and audit events sealed into
hash chains, checked by ``verify_ledger``, which names the first broken row."""
from __future__ import annotations

import re
import threading
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from core import chain
from core.models import AuditEvent, ChainHead
from core.services import audit_record, trail_seal
from escrow import accounts as codes
from escrow.models import JournalEntry, Posting
from escrow.services import post_entry
from escrow.services.seal import LEDGER, chain_heads, chain_violations, chains_seal, ledger_seal
from escrow.tasks import ledger_seal as ledger_seal_task

from .factories import deposit, tamper

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "trail.md"


def verify() -> tuple[bool, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_ledger", stdout=out, stderr=err)
        return True, out.getvalue()
    except CommandError as exc:
        return False, err.getvalue() + str(exc)


def money_and_events(demo, n: int = 3) -> None:
    for project in range(1, n + 1):
        deposit(demo, project=40 + project, seq=1, amount=f"{project}000.00")


def assert_chained(model) -> list:
    rows = list(model.objects.order_by("chain_seq"))
    assert [r.chain_seq for r in rows] == list(range(1, len(rows) + 1))
    prev = chain.GENESIS
    for r in rows:
        assert r.prev_hash == prev and re.fullmatch(r"[0-9a-f]{64}", r.hash)
        prev = r.hash
    return rows


def test_sealing_chains_every_entry_and_event_gap_free_and_verify_ledger_passes(demo):
    money_and_events(demo)
    assert JournalEntry.objects.filter(chain_seq__isnull=True).exists()   # written unsealed

    sealed = chains_seal()

    entries, events = assert_chained(JournalEntry), assert_chained(AuditEvent)
    assert sealed == {"ledger": len(entries), "audit": len(events)} and len(entries) >= 4 and len(events) >= 3
    assert chain_heads() == [("ledger", len(entries), entries[-1].hash), ("audit", len(events), events[-1].hash)]
    assert chain_violations() == []
    assert chains_seal() == {"ledger": 0, "audit": 0}   # nothing new: nothing changes
    ok, out = verify()
    assert ok, out
    assert "ledger OK" in out and f"ledger chain_seq {len(entries)} hash {entries[-1].hash}" in out


def test_rows_written_after_a_seal_continue_the_chain(demo):
    money_and_events(demo, n=1)
    first = ledger_seal()
    deposit(demo, project=50, seq=1, amount="5.00")
    assert JournalEntry.objects.get(chain_seq__isnull=True).prev_hash is None

    assert ledger_seal_task.apply().get() == 1   # the beat task

    entries = assert_chained(JournalEntry)
    assert len(entries) == first + 1 and entries[-1].idempotency_key.startswith("op:test:deposit:50:")
    assert chain_violations() == []


def test_a_row_with_a_lower_id_committed_late_is_sealed_later_in_chain_order(demo):
    """Chain order is chain_seq, not id: the late row joins the end of the chain."""
    money_and_events(demo, n=1)
    top = AuditEvent.objects.order_by("-pk").first().pk
    audit_record(actor=demo.custodian, target=demo.ent1, action="probe")
    high = AuditEvent.objects.create(pk=top + 1000, actor=demo.custodian, content_type=_org_type(),
                                     object_id=str(demo.ent1.pk), action="high")
    trail_seal()
    late = AuditEvent.objects.create(pk=top + 500, actor=demo.custodian, content_type=_org_type(),
                                     object_id=str(demo.ent1.pk), action="late")
    assert trail_seal() == 1

    events = assert_chained(AuditEvent)
    assert events[-1].pk == late.pk < high.pk and events[-2].pk == high.pk
    assert chain_violations() == []


def _org_type():
    from django.contrib.contenttypes.models import ContentType

    from core.models import Organization

    return ContentType.objects.get_for_model(Organization)


def _entry(chain_seq: int) -> JournalEntry:
    return JournalEntry.objects.get(chain_seq=chain_seq)


def _memo_changed() -> tuple[str, list[str]]:
    entry = _entry(2)
    tamper("UPDATE escrow_journalentry SET memo = %s WHERE id = %s", ["改过的摘要", entry.pk])
    return f"chain ledger: escrow_journalentry id {entry.pk} chain_seq 2: hash does not match", []


def _posting_amounts_doubled() -> tuple[str, list[str]]:
    entry = _entry(3)
    # Both sides changed together: the entry still balances (invariant 1), only the chain can tell.
    tamper("UPDATE escrow_posting SET amount = amount * 2 WHERE entry_id = %s", [entry.pk])
    return f"escrow_journalentry id {entry.pk} chain_seq 3: hash does not match", ["invariant 1"]


def _two_reasons_rewritten() -> tuple[str, list[str]]:
    second, third = AuditEvent.objects.get(chain_seq=2), AuditEvent.objects.get(chain_seq=3)
    tamper("UPDATE core_auditevent SET reason = %s WHERE id IN (%s, %s)", ["事后补写", second.pk, third.pk])
    return f"chain audit: core_auditevent id {second.pk} chain_seq 2: hash does not match", [f"id {third.pk}"]


def _event_deleted() -> tuple[str, list[str]]:
    gone, next_one = AuditEvent.objects.get(chain_seq=2), AuditEvent.objects.get(chain_seq=3)
    tamper("DELETE FROM core_auditevent WHERE id = %s", [gone.pk])
    return f"core_auditevent id {next_one.pk} chain_seq 3: expected chain_seq 2", []


@pytest.mark.parametrize("alter", [_memo_changed, _posting_amounts_doubled, _two_reasons_rewritten, _event_deleted],
                         ids=["entry memo", "posting amounts", "audit reasons", "audit event deleted"])
def test_row_altered_in_the_database_fails_verify_ledger_naming_the_first_broken_row(demo, alter):
    money_and_events(demo)
    chains_seal()
    named, not_named = alter()

    ok, out = verify()

    assert not ok
    assert named in out, out
    assert not any(text in out for text in not_named), out


def test_tampered_row_with_its_hash_recomputed_breaks_the_next_link(demo):
    money_and_events(demo)
    chains_seal()
    entry, after = _entry(2), _entry(3)
    tamper("UPDATE escrow_journalentry SET memo = %s, hash = %s WHERE id = %s", ["改过的摘要", "f" * 64, entry.pk])

    problems = chain_violations()

    assert problems[0].startswith(f"chain ledger: escrow_journalentry id {entry.pk} chain_seq 2")
    tamper("UPDATE escrow_journalentry SET hash = %s WHERE id = %s",
           [chain.row_hash(chain="ledger", seq=2, prev=entry.prev_hash,
                           row=LEDGER.contents([{**_values(entry.pk), "memo": "改过的摘要"}])[entry.pk]), entry.pk])
    assert chain_violations() == [f"chain ledger: escrow_journalentry id {after.pk} chain_seq 3: "
                                  "prev_hash does not match the hash of chain_seq 2"]


def _values(pk: int) -> dict:
    return JournalEntry.objects.values(*LEDGER.fields).get(pk=pk)


def test_deleted_last_audit_event_disagrees_with_the_head(demo):
    money_and_events(demo)
    chains_seal()
    last = AuditEvent.objects.order_by("-chain_seq").first()
    tamper("DELETE FROM core_auditevent WHERE id = %s", [last.pk])

    assert chain_violations() == [f"chain audit: head says chain_seq {last.chain_seq} hash {last.hash}, but the last "
                                  f"sealed row of core_auditevent is chain_seq {last.chain_seq - 1} hash "
                                  f"{last.prev_hash}"]


def test_every_column_of_a_chained_table_is_hashed():
    """A column added later must join its chain (docs/trail.md), or it could be changed unseen."""
    for c in (LEDGER, chain.TRAIL):
        columns = {f.attname for f in c.model._meta.concrete_fields} - set(chain.SEAL_FIELDS)
        assert set(c.fields) == columns, c.name


def test_the_documented_script_recomputes_the_same_heads(demo):
    money_and_events(demo)
    post_entry(memo="含英文 and 中文：¥", idempotency_key="t:trail:doc",
               lines=[(codes.custody(41, 1), Decimal("-0.10")), (codes.custody(41, 2), Decimal("0.10"))])
    audit_record(actor=None, target=demo.ent1, action="probe", reason="理由", data={"b": [1, 2.5], "a": "中"})
    chains_seal()
    script = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    namespace: dict = {"__name__": "recompute"}
    exec(compile(script, str(DOC), "exec"), namespace)  # noqa: S102 - the script the docs give to auditors

    connection.ensure_connection()
    heads = namespace["verify"](connection.connection)

    assert heads == {name: (seq, digest) for name, seq, digest in chain_heads()}
    assert heads["ledger"][0] == JournalEntry.objects.count()


def test_verify_ledger_no_seal_checks_only_what_is_sealed(demo):
    money_and_events(demo)
    out = StringIO()
    call_command("verify_ledger", "--no-seal", stdout=out)
    assert "ledger chain_seq 0" in out.getvalue()
    assert not JournalEntry.objects.filter(chain_seq__isnull=False).exists()


def test_beat_seals_both_chains_every_minute():
    schedule = {entry["task"]: entry["schedule"].total_seconds() for entry in settings.CELERY_BEAT_SCHEDULE.values()
                if hasattr(entry["schedule"], "total_seconds")}
    assert schedule["escrow.ledger_seal"] == 60 and schedule["core.trail_seal"] == 60


# -- PostgreSQL: the triggers, and sealing under concurrent posting ----------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("sql", [
    "UPDATE escrow_journalentry SET hash = repeat('a', 64) WHERE chain_seq = 1",
    "UPDATE escrow_journalentry SET chain_seq = NULL, prev_hash = NULL, hash = NULL WHERE chain_seq = 1",
    "UPDATE escrow_journalentry SET memo = 'x', chain_seq = 99 WHERE chain_seq IS NULL",
    "UPDATE core_auditevent SET reason = 'x'",
    "UPDATE core_auditevent SET prev_hash = repeat('b', 64) WHERE chain_seq = 1",
    "DELETE FROM core_auditevent",
])
def test_database_refuses_changing_sealed_rows_and_content(demo, sql):
    money_and_events(demo, n=1)
    chains_seal()
    deposit(demo, project=60, seq=1, amount="1.00")   # one unsealed entry and event more
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic(), \
            connection.cursor() as cur:
        cur.execute(sql)
    assert chain_violations() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_entries_posted_from_eight_threads_while_sealing_runs_form_one_gap_free_chain(demo, ledger_ok):
    from .test_ledger_postgres import run_threads

    posters, rounds = 8, 12
    for i in range(posters):
        deposit(demo, project=70 + i, seq=1, amount="100.00")
    done = threading.Event()
    finished = []

    def work(i: int):
        if i == posters:  # the sealer, running all the time the others post
            runs = 0
            while not done.is_set():
                chains_seal()
                runs += 1
            return runs
        src, dst = codes.custody(70 + i, 1), codes.custody(70 + i, 2)   # disjoint accounts per thread
        for r in range(rounds):
            with transaction.atomic():
                post_entry(memo="并发封存", idempotency_key=f"t:seal:{i}:{r}",
                           lines=[(src, Decimal("-1.00")), (dst, Decimal("1.00"))])
                audit_record(actor=None, target=demo.ent1, action="probe", reason=f"{i}:{r}")
        finished.append(i)
        if len(finished) == posters:
            done.set()
        return "ok"

    results = run_threads(posters + 1, work)

    assert results[:posters] == ["ok"] * posters, results
    assert results[posters] >= 1
    chains_seal()
    assert len(assert_chained(JournalEntry)) == JournalEntry.objects.count() >= posters * (rounds + 1)
    assert len(assert_chained(AuditEvent)) == AuditEvent.objects.count()
    assert ChainHead.objects.get(name="ledger").seq == JournalEntry.objects.count()
    assert Posting.objects.filter(entry__idempotency_key__startswith="t:seal:").count() == 2 * posters * rounds
    assert chain_violations() == []
