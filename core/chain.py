"""Hash chains that make the audit trail and the ledger tamper-evident (docs/trail.md).

Rows are written as before, with ``chain_seq``, ``prev_hash`` and ``hash`` empty, so writers never wait on
each other. Sealing (``seal``) takes the lock on one ``ChainHead`` row, reads the unsealed rows in id order
and gives each the next sequence number, the previous row's hash and its own hash: SHA-256 over a canonical
serialisation of its content, its sequence number and the previous hash. The chain's order is ``chain_seq``,
not the id: a row with a lower id whose transaction committed late is sealed by a later run.

``verify`` recomputes every hash from the rows' content and names the first row where the chain breaks.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pgtrigger
from django.apps import apps
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS = "0" * 64
SEAL_FIELDS = ("chain_seq", "prev_hash", "hash")


class Sealed(models.Model):
    """The seal of a chained row: empty when written, set once by ``seal``."""

    chain_seq = models.BigIntegerField(_("链序号"), null=True, blank=True, editable=False)
    prev_hash = models.CharField(_("前一哈希"), max_length=64, null=True, blank=True, editable=False)
    hash = models.CharField(_("哈希"), max_length=64, null=True, blank=True, editable=False)

    class Meta:
        abstract = True


def sealed_constraints(prefix: str) -> list:
    """A sequence number is used once (a partial index: setting it does not lock the row against foreign keys)."""
    return [models.UniqueConstraint(fields=["chain_seq"], condition=Q(chain_seq__isnull=False),
                                    name=f"{prefix}_chain_seq_unique")]


def sealed_indexes(prefix: str) -> list:
    """The unsealed rows, found without reading the sealed ones."""
    return [models.Index(fields=["id"], condition=Q(chain_seq__isnull=True), name=f"{prefix}_unsealed")]


def seal_once_trigger(name: str) -> pgtrigger.Trigger:
    """PostgreSQL: refuse every DELETE, and every UPDATE except setting an unsealed row's seal (once)."""
    seal = " - ".join(f"'{f}'" for f in SEAL_FIELDS)
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Update | pgtrigger.Delete,
        func=f"""
        IF TG_OP = 'UPDATE' AND OLD.chain_seq IS NULL
           AND to_jsonb(NEW) - {seal} = to_jsonb(OLD) - {seal} THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table (a sealed row never changes)',
            TG_TABLE_NAME;
        """,
    )


def canonical_value(value):
    """Decimals as strings with two places, datetimes in UTC ISO with microseconds and Z, dates ISO."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def row_hash(*, chain: str, seq: int, prev: str, row: dict) -> str:
    return hashlib.sha256(canonical_json({"chain": chain, "seq": seq, "prev": prev, "row": row})).hexdigest()


@dataclass(frozen=True)
class Chain:
    """One hash chain: the model whose rows it seals, the columns it hashes, and any content kept elsewhere
    (``extra(ids)`` → {id: {key: value}}, e.g. a journal entry's postings)."""

    name: str
    label: str  # "app.Model"
    fields: tuple[str, ...]  # attnames, "id" first
    extra: Callable[[list[int]], dict[int, dict]] | None = field(default=None, compare=False)

    @property
    def model(self):
        return apps.get_model(self.label)

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def contents(self, rows: list[dict]) -> dict[int, dict]:
        extra = self.extra([r["id"] for r in rows]) if self.extra else {}
        return {r["id"]: {**{f: canonical_value(r[f]) for f in self.fields}, **extra.get(r["id"], {})}
                for r in rows}


def _head_locked(chain: Chain):
    from .models import ChainHead
    from .services import lock_or_create

    return lock_or_create(ChainHead, name=chain.name)


def seal(chain: Chain, *, batch_size: int = 500) -> int:
    """Seal every committed unsealed row of ``chain``, one transaction per batch; returns how many."""
    model, sealed = chain.model, 0
    while True:
        with transaction.atomic():
            head = _head_locked(chain)
            rows = list(model.objects.filter(chain_seq__isnull=True).order_by("pk")
                        .values(*chain.fields)[:batch_size])
            if not rows:
                return sealed
            contents = chain.contents(rows)
            seq, prev, updates = head.seq, head.hash, []
            for r in rows:
                seq += 1
                digest = row_hash(chain=chain.name, seq=seq, prev=prev, row=contents[r["id"]])
                updates.append(model(pk=r["id"], chain_seq=seq, prev_hash=prev, hash=digest))
                prev = digest
            model.objects.bulk_update(updates, list(SEAL_FIELDS))
            head.seq, head.hash, head.sealed_at = seq, prev, timezone.now()
            head.save(update_fields=["seq", "hash", "sealed_at"])
        sealed += len(rows)
        if len(rows) < batch_size:
            return sealed


def head(chain: Chain) -> tuple[int, str]:
    """(seq, hash) of the chain's last sealed row; (0, GENESIS) before the first seal."""
    from .models import ChainHead

    row = ChainHead.objects.filter(name=chain.name).values_list("seq", "hash").first()
    return row or (0, GENESIS)


def _sealed_rows(chain: Chain, batch_size: int) -> Iterable[tuple[dict, dict]]:
    """Every sealed row in chain order with its recomputed content, read in batches (keyset on chain_seq)."""
    qs = chain.model.objects.filter(chain_seq__isnull=False).order_by("chain_seq")
    last = None
    while True:
        page = qs if last is None else qs.filter(chain_seq__gt=last)
        rows = list(page.values(*chain.fields, *SEAL_FIELDS)[:batch_size])
        if not rows:
            return
        contents = chain.contents(rows)
        for r in rows:
            yield r, contents[r["id"]]
        last = rows[-1]["chain_seq"]


def verify(chain: Chain, *, batch_size: int = 2000) -> list[str]:
    """[] when the chain is whole; otherwise one line naming the first broken row (table, id, chain_seq)."""
    table = chain.table
    expected, prev = 0, GENESIS
    for r, content in _sealed_rows(chain, batch_size):
        expected += 1
        where = f"chain {chain.name}: {table} id {r['id']} chain_seq {r['chain_seq']}"
        if r["chain_seq"] != expected:
            return [f"{where}: expected chain_seq {expected} (a sealed row is missing before it)"]
        if r["prev_hash"] != prev:
            return [f"{where}: prev_hash does not match the hash of chain_seq {expected - 1}"]
        if row_hash(chain=chain.name, seq=expected, prev=prev, row=content) != r["hash"]:
            return [f"{where}: hash does not match the row's content"]
        prev = r["hash"]
    head_seq, head_hash = head(chain)
    if (head_seq, head_hash) != (expected, prev):
        return [f"chain {chain.name}: head says chain_seq {head_seq} hash {head_hash}, "
                f"but the last sealed row of {table} is chain_seq {expected} hash {prev}"]
    return []


# -- the audit trail ------------------------------------------------------

TRAIL = Chain(name="audit", label="core.AuditEvent",
              fields=("id", "at", "actor_id", "action", "content_type_id", "object_id", "from_state", "to_state",
                      "reason", "data"))
