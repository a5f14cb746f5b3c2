"""The suite's system packages: browser tests skip without Chromium; README and .ci/run name the same packages."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import conftest

ROOT = Path(__file__).resolve().parent.parent
# Chromium drives the browser tests; WeasyPrint draws the PDF documents with Pango and the CJK fonts.
NEEDED = ["chromium", "fonts-noto-cjk", "libpango-1.0-0", "libpangoft2-1.0-0"]


class _Item:
    def __init__(self, *marks: str):
        self.keywords = dict.fromkeys(marks, True)
        self.markers: list = []

    def add_marker(self, marker) -> None:
        self.markers.append(marker)


def test_browser_tests_skip_with_a_reason_when_chromium_is_missing(pytestconfig, monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)  # the hook sets it; restored afterwards
    browser, plain = _Item("browser"), _Item()
    conftest.pytest_collection_modifyitems(pytestconfig, [browser, plain])
    assert [m.name for m in browser.markers] == ["skip"]
    assert "no-chromium" in browser.markers[0].kwargs["reason"]
    assert plain.markers == []


def test_browser_tests_run_when_chromium_is_present(pytestconfig, monkeypatch, tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    monkeypatch.setattr(conftest, "CHROMIUM", str(chromium))
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    browser = _Item("browser")
    conftest.pytest_collection_modifyitems(pytestconfig, [browser])
    assert browser.markers == []


@pytest.mark.parametrize("section", ["## 中文", "## English"])
def test_readme_names_the_system_packages_ci_installs(section):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(section)
    end = readme.find("\n## ", start + 1)
    text = readme[start:end if end != -1 else None]
    apt = re.search(r"APT_PACKAGES=\(([^)]*)\)", (ROOT / ".ci/run").read_text(encoding="utf-8")).group(1).split()
    for package in NEEDED:
        assert package in apt, f".ci/run does not install {package}"
        assert f"`{package}`" in text, f"README ({section}) does not name {package}"
