"""Excel export of an account statement (openpyxl)."""
from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from .selectors import Statement

MONEY_FORMAT = "#,##0.00"


def statement_xlsx(statement: Statement) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("账户对账单")
    ws.append([f"{_('账户对账单')} {statement.account.code}"])
    ws["A1"].font = Font(bold=True, size=13)
    period = _("%(start)s 至 %(end)s") % {"start": statement.start or _("开户"),
                                           "end": statement.end or timezone.localdate()}
    ws.append([_("期间"), period, "", _("币种"), statement.account.currency])
    ws.append([_("期初余额"), statement.opening])
    ws.append([])
    header = [_("日期时间"), _("分录号"), _("摘要"), _("资金操作"), _("对方科目"), _("金额"), _("余额")]
    ws.append(header)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in statement.rows:
        ws.append([timezone.localtime(row.at).replace(tzinfo=None), row.entry_id, row.memo,
                   f"#{row.operation_id} {row.operation_kind}" if row.operation_id else "",
                   row.counterparts, row.amount, row.balance])
        ws.cell(ws.max_row, 1).number_format = "yyyy-mm-dd hh:mm"
        ws.cell(ws.max_row, 6).number_format = MONEY_FORMAT
        ws.cell(ws.max_row, 7).number_format = MONEY_FORMAT
    ws.append([_("期末余额"), "", "", "", "", "", statement.closing])
    ws.cell(ws.max_row, 7).number_format = MONEY_FORMAT
    ws.cell(3, 2).number_format = MONEY_FORMAT
    for col, width in zip("ABCDEFG", (18, 8, 36, 18, 36, 16, 18)):
        ws.column_dimensions[col].width = width
    ws.cell(3, 2).alignment = Alignment(horizontal="right")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
