"""Read PDFs back in tests: their text and their embedded fonts."""
from __future__ import annotations

import io
import re

from pypdf import PdfReader


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def text(pdf: bytes) -> str:
    return "\n".join(page_texts(pdf))


def squeeze(value: str) -> str:
    """Text without whitespace: extraction may split a line where the layout wrapped it."""
    return re.sub(r"\s+", "", value)


def embedded_fonts(pdf: bytes) -> dict[str, bool]:
    """Base font name → whether a font program (/FontFile, /FontFile2 or /FontFile3) is embedded."""
    reader = PdfReader(io.BytesIO(pdf))
    fonts: dict[str, bool] = {}

    def visit(font) -> None:
        font = font.get_object()
        name = str(font.get("/BaseFont", ""))
        descriptors = []
        if "/FontDescriptor" in font:
            descriptors.append(font["/FontDescriptor"].get_object())
        for child in font.get("/DescendantFonts", []) or []:
            child = child.get_object()
            if "/FontDescriptor" in child:
                descriptors.append(child["/FontDescriptor"].get_object())
        embedded = any(k in d for d in descriptors for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        fonts[name] = fonts.get(name, False) or embedded

    for page in reader.pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            visit(font)
        for xobj in (resources.get("/XObject") or {}).values():
            xobj = xobj.get_object()
            inner = (xobj.get("/Resources") or {})
            inner = inner.get_object() if hasattr(inner, "get_object") else inner
            for font in (inner.get("/Font") or {}).values():
                visit(font)
    return fonts


def cjk_embedded(pdf: bytes) -> bool:
    return any("Noto-Sans-CJK-SC" in name and embedded for name, embedded in embedded_fonts(pdf).items())


def filled_rects(pdf: bytes, page: int) -> list[tuple[str, str]]:
    """(fill colour "r g b", rectangle "x y w h") of each rectangle drawn on a page, as the content stream
    writes them: an inline SVG chart is drawn with its own coordinates, so its bars can be recognised."""
    content = PdfReader(io.BytesIO(pdf)).pages[page].get_contents().get_data().decode("latin-1")
    rects, colour = [], ""
    for line in content.splitlines():
        line = line.strip()
        if line.endswith(" rg"):
            colour = line[:-3]
        elif line.endswith(" re"):
            rects.append((colour, line[:-3]))
    return rects


# What people never read in a document: a rule id outside an explained reference ("政策依据：R12 …"),
# an action's code (request_deposit) or an account code (custody:19:1, ext:enterprise:1, pool:advanced:3).
CODE_PATTERNS = (
    re.compile(r"(?<!政策依据：)(?<![A-Za-z0-9_])[RI]\d{1,2}(?![0-9])"),
    re.compile(r"\b[a-z]+_[a-z_]+\b"),
    re.compile(r"\b(?:custody|ext|pool):[a-z0-9:]+"),
)


def codes_in(body: str) -> list[str]:
    return [m.group(0) for pattern in CODE_PATTERNS for m in pattern.finditer(body)]


def assert_no_codes(body: str) -> None:
    found = codes_in(body)
    assert not found, f"internal codes in a document: {sorted(set(found))}"
