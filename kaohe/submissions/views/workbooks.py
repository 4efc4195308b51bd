"""The offline Excel round-trip: download a self-report or provincial report as a
workbook, fill it in without the system, and import it back (all or nothing).
"""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    EDIT_PROVINCIAL_REPORT,
    EDIT_SELF_REPORT,
    capability_required,
)
from kaohe.audit.services import log_action
from kaohe.lib.http import AuthenticatedRequest, attachment_response, int_param, show_refusal
from kaohe.submissions import offline, services
from kaohe.submissions.models import ProvincialReport, SelfReport
from kaohe.submissions.views.provincial import _own_provincial
from kaohe.submissions.views.self_reports import _back, _own_report

MAX_OFFLINE_BYTES = 10 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(data: bytes, filename: str) -> HttpResponse:
    """A workbook as a download (kaohe.lib.http.attachment_response: never cached)."""
    return attachment_response(data, filename, XLSX_TYPE)


@capability_required(EDIT_SELF_REPORT)
def self_report_excel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = _own_report(request, pk)
    log_action("self_report.offline_downloaded", actor=request.user, target=report)
    return xlsx_response(offline.self_report_workbook(report),
                         f"{report.round.year}-自评报告-{report.unit.code}.xlsx")


def _import_offline(request: AuthenticatedRequest, importer: Callable[..., object],
                    report: SelfReport | ProvincialReport) -> None:
    """Run an offline workbook import and tell the user how it went (all or nothing)."""
    upload = request.FILES.get("file")
    if upload is None or upload.size is None or upload.size > MAX_OFFLINE_BYTES:
        messages.error(request, _("请选择不超过 10 MB 的 Excel 填报表（.xlsx）。"))
        return
    try:
        importer(report=report, data=upload.read(), actor=request.user,
                 revision=int_param(request.POST.get("revision")))
    except offline.OfflineImportError as exc:
        messages.error(request, _("未导入任何内容：") + str(exc))
    except services.SubmissionError as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, _("已导入离线填报表。"))


@capability_required(EDIT_SELF_REPORT)
@require_POST
def self_report_import(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = _own_report(request, pk)
    _import_offline(request, offline.self_report_import, report)
    return _back(report)


@capability_required(EDIT_PROVINCIAL_REPORT)
def provincial_excel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = _own_provincial(request, pk)
    log_action("provincial_report.offline_downloaded", actor=request.user, target=report)
    return xlsx_response(
        offline.provincial_report_workbook(report),
        f"{report.round.year}-省级总结-{report.province.code}-{report.unit.code}.xlsx")


@capability_required(EDIT_PROVINCIAL_REPORT)
@require_POST
def provincial_import(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = _own_provincial(request, pk)
    _import_offline(request, offline.provincial_report_import, report)
    return redirect("submissions:provincial_report", pk=report.pk)
