"""Rendering HTML to PDF: in one pass, in a child process, or in parts merged and numbered (see
``reports.documents``)."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

WORKER = Path(__file__).with_name("pdfworker.py")
Progress = Callable[[int], None]


def _noop(_percent: int) -> None:
    pass


# -- rendering primitives -------------------------------------------------


def print_css() -> str:
    path = finders.find("reports/print.css")
    return Path(path).read_text(encoding="utf-8")


def css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def page_context(*, title: str, number: str, issued_on: date, part: bool = False) -> dict:
    doc_date = chinese_date(issued_on)
    return {"title": title, "number": number, "issued_on": issued_on, "doc_date": doc_date, "part": part,
            "print_css": print_css(), "footer_css": css_string(f"{number}　{doc_date}")}


def write_pdf(html: str) -> tuple[bytes, int]:
    """One-pass rendering in this process: the PDF and its number of pages."""
    from weasyprint import HTML

    document = HTML(string=html).render()
    return document.write_pdf(), len(document.pages)


@dataclass
class ChildResult:
    path: Path
    pages: int
    maxrss_kb: int
    seconds: float
    pid: int = 0


def render_in_child(html: str, workdir: Path, name: str) -> ChildResult:
    """Render ``html`` in a fresh Python process; its memory is returned to the system when it exits."""
    source = workdir / f"{name}.html"
    target = workdir / f"{name}.pdf"
    source.write_text(html, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-P", str(WORKER), str(source), str(target)], capture_output=True,
                          text=True, timeout=getattr(settings, "REPORTS_PART_TIMEOUT", 1800), check=False,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    source.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"PDF part {name} failed: {proc.stderr.strip()[-2000:]}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    return ChildResult(path=target, pages=info["pages"], maxrss_kb=info["maxrss_kb"], seconds=info["seconds"])


@dataclass
class PartsResult:
    pdf: bytes
    pages: int
    part_pages: list[int] = field(default_factory=list)
    peak_rss_kb: int = 0  # the largest rendering process
    parts_size: int = 0   # bytes of the separately rendered parts and the footer overlay, before merging
    workers: int = 1
    peak_total_rss_kb: int = 0  # the rendering processes' peaks added up: a bound on what they held at once
    part_pids: list[int] = field(default_factory=list)


class _Child:
    """A rendering process (reports/pdfworker.py --serve) that renders parts one after the other."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-P", str(WORKER), "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.jobs = 0
        self.maxrss_kb = 0

    def render(self, source: Path, target: Path) -> ChildResult:
        self.proc.stdin.write(f"{source}\t{target}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"PDF part {source.stem}: the rendering process ended: {self.proc.stderr.read()[-2000:]}")
        info = json.loads(line)
        if "error" in info:
            raise RuntimeError(f"PDF part {source.stem} failed: {info['error']}")
        self.jobs += 1
        self.maxrss_kb = max(self.maxrss_kb, info["maxrss_kb"])
        return ChildResult(path=target, pages=info["pages"], maxrss_kb=info["maxrss_kb"], seconds=info["seconds"],
                           pid=info["pid"])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class _ChildPool:
    """One rendering process per worker thread, replaced after ``parts_per_child`` parts (bounded memory)."""

    def __init__(self, parts_per_child: int):
        self.parts_per_child = max(1, parts_per_child)
        self.local = threading.local()
        self.lock = threading.Lock()
        self.peaks: list[int] = []
        self.children: list[_Child] = []

    def render(self, source: Path, target: Path) -> ChildResult:
        child = getattr(self.local, "child", None)
        if child is None or child.jobs >= self.parts_per_child:
            if child is not None:
                self._retire(child)
            child = self.local.child = _Child()
            with self.lock:
                self.children.append(child)
        return child.render(source, target)

    def _retire(self, child: _Child) -> None:
        child.close()
        with self.lock:
            self.children.remove(child)
            self.peaks.append(child.maxrss_kb)

    def close(self) -> list[int]:
        """Stop every process; the peak of each process that ran, retired ones included."""
        with self.lock:
            children = list(self.children)
        for child in children:
            self._retire(child)
        return self.peaks


def overlay_html(*, pages: int, number: str, issued_on: date) -> str:
    ctx = page_context(title="", number=number, issued_on=issued_on)
    return render_to_string("reports/overlay.html", {**ctx, "pages": range(pages)})


def render_parts(parts: Iterator[str], *, number: str, issued_on: date, progress: Progress = _noop,
                 expected_parts: int = 1, workers: int | None = None) -> PartsResult:
    """Render the HTML parts in parallel, a process per core, merge them in order, stamp the footer on every page.

    The parts are produced (read from the database) in this thread while earlier ones render; at most two
    per worker wait on disk at a time, so memory stays bounded however long the report. Progress is
    reported as parts finish.
    """
    from pypdf import PdfReader, PdfWriter

    workers = max(1, workers or getattr(settings, "REPORTS_WORKERS", 0) or os.cpu_count() or 1)
    pool = _ChildPool(getattr(settings, "REPORTS_PARTS_PER_CHILD", 8))
    with tempfile.TemporaryDirectory(prefix="anxinbao-report-") as tmp:
        workdir = Path(tmp)
        results: dict[int, ChildResult] = {}
        done = 0

        def finished(future) -> None:
            nonlocal done
            i, result = future.result()
            results[i] = result
            done += 1
            progress(min(90, 5 + 85 * done // max(expected_parts, done)))

        def job(i: int, source: Path) -> tuple[int, ChildResult]:
            try:
                return i, pool.render(source, workdir / f"part{i:04d}.pdf")
            finally:
                source.unlink(missing_ok=True)

        try:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pdf") as executor:
                running: set = set()
                for i, html in enumerate(parts):
                    source = workdir / f"part{i:04d}.html"
                    source.write_text(html, encoding="utf-8")
                    del html
                    running.add(executor.submit(job, i, source))
                    if len(running) >= 2 * workers:
                        finished_now, running = wait(running, return_when=FIRST_COMPLETED)
                        for future in finished_now:
                            finished(future)
                for future in as_completed(running):
                    finished(future)
            ordered = [results[i] for i in range(len(results))]
            writer = PdfWriter()
            for result in ordered:
                writer.append(PdfReader(result.path))
            total = len(writer.pages)
            source = workdir / "overlay.html"
            source.write_text(overlay_html(pages=total, number=number, issued_on=issued_on), encoding="utf-8")
            overlay = pool.render(source, workdir / "overlay.pdf")
        finally:
            peaks = pool.close()
        parts_size = sum(r.path.stat().st_size for r in [*ordered, overlay])
        stamps = PdfReader(overlay.path)
        if len(stamps.pages) != total:
            raise RuntimeError(f"footer overlay has {len(stamps.pages)} pages for {total}")
        for page, stamp in zip(writer.pages, stamps.pages):
            page.merge_page(stamp)
            # merge_page leaves the page's content uncompressed: compress it again (a 158-page
            # report otherwise grows from 3 MB to 18 MB).
            page.compress_content_streams()
        # The parts share identical objects (e.g. colour profiles, some font programs): keep one of each.
        writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
        progress(95)
        buffer = io.BytesIO()
        writer.write(buffer)
    top = sorted(peaks, reverse=True)[:workers]
    return PartsResult(pdf=buffer.getvalue(), pages=total, part_pages=[r.pages for r in ordered],
                       peak_rss_kb=max(peaks, default=0), parts_size=parts_size, workers=workers,
                       peak_total_rss_kb=sum(top), part_pids=[r.pid for r in ordered])


@dataclass
class Output:
    content: bytes
    filename: str
    title: str
    number: str
    pages: int | None = None
    content_type: str = "application/pdf"
