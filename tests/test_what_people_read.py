"""What a person can receive reads in words, in Chinese and in English: no rule id leads or stands bare in a
sentence (the rule travels as ``DomainError.rule`` and the page shows it with ``{% rule %}``), and no internal
code — a state or action name, an account code such as ``custody:19:1`` — reaches a notice, an error message,
a label or an official document.

Scanned: every notice message id of the code (``gettext_noop``), rendered in both languages; every message a
service raises as a domain error; every entry of the catalogue (labels, help texts, headings of the pages);
the PDFs of the demo data.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from core.notices import render

ROOT = Path(settings.BASE_DIR)
APPS = ("core", "projects", "escrow", "subsidies", "reports", "dashboards", "demo")
CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"

RULE = re.compile(r"(?<![A-Za-z0-9_&])[RI]\d{1,2}(?![0-9])")
ACCOUNT = re.compile(r"\b(?:custody|pool|ext|bank|suspense):[a-z0-9_:]+")
SNAKE = re.compile(r"(?<![%(\w])[a-z]+(?:_[a-z]+)+\b")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrf]|\{\{[^}]*\}\}|\{%[^%]*%\}|<[^>]+>")
ALLOWED = {"bank_ref"}  # a column of the bank statement CSV, which people type as such
ERRORS = {"DomainError", "ConflictError", "TransitionNotAllowed", "PermissionDeniedError", "LedgerError",
          "InsufficientFunds", "ValidationError"}


def state_and_action_codes() -> set[str]:
    """The words the code uses among itself: states, kinds, purposes and audit actions."""
    from escrow import choices as escrow_choices
    from projects import choices as project_choices
    from projects.registry import EVENT_LABELS

    codes = set(EVENT_LABELS)
    for module in (project_choices, escrow_choices):
        for value in vars(module).values():
            if isinstance(value, type) and hasattr(value, "choices") and hasattr(value, "values"):
                codes |= {v for v in value.values if isinstance(v, str)}
    return {c for c in codes if len(c) > 3}


def problems(text: str, *, chinese: bool, codes: set[str] = frozenset()) -> list[str]:
    """What in ``text`` is a code rather than words."""
    plain = PLACEHOLDER.sub(" ", text)
    found = [f"rule {m}" for m in RULE.findall(plain)]
    found += [f"account {m}" for m in ACCOUNT.findall(plain)]
    found += [f"name {m}" for m in SNAKE.findall(plain) if m not in ALLOWED]
    if chinese:  # an English word in a Chinese sentence that is one of the code's own names
        found += [f"code {w}" for w in re.findall(r"[a-z]{4,}", plain) if w in codes]
    return found


def source_files():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            yield path


def _name(func) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _strings(node) -> list[str]:
    """The translatable strings in an expression: the argument of each ``_()``/``gettext()`` call, or a plain
    string constant with Chinese in it."""
    out = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and _name(sub.func) in {"_", "gettext", "gettext_lazy", "pgettext"}:
            args = [a for a in sub.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if args:
                out.append(args[-1].value)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and re.search(r"[\u4e00-\u9fff]",
                                                                                         sub.value):
            out.append(sub.value)
    return out


def notice_ids() -> list[tuple[str, str]]:
    found = []
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and _name(node.func) == "gettext_noop" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.args[0].value))
    return found


def error_messages() -> list[tuple[str, str]]:
    """Every message given to a domain error raised (or built) in the application's code."""
    found = []
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _name(node.func) in ERRORS:
                parts = list(node.args) + [k.value for k in node.keywords if k.arg in {"detail", "fields", "message"}]
                for part in parts:
                    found += [(f"{path.relative_to(ROOT)}:{node.lineno}", s) for s in _strings(part)]
    return found


def _params(msgid: str) -> dict:
    return {name: "1" for name in re.findall(r"%\((\w+)\)", msgid)}


def test_the_scan_sees_codes_where_they_are():
    codes = {"request_deposit", "balance_due"}
    assert problems("项目“%(t)s”已揭榜，待受理（R12）", chinese=True)
    assert problems("R12：受理前须报备%(m)s", chinese=True)
    assert problems("账户 custody:19:1 与 ext:enterprise:1", chinese=True)
    assert problems("动作 request_deposit", chinese=True, codes=codes)
    assert problems("状态 approved", chinese=True, codes={"approved"})
    assert problems("Project taken on (R12)", chinese=False)
    assert not problems("项目“%(t)s”已揭榜，待受理；R&D 投入 %(cap_words)s", chinese=True, codes=codes)


def test_the_scan_finds_the_notices_and_the_errors():
    assert len(notice_ids()) > 50
    messages = [m for _where, m in error_messages()]
    assert len(messages) > 100 and any("黑名单" in m for m in messages)


def test_notices_read_in_words_in_both_languages():
    codes = state_and_action_codes()
    bad = []
    for where, msgid in notice_ids():
        for language in ("zh-hans", "en"):
            with translation.override(language):
                text = render(msgid, _params(msgid))
            bad += [f"{where} [{language}] {p}: {text}" for p in problems(text, chinese=language != "en",
                                                                            codes=codes)]
    assert bad == []


