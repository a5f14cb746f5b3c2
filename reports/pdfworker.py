"""Render one HTML file to PDF in a process of its own, then exit.

WeasyPrint does not hand memory back after ``write_pdf`` (its issue #1950), so
a long-lived worker that rendered one large document keeps that peak for
good. Large reports are therefore rendered part by part, each part in a
fresh process started by ``reports.documents.render_in_child``; the process's
peak memory is reported back so that the benchmark can print it.

Usage: python -P pdfworker.py IN.html OUT.pdf  → prints {"pages": n, "maxrss_kb": k, "seconds": s} on stdout.
Needs no Django: the HTML is self-contained (CSS inlined, SVG inline, fonts from fontconfig).
"""
from __future__ import annotations

import json
import resource
import sys
import time


def main(argv: list[str]) -> int:
    source, target = argv[1], argv[2]
    started = time.perf_counter()
    from weasyprint import HTML

    with open(source, encoding="utf-8") as fh:
        html = fh.read()
    document = HTML(string=html).render()
    pages = len(document.pages)
    document.write_pdf(target)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"pages": pages, "maxrss_kb": usage.ru_maxrss,
                      "seconds": round(time.perf_counter() - started, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
