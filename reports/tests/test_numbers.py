"""Document numbers: one gap-free sequence per prefix and year, assigned when rendering starts, kept on retry."""
from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from reports.models import DocumentCounter, Report
from reports.services import report_render, report_request, report_retry


def _broken_build(*args, **kwargs):
    raise RuntimeError("renderer unavailable")


def _request(demo, kind, project):
    with mock.patch("reports.services._dispatch"):  # no worker: the test renders
        return report_request(actor=demo.auditor, kind=kind, params={"project": project.pk})


@pytest.mark.django_db
def test_numbers_follow_a_sequence_per_prefix_and_year_and_survive_a_retry(projects, demo):
    year = timezone.localdate().year
    dossier_1 = _request(demo, "project_dossier", projects[0])
    statement = _request(demo, "custody_statement", projects[0])
    export = _request(demo, "dossier_export", projects[1])       # shares 萧科安档 with the dossier
    dossier_2 = _request(demo, "project_dossier", projects[2])
    assert all(r.number == "" for r in (dossier_1, statement, export, dossier_2))  # none issued yet

    with mock.patch("reports.documents.build", side_effect=_broken_build):
        for report in (dossier_1, statement, export, dossier_2):
            report_render(report_id=report.pk)
    numbers = {r.pk: r.number for r in Report.objects.all()}
    assert [numbers[r.pk] for r in (dossier_1, export, dossier_2)] == [
        f"萧科安档〔{year}〕1号", f"萧科安档〔{year}〕2号", f"萧科安档〔{year}〕3号"]
    assert numbers[statement.pk] == f"萧科安账〔{year}〕1号"

    # The failed statement keeps its number: its retry prints the same one, and the next takes 2.
    failed = Report.objects.get(pk=statement.pk)
    assert failed.state == "failed"
    with mock.patch("reports.services._dispatch"):
        report_retry(actor=demo.auditor, report=failed)
    done = report_render(report_id=statement.pk)
    assert done.state == "done" and done.number == f"萧科安账〔{year}〕1号"
    nxt = _request(demo, "custody_statement", projects[1])
    assert report_render(report_id=nxt.pk).number == f"萧科安账〔{year}〕2号"
    assert DocumentCounter.objects.get(prefix="萧科安账", year=year).last == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_renderings_take_distinct_consecutive_numbers(projects, demo):
    year = timezone.localdate().year
    reports = [_request(demo, "project_dossier", projects[i % 3]) for i in range(6)]
    barrier = threading.Barrier(len(reports))
    errors = []

    def render(pk):
        try:
            barrier.wait()
            report_render(report_id=pk)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=render, args=(r.pk,)) for r in reports]
    with mock.patch("reports.documents.build", side_effect=_broken_build):  # patched once, for all threads
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    numbers = sorted(Report.objects.values_list("number", flat=True))
    assert numbers == sorted(f"萧科安档〔{year}〕{n}号" for n in range(1, 7))


@pytest.mark.django_db
def test_migration_continues_each_sequence_above_the_numbers_issued_by_report_id(demo):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("reports.migrations.0003_document_counter")
    for number, kind in (("萧科安审〔2025〕41号", "annual_audit"), ("萧科安审〔2025〕7号", "annual_audit"),
                         ("萧科安档〔2026〕12号", "project_dossier"), ("萧科安〔2025〕3号", "approval_notice")):
        Report.objects.create(kind=kind, params={}, requested_by=demo.auditor, number=number)
    migration.continue_after_existing_numbers(apps, None)
    assert dict(DocumentCounter.objects.values_list("prefix", "last")) == {"萧科安审": 41, "萧科安档": 12}
    assert DocumentCounter.objects.get(prefix="萧科安审").year == 2025