def test_error_messages_read_in_words_in_both_languages():
    codes = state_and_action_codes()
    bad = []
    for where, msgid in error_messages():
        for language in ("zh-hans", "en"):
            with translation.override(language):
                text = gettext(msgid)
            bad += [f"{where} [{language}] {p}: {text}" for p in problems(text, chinese=language != "en",
                                                                            codes=codes)]
    assert bad == []


def test_every_catalogue_entry_reads_in_words():
    """Labels, headings, help texts and buttons of every page, e-mail and document: the whole catalogue."""
    codes = state_and_action_codes()
    bad = []
    for entry in polib.pofile(str(CATALOGUE)):
        if entry.obsolete:
            continue
        for text, chinese in ((entry.msgid, True), (entry.msgstr, False)):
            bad += [f"{p}: {text[:80]}" for p in problems(text, chinese=chinese, codes=codes)]
    assert bad == []


@pytest.mark.django_db
def test_official_documents_of_the_demo_data_read_in_words(demo_documents):
    codes = state_and_action_codes()
    bad = []
    for name, pages in demo_documents.items():
        if name.endswith("pdf"):
            continue
        for number, text in enumerate(pages, 1):
            bad += [f"{name} p.{number}: {p}" for p in problems(text, chinese=True, codes=codes)]
    assert bad == []


def page_fill(pdf: bytes) -> list[float]:
    """How far down each page its text reaches, as a share of the printable height (A4, the margins of
    static/reports/print.css); the footer, stamped in the bottom margin, does not count."""
    import io

    from pypdf import PdfReader

    top_margin, bottom_margin = 22 / 25.4 * 72, 24 / 25.4 * 72
    fills = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        height = float(page.mediabox.height)
        lowest = [height]

        def visit(text, cm, tm, _font, _size, lowest=lowest, height=height):
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if text.strip() and y > bottom_margin:
                lowest[0] = min(lowest[0], y)

        page.extract_text(visitor_text=visit)
        fills.append((height - top_margin - lowest[0]) / (height - top_margin - bottom_margin))
    return fills


@pytest.mark.django_db
def test_annual_audit_of_the_demo_data_leaves_no_page_but_the_last_nearly_empty(demo_documents):
    """Every page before the last is filled at least a third of the way down (the extracted text reaches that
    far): no section starts on a page of its own after a short one, no table or chart moves whole to the next
    page leaving a gap. (Before: the flows chart alone on page 2, 27 % down, and the chunk's and the back's
    last pages half or a fifth full, because each part and section began on a new page.)"""
    pages = demo_documents["annual audit"]
    fills = page_fill(demo_documents["annual audit pdf"])
    assert len(pages) == len(fills) >= 2
    assert all(f >= 1 / 3 for f in fills[:-1]), [round(f, 2) for f in fills]


@pytest.fixture(scope="module")
def demo_documents(django_db_setup, django_db_blocker, tmp_path_factory):
    """Every official document of the demo data (seed_demo) as its pages' extracted text: seeded and rendered
    once for the module, inside a transaction rolled back at the end."""
    from django.db import transaction
    from django.test import override_settings

    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        with transaction.atomic():
            documents = _render_demo_documents()
            transaction.set_rollback(True)
    return documents


def _render_demo_documents() -> dict:
    from django.core.management import call_command
    from django.utils import timezone

    from core.exceptions import DomainError
    from core.models import User
    from projects.models import Project
    from reports import documents
    from reports.tests.pdfcheck import page_texts
    from subsidies.models import GrantComputation, PremiumSubsidy
    from subsidies.services import figure_approve

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    today = timezone.localdate()
    out: dict = {}
    for project in Project.objects.exclude(state="draft").order_by("pk"):
        out[f"dossier {project.pk}"] = page_texts(documents.project_dossier(project.pk, number="档〔1〕1号",
                                                                            issued_on=today).content)
        out[f"statement {project.pk}"] = page_texts(documents.custody_statement(project.pk, number="账〔1〕1号",
                                                                                issued_on=today).content)
        if project.notice_number:
            out[f"notice {project.pk}"] = page_texts(documents.approval_notice(project.pk).content)
    reviewer = User.objects.get(username="reviewer")
    for model in (GrantComputation, PremiumSubsidy):  # the bureau approves what it may, so decisions exist
        for figure in model.objects.filter(state="computed"):
            try:
                figure_approve(figure=figure, actor=reviewer)
            except DomainError:  # an audit still pending: that figure waits
                pass
    pairs = {pair for model in (GrantComputation, PremiumSubsidy)
             for pair in model.objects.values_list("enterprise_id", "year")}
    for enterprise_id, year in sorted(pairs):
        try:
            pdf = documents.subsidy_decision(enterprise_id, year, number="决〔1〕1号", issued_on=today).content
        except DomainError:  # nothing decided yet for that enterprise and year
            continue
        out[f"decision {enterprise_id} {year}"] = page_texts(pdf)
    assert any(name.startswith("decision") for name in out)
    annual = documents.annual_audit(today.year, number="审〔1〕1号", issued_on=today).content
    out["annual audit"] = page_texts(annual)
    return {**out, "annual audit pdf": annual}
