"""Reconciliation of the Anxinbao account's bank statement (issue 3, item 6).

The custodian operator uploads a CSV with the columns date, amount,
direction, bank reference, counterparty. Every line is checked before
anything is stored: a malformed file is refused naming the line, and nothing
is imported. Lines are then matched to done operations that moved money
through custody, by bank reference (or payment reference) and amount.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from core.money import parse_money
from core.permissions import require
from core.services import audit_record

from .. import accounts as codes
from .. import permissions as perms
from .. import selectors
from ..models import BankStatement, BankStatementLine, MoneyOperation

HEADERS = {
    "date": {"date", "日期", "交易日期"},
    "amount": {"amount", "金额", "交易金额"},
    "direction": {"direction", "方向", "收支方向", "借贷方向"},
    "bank_ref": {"bank_ref", "bank reference", "bank_reference", "reference", "银行流水号", "流水号"},
    "counterparty": {"counterparty", "对方户名", "对方"},
}
DIRECTIONS = {"in": "in", "credit": "in", "收": "in", "收入": "in", "贷": "in",
              "out": "out", "debit": "out", "支": "out", "支出": "out", "借": "out"}
MAX_LINES = 20000


@dataclass
class ParsedLine:
    line_no: int
    date: date
    amount: Decimal
    direction: str
    bank_ref: str
    counterparty: str


def _refuse(line_no: int, message: str) -> DomainError:
    text = _("第 %(n)s 行：%(m)s（文件未导入）") % {"n": line_no, "m": message}
    return DomainError(text, code="malformed_statement", fields={"file": [text]})


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refuse(1, _("无法识别的文件编码（请使用 UTF-8 或 GB18030）"))


def parse_statement(raw: bytes) -> list[ParsedLine]:
    """Parse and check every line; raise naming the first bad line."""
    reader = csv.reader(io.StringIO(_decode(raw)))
    try:
        header = next(reader)
    except StopIteration:
        raise _refuse(1, _("文件为空")) from None
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        name = name.strip().lower()
        for key, names in HEADERS.items():
            if name in names:
                columns[key] = i
    missing = [k for k in ("date", "amount", "direction", "bank_ref") if k not in columns]
    if missing:
        raise _refuse(1, _("表头缺少列：%(c)s（应为 date, amount, direction, bank_ref, counterparty）")
                      % {"c": ", ".join(missing)})
    lines: list[ParsedLine] = []
    refs: set[str] = set()
    for row in reader:
        line_no = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(lines) >= MAX_LINES:
            raise _refuse(line_no, _("行数超过 %(n)s") % {"n": MAX_LINES})
        if len(row) < len(header):
            raise _refuse(line_no, _("列数不足：应为 %(a)s 列，实为 %(b)s 列") % {"a": len(header), "b": len(row)})
        cell = {k: row[i].strip() for k, i in columns.items()}
        try:
            day = date.fromisoformat(cell["date"])
        except ValueError:
            raise _refuse(line_no, _("日期无效：%(v)r（格式 YYYY-MM-DD）") % {"v": cell["date"]}) from None
        try:
            amount = parse_money(cell["amount"])
        except DomainError as exc:
            raise _refuse(line_no, exc.detail) from None
        if amount <= 0:
            raise _refuse(line_no, _("金额须为正数：%(v)r") % {"v": cell["amount"]})
        direction = DIRECTIONS.get(cell["direction"].lower())
        if direction is None:
            raise _refuse(line_no, _("收支方向无效：%(v)r（应为 in/out 或 收/支）") % {"v": cell["direction"]})
        if not cell["bank_ref"]:
            raise _refuse(line_no, _("缺少银行流水号"))
        if cell["bank_ref"] in refs:
            raise _refuse(line_no, _("银行流水号重复：%(v)s") % {"v": cell["bank_ref"]})
        refs.add(cell["bank_ref"])
        lines.append(ParsedLine(line_no=line_no, date=day, amount=amount.quantize(Decimal("0.01")),
                                direction=direction, bank_ref=cell["bank_ref"][:100],
                                counterparty=cell.get("counterparty", "")[:200]))
    if not lines:
        raise _refuse(2, _("文件没有明细行"))
    return lines


MAX_STATEMENT_BYTES = 5 * 1024 * 1024


def _amounts_of(op: MoneyOperation) -> set[Decimal]:
    """An operation shows on the bank statement as its total or as one transfer per outside account."""
    amounts = {op.amount}
    amounts.update(Decimal(a) for code, a in op.lines if codes.is_external(code))
    return {abs(a) for a in amounts}


def _match(lines: list[BankStatementLine]) -> None:
    refs = {ln.bank_ref for ln in lines}
    already = BankStatementLine.objects.filter(operation__isnull=False).values("operation_id")
    candidates = list(selectors.custody_operations()
                      .filter(Q(bank_ref__in=refs) | Q(reference__in=refs)).exclude(pk__in=already)
                      .order_by("pk"))
    by_ref: dict[str, list[MoneyOperation]] = defaultdict(list)
    for op in candidates:  # pk order kept within each reference
        for ref in {op.bank_ref, op.reference} - {""}:
            by_ref[ref].append(op)
    used: set[int] = set()
    for line in lines:
        wanted = selectors.CUSTODY_IN if line.direction == "in" else selectors.CUSTODY_OUT
        for op in by_ref.get(line.bank_ref, ()):
            if op.pk in used or op.kind not in wanted:
                continue
            if line.amount in _amounts_of(op):
                line.operation = op
                used.add(op.pk)
                break


@transaction.atomic
def statement_import(*, filename: str, raw: bytes, actor) -> BankStatement:
    """Store a statement and match its lines; all or nothing."""
    require(perms.can_operate(actor))
    if len(raw) > MAX_STATEMENT_BYTES:
        raise DomainError(_("对账单文件不得超过 5 MB"), code="file_too_large", fields={"file": [_("文件不得超过 5 MB")]})
    parsed = parse_statement(raw)
    digest = hashlib.sha256(raw).hexdigest()
    if BankStatement.objects.filter(sha256=digest).exists():
        raise DomainError(_("该对账单文件已导入过"), code="duplicate_statement", fields={"file": [_("重复文件")]})
    statement = BankStatement.objects.create(filename=filename[:255], sha256=digest, uploaded_by=actor,
                                             period_start=min(p.date for p in parsed),
                                             period_end=max(p.date for p in parsed))
    lines = [BankStatementLine(statement=statement, line_no=p.line_no, date=p.date, amount=p.amount,
                               direction=p.direction, bank_ref=p.bank_ref, counterparty=p.counterparty)
             for p in parsed]
    _match(lines)
    BankStatementLine.objects.bulk_create(lines)
    audit_record(actor=actor, target=statement, action="import",
                 data={"lines": len(lines), "matched": sum(1 for ln in lines if ln.operation_id)})
    return statement
