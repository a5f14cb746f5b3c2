"""Excel export of the platforms' performance (R17)."""
from __future__ import annotations

from io import BytesIO

from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.styles import Font

HEADERS = [_("科创平台"), _("立项项目数"), _("里程碑达标"), _("里程碑未达标"), _("按期达标"), _("按期率"),
           _("拨付到账（元）"), _("罚没保证金（元）"), _("专家平均分")]


def performance_xlsx(year: int, rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = f"{year}"
    ws.append([str(h) for h in HEADERS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([r.platform, r.projects, r.met, r.not_met, r.on_time,
                   float(r.on_time_rate) if r.on_time_rate is not None else None,  # a ratio, not money
                   r.received, r.forfeitures, r.mean_score])
        ws.cell(row=ws.max_row, column=6).number_format = "0.00%"
        for col in (7, 8):
            ws.cell(row=ws.max_row, column=col).number_format = "#,##0.00"
    for col, width in zip("ABCDEFGHI", (28, 12, 12, 12, 12, 10, 18, 18, 12), strict=True):
        ws.column_dimensions[col].width = width
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
