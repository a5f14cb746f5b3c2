"""Render HTML files to PDF in a process of its own.

WeasyPrint does not hand memory back after ``write_pdf`` (its issue #1950), so
a long-lived worker that rendered one large document keeps that peak for
good. Large reports are therefore rendered part by part in child processes
started by ``reports.documents`` — one per core, each rendering parts one after
the other (memory freed by one part is reused by the next inside the process)
and replaced after a few parts, so its peak stays that of one part.

Usage:
    python -P pdfworker.py IN.html OUT.pdf   → prints {"pages": n, "maxrss_kb": k, "seconds": s}
    python -P pdfworker.py --serve           → reads "IN.html<TAB>OUT.pdf" lines on stdin and prints one such
                                               JSON line per file ({"error": "..."} when one fails)
Needs no Django: the HTML is self-contained (CSS inlined, SVG inline, fonts from fontconfig).
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time


def render(source: str, target: str) -> dict:
    from weasyprint import HTML

    started = time.perf_counter()
    with open(source, encoding="utf-8") as fh:
        html = fh.read()
    document = HTML(string=html).render()
    pages = len(document.pages)
    document.write_pdf(target)
    del document, html
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"pages": pages, "maxrss_kb": usage.ru_maxrss, "seconds": round(time.perf_counter() - started, 3),
            "pid": os.getpid()}


def serve() -> int:
    import weasyprint  # noqa: F401  (imported once, before the first file)

    for line in sys.stdin:
        source, target = line.rstrip("\n").split("\t")
        try:
            result = render(source, target)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises
            result = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    return 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["--serve"]:
        return serve()
    print(json.dumps(render(argv[1], argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
