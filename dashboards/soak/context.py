"""What every soak operation works with: the cast of users, a worker's context, random picks and amounts."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import count

from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import Organization, User

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FEN = Decimal("0.01")
TAG = "压测"  # every organisation and project the soak creates carries it in its name
FILING = ["draft", "submitted", "signed", "accepted", "under_review"]
MAX_FILING = 16


@dataclass
class Cast:
    """The soak's users, by role; enterprise and platform staff by organisation id."""
    enterprise: dict[int, User]
    platform: dict[int, User]
    reviewers: list[User]
    experts: list[User]
    custodians: list[User]
    pool_manager: User
    auditor: User
    finance: User
    insurer: Organization

    def other_custodian(self, rng: random.Random, not_ids: set[int]) -> User:
        others = [u for u in self.custodians if u.pk not in not_ids]
        return rng.choice(others or self.custodians)


@dataclass
class Ctx:
    """What one soak worker carries from one operation to the next."""
    worker: int
    rng: random.Random
    cast: Cast
    run: str
    today: date
    serial: count = field(default_factory=lambda: count(1))
    note: str = ""  # what the current operation acted on, for the operation log

    def ref(self, prefix: str) -> str:
        return f"{prefix}{self.run}W{self.worker}N{next(self.serial)}"

    def reviewer(self) -> User:
        return self.rng.choice(self.cast.reviewers)

    def custodian(self) -> User:
        return self.rng.choice(self.cast.custodians)


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def pick(ctx: Ctx, qs, label: str):
    """A random row of ``qs`` (among the first 200 by pk), or None; noted for the log."""
    ids = list(qs.order_by("pk").values_list("pk", flat=True)[:200])
    if not ids:
        return None
    pk = ctx.rng.choice(ids)
    obj = qs.model.objects.get(pk=pk)
    ctx.note = f"{label}={pk}"
    return obj


def fen(value: Decimal) -> Decimal:
    return value.quantize(FEN)


def between(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    """A random amount in [low, high] at the fen."""
    if high <= low:
        return fen(low)
    return fen(low + (high - low) * Decimal(rng.randint(0, 10_000)) / 10_000)


def projects_in(state: str):
    from projects.models import Project

    return Project.objects.filter(state=state, title__startswith=TAG)
