"""Excel export of a year's figures (openpyxl)."""
from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

MONEY_FMT = "#,##0.00"
CAPPED_FILL = PatternFill("solid", fgColor="FEEBC8")


def latest_per_enterprise(rows) -> list:
    """The newest version per enterprise (rows ordered by enterprise then version descending or not)."""
    best = {}
    for r in rows:
        if r.enterprise_id not in best or r.version > best[r.enterprise_id].version:
            best[r.enterprise_id] = r
    return sorted(best.values(), key=lambda r: r.enterprise.name)


def totals(rows) -> dict:
    return {
        "uncapped": sum((r.uncapped_amount for r in rows), Decimal("0.00")),
        "amount": sum((r.amount for r in rows), Decimal("0.00")),
        "paid": sum((r.paid_amount or Decimal("0.00") for r in rows), Decimal("0.00")),
        "capped": sum(1 for r in rows if r.capped),
        "count": len(rows),
    }


def _sheet(ws, title: str, rows) -> None:
    ws.title = title
    header = [_("企业"), _("年度"), _("版本"), _("状态"), _("封顶前金额"), _("核定金额"), _("触及上限"), _("核减"),
              _("拨付金额"), _("拨付日期"), _("凭证号"), _("政策版本")]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        cut = Decimal(r.trace.get("cap_cut", "0"))
        ws.append([r.enterprise.name, r.year, r.version, str(r.get_state_display()), r.uncapped_amount, r.amount,
                   _("是") if r.capped else _("否"), cut, r.paid_amount, r.paid_on, r.voucher, r.scheme.name])
        if r.capped:
            for cell in ws[ws.max_row]:
                cell.fill = CAPPED_FILL
    t = totals(rows)
    ws.append([_("合计（%(n)s 家）") % {"n": t["count"]}, None, None, None, t["uncapped"], t["amount"],
               t["capped"], None, t["paid"]])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for col in ("E", "F", "H", "I"):
        for cell in ws[col][1:]:
            cell.number_format = MONEY_FMT
    for col, width in zip("ABCDEFGHIJKL", (36, 8, 6, 10, 16, 16, 9, 14, 16, 12, 16, 24), strict=True):
        ws.column_dimensions[col].width = width


def year_workbook(*, grants, premiums) -> bytes:
    wb = Workbook()
    _sheet(wb.active, _("研发投入资助"), grants)
    _sheet(wb.create_sheet(), _("保费补助"), premiums)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
