"""Excel export of an account statement (openpyxl)."""
from __future__ import annotations

import io

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from .selectors import Statement

MONEY_FORMAT = "#,##0.00"


def statement_xlsx(statement: Statement) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "账户对账单"
    ws.append([f"账户对账单 {statement.account.code}"])
    ws["A1"].font = Font(bold=True, size=13)
    period = f"{statement.start or '开户'} 至 {statement.end or timezone.localdate()}"
    ws.append(["期间", period, "", "币种", statement.account.currency])
    ws.append(["期初余额", statement.opening])
    ws.append([])
    header = ["日期时间", "分录号", "摘要", "资金操作", "对方科目", "金额", "余额"]
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
    ws.append(["期末余额", "", "", "", "", "", statement.closing])
    ws.cell(ws.max_row, 7).number_format = MONEY_FORMAT
    ws.cell(3, 2).number_format = MONEY_FORMAT
    for col, width in zip("ABCDEFG", (18, 8, 36, 18, 36, 16, 18)):
        ws.column_dimensions[col].width = width
    ws.cell(3, 2).alignment = Alignment(horizontal="right")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
