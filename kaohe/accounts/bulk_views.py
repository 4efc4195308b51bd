"""Pages of the bulk accounts (kaohe.accounts.bulk): the system administrator opens the
missing accounts and makes their credential letters; the security administrator grants
the roles and makes the code letters. Each act is one POST to one service."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from kaohe.accounts import bulk
from kaohe.accounts.capabilities import (
    ISSUE_ENROLMENT_CODE,
    MANAGE_ACCOUNTS,
    MANAGE_ROLES,
    capability_required,
)
from kaohe.documents import services as documents
from kaohe.documents.models import ExportStatus
from kaohe.lib import paging
from kaohe.lib.http import stored_attachment_response

PAGE_SIZE = paging.ROWS  # units or accounts the bulk pages list at once (issue 19)


@capability_required(MANAGE_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def bulk_open(request):
    if request.method == "POST":
        opened = bulk.accounts_open(actor=request.user)
        if opened.created or opened.adopted:
            messages.success(request, _(
                "已开设%(created)d个账户（未授予角色），另有%(adopted)d名考核工作小组成员待发"
                "通知书。请安全管理员授予角色并生成绑定码通知书，然后生成账户开通通知书。")
                % {"created": len(opened.created), "adopted": len(opened.adopted)})
        else:
            messages.info(request, _("所有中央单位和省份都已有账户，没有新开设的账户。"))
        return redirect("accounts:credential_letters")
    # The units waiting, a page at a time (issue 19); the POST opens them all.
    units = bulk.units_without_account()
    page = Paginator(units.order_by(*units.query.order_by, "pk"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "accounts/bulk_open.html", {
        "units": page, "page": page,
        "provinces": list(bulk.provinces_without_account()),
        "members": bulk.team_members_without_credentials(),
    })


@capability_required(MANAGE_ROLES)
@require_http_methods(["GET", "POST"])
def bulk_roles(request):
    if request.method == "POST":
        granted = bulk.roles_grant(actor=request.user)
        if granted:
            messages.success(request, _("已为%(n)d个账户授予对应角色。") % {"n": len(granted)})
        else:
            messages.info(request, _("没有待授予角色的账户。"))
        return redirect("accounts:bulk_roles")
    # The accounts waiting, a page at a time (issue 19); the POST grants them all.
    page = Paginator(bulk.openings_without_role(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/bulk_roles.html", {
        "openings": page, "page": page,
        "without_code": bulk.openings_without_code(actor=request.user).count(),
        "exports": bulk.letters_of(request.user, bulk.CODE_LETTERS)[:20],
        "kind": "codes",
    })


@capability_required(ISSUE_ENROLMENT_CODE)
@require_POST
def code_letters_make(request):
    export = bulk.code_letters_request(actor=request.user)
    if export is None:
        messages.info(request, _("没有待生成绑定码通知书的账户。"))
    else:
        messages.success(request, _("已开始生成“%(title)s”，完成后可在下方下载（只能下载一次）。")
                         % {"title": export.title})
    return redirect("accounts:bulk_roles")


@capability_required(ISSUE_ENROLMENT_CODE)
def code_letters_status(request, pk):
    return _letters_status(request, pk, bulk.CODE_LETTERS)


@capability_required(ISSUE_ENROLMENT_CODE)
@never_cache
def code_letters_download(request, pk):
    """The code letters, once, to the one who made them (they hold the codes)."""
    return _letters_download(request, pk, bulk.CODE_LETTERS)


@capability_required(MANAGE_ACCOUNTS)
def credential_letters(request):
    # The accounts waiting, a page at a time (issue 19); one letter file covers them all.
    page = Paginator(bulk.openings_without_letter(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/credential_letters.html", {
        "pending": page, "page": page,
        "without_role": bulk.openings_without_role().count(),
        "exports": bulk.letters_of(request.user)[:20],
    })


@capability_required(MANAGE_ACCOUNTS)
@require_POST
def credential_letters_make(request):
    export = bulk.letters_request(actor=request.user)
    if export is None:
        messages.info(request, _("没有待生成通知书的账户。"))
    else:
        messages.success(request, _("已开始生成“%(title)s”，完成后可在下方下载（只能下载一次）。")
                         % {"title": export.title})
    return redirect("accounts:credential_letters")


@capability_required(MANAGE_ACCOUNTS)
def credential_letters_status(request, pk):
    return _letters_status(request, pk, bulk.LETTERS)


@capability_required(MANAGE_ACCOUNTS)
@never_cache
def credential_letters_download(request, pk):
    """The letters, once, to the one who made them: the file holds passwords, so it is
    deleted as it is handed out (kaohe.accounts.bulk.letters_take)."""
    return _letters_download(request, pk, bulk.LETTERS)


def _letters_status(request, pk, identifier):
    """One letter export's progress (polled by the page through htmx)."""
    export = get_object_or_404(bulk.letters_of(request.user, identifier), pk=pk)
    if export.status == ExportStatus.RUNNING and documents.recover_stale_exports(export_id=pk):
        export.refresh_from_db()
    return render(request, "accounts/_letters_row.html", {
        "export": export, "kind": "codes" if identifier == bulk.CODE_LETTERS else ""})


def _letters_download(request, pk, identifier):
    taken = bulk.letters_take(export_id=pk, actor=request.user, identifier=identifier)
    if taken is None:
        raise Http404
    export, stream = taken
    return stored_attachment_response(stream, size=stream.size, filename=export.file_name,
                                      content_type=export.content_type)
