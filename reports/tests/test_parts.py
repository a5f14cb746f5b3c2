"""Large documents in parts: each part in its own process, merged, numbered 第 X 页 共 Y 页 across parts."""
import re
from datetime import date

import pytest
from django.utils import timezone

from reports import documents, rendering

from .pdfcheck import cjk_embedded, page_texts, squeeze

FOOTER = re.compile(r"第(\d+)页共(\d+)页")


def _footers(pdf: bytes) -> list[tuple[int, int]]:
    out = []
    for page in page_texts(pdf):
        found = FOOTER.findall(squeeze(page))
        assert len(found) == 1, page[-200:]
        out.append(tuple(int(x) for x in found[0]))
    return out


def _table_html(title: str, rows: int, start: int = 0) -> str:
    body = (f"<h2>{title}</h2><table><thead><tr><th>序号</th><th>项目名称</th><th class='num'>金额</th></tr></thead>"
            "<tbody>" + "".join(f"<tr><td>{start + i}</td><td>杭州萧山合作项目{start + i}</td>"
                                f"<td class='num'>¥1,200,000.00</td></tr>" for i in range(rows)) + "</tbody></table>")
    ctx = documents.page_context(title="测试", number="萧科安审〔2026〕1号", issued_on=date(2026, 1, 15), part=True)
    from django.template.loader import render_to_string

    return render_to_string("reports/wrap.html", {**ctx, "body": body})


def test_parts_are_merged_and_numbered_continuously_across_parts():
    seen = []
    parts = [_table_html("甲部分", 70), _table_html("乙部分", 5, 70), _table_html("丙部分", 130, 75)]
    result = documents.render_parts(iter(parts), number="萧科安审〔2026〕1号", issued_on=date(2026, 1, 15),
                                    progress=seen.append, expected_parts=3)
    assert len(result.part_pages) == 3 and all(n >= 1 for n in result.part_pages)
    assert result.part_pages[0] >= 2 and result.part_pages[2] >= 3   # long parts span several pages
    total = sum(result.part_pages)
    assert result.pages == total
    assert _footers(result.pdf) == [(i, total) for i in range(1, total + 1)]
    texts = [squeeze(t) for t in page_texts(result.pdf)]
    assert all("萧科安审〔2026〕1号2026年1月15日" in t for t in texts)
    # the table heading is repeated on every page a table continues on (thead: table-header-group)
    first_of_c = sum(result.part_pages[:2])
    for t in texts[1:result.part_pages[0]] + texts[first_of_c + 1:]:
        assert "序号项目名称金额" in t
    assert seen == sorted(seen) and seen[-1] == 95
    assert result.peak_rss_kb > 10_000    # measured in the rendering child process
    # stamping keeps content streams compressed: about the parts' own size (fonts embedded once per part)
    assert len(result.pdf) <= result.parts_size, (len(result.pdf), result.parts_size)
    assert cjk_embedded(result.pdf)


def test_parts_render_in_parallel_processes_keep_their_order_and_processes_are_replaced(settings):
    settings.REPORTS_PARTS_PER_CHILD = 2
    parts = [_table_html(f"第{i}部分", 3, i * 3) for i in range(6)]
    seen = []
    result = documents.render_parts(iter(parts), number="萧科安审〔2026〕1号", issued_on=date(2026, 1, 15),
                                    progress=seen.append, expected_parts=6, workers=2)
    assert result.workers == 2 and len(result.part_pages) == 6
    texts = [squeeze(t) for t in page_texts(result.pdf)]
    first_page_of = [next(k for k, t in enumerate(texts) if f"第{i}部分" in t) for i in range(6)]
    assert first_page_of == sorted(first_page_of)  # merged in the order given, whatever order they finished in
    assert _footers(result.pdf) == [(i, result.pages) for i in range(1, result.pages + 1)]
    # two processes at a time, each replaced after two parts: at least three processes rendered the six parts
    assert len(set(result.part_pids)) >= 3
    assert result.peak_total_rss_kb >= result.peak_rss_kb > 10_000
    assert seen == sorted(seen) and seen[-1] == 95


@pytest.mark.django_db
def test_annual_audit_in_parts_numbers_pages_like_the_single_pass_rendering(projects):
    year = timezone.localdate().year
    plan = documents.annual_audit_plan(year, number=f"萧科安审〔{year}〕2号", issued_on=date(2026, 1, 15),
                                       chunk_size=1)
    assert len(plan.chunks) == 3
    parts = documents.annual_audit_in_parts(plan)
    assert len(parts.part_pages) == 3      # front with the first chunk, the second, the third with the back
    footers = _footers(parts.pdf)
    assert footers == [(i, parts.pages) for i in range(1, parts.pages + 1)]
    single, single_pages = documents.write_pdf(documents.annual_audit_single_html(plan))
    single_footers = _footers(single)
    assert single_footers == [(i, single_pages) for i in range(1, single_pages + 1)]
    # the same content: every project's number is in both
    for p in projects:
        assert p.notice_number in squeeze("".join(page_texts(parts.pdf)))
        assert p.notice_number in squeeze("".join(page_texts(single)))


def test_a_failing_part_raises_with_the_child_error(tmp_path, monkeypatch):
    monkeypatch.setattr(rendering, "WORKER", tmp_path / "missing.py")  # the renderer starts the worker
    with pytest.raises(RuntimeError, match="PDF part x failed"):
        documents.render_in_child("<p>x</p>", tmp_path, "x")
