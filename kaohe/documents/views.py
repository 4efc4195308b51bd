"""The documents page: what the user may export, bulk exports with progress, and the
office's Word templates. Every file handed out is made through services, which marks and
logs it."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    EXPORT_DOCUMENTS,
    MANAGE_DOCUMENT_TEMPLATES,
    SIGN_DOCUMENTS,
    capability_required,
    has_capability,
)
from kaohe.audit.services import log_action
from kaohe.documents import selectors, services, signing, withdrawal
from kaohe.documents.base import FORMAT_LABELS, REGISTRY, TemplateFillError, get_exporter
from kaohe.documents.forms import TemplateForm
from kaohe.documents.models import DocumentTemplate, Export, ExportStatus
from kaohe.documents.starter import starter_template
from kaohe.lib import clock, paging, storage
from kaohe.lib.http import attachment_response, run_service, stored_attachment_response
from kaohe.rounds.selectors import round_from_request, visible_rounds

PAGE_SIZE = paging.ROWS  # papers of a kind the sign-off desk shows at once (issue 19)


def _offered(user, round_):
    """What every exporter that offers the user something offers: its objects when few,
    else how many (chosen on the choose page)."""
    # Each exporter scopes itself: it offers nothing outside the user's scope.
    return [{
        "exporter": item["exporter"], "many": item["many"],
        "objects": [(item["exporter"].object_key(o), item["exporter"].describe(o))
                    for o in item["objects"]],
        "formats": [(fmt, FORMAT_LABELS[fmt]) for fmt in item["exporter"].formats],
    } for item in selectors.documents_offered_briefly(user, round_)]


@capability_required(EXPORT_DOCUMENTS)
def index(request):
    # ?year= names an earlier (or closed) round the user may see: its documents stay
    # reachable once the next round starts; without it, the current round.
    round_ = round_from_request(request)
    bulk = [identifier for identifier, cls in REGISTRY.items() if cls.bulk]
    exports = Export.objects.filter(made_by=request.user, identifier__in=bulk)[:20]
    return render(request, "documents/index.html", {
        "round": round_, "offered": _offered(request.user, round_), "exports": exports,
        "years": [r.year for r in visible_rounds(request.user)],
        "can_manage_templates": has_capability(request.user, MANAGE_DOCUMENT_TEMPLATES),
        "can_sign": has_capability(request.user, SIGN_DOCUMENTS),
    })


@capability_required(EXPORT_DOCUMENTS)
def make(request, identifier, key, fmt):
    """One document now (GET, a download), or a bulk export queued (POST)."""
    round_ = round_from_request(request)
    exporter, obj = selectors.document_for(request.user, round_, identifier, key, fmt)
    if exporter.bulk:
        if request.method != "POST":
            raise Http404
        export = services.request_export(request.user, exporter, obj, fmt, round_=round_)
        messages.success(request, _("已开始生成“%(title)s”，完成后可在下方下载。")
                         % {"title": export.title})
        return redirect("documents:index")
    try:
        rendered = services.export_now(request.user, exporter, obj, fmt, round_=round_)[1]
    except TemplateFillError:
        # Recorded as a failed export (with the reason) and audited by export_now; the user
        # gets a plain answer, never the template's expression or a traceback.
        messages.error(request, _("“%(document)s”的Word模板无法填充，文书未生成。请联系办公室在"
                                  "“文书模板”页重新上传模板或恢复内置版式。")
                       % {"document": exporter.name})
        return redirect("documents:index")
    except services.ExportStopped as stopped:
        messages.error(request, str(stopped))  # recorded and audited as failed by export_now
        return redirect("documents:index")
    return attachment_response(rendered.data, rendered.file_name, rendered.content_type)


def _own_export(request, pk) -> Export:
    return get_object_or_404(Export, pk=pk, made_by=request.user)


@capability_required(EXPORT_DOCUMENTS)
def export_status(request, pk):
    """The progress of one bulk export (polled by the page through htmx)."""
    export = _own_export(request, pk)
    if export.status == ExportStatus.RUNNING and services.recover_stale_exports(export_id=pk):
        export.refresh_from_db()  # its worker died: failed, and the page stops polling
    return render(request, "documents/_export_row.html", {"export": export})


@capability_required(EXPORT_DOCUMENTS)
def export_download(request, pk):
    export = _own_export(request, pk)
    if export.status != ExportStatus.DONE or not export.storage_name:
        raise Http404
    if export.expires_at and export.expires_at <= clock.now():
        services.purge_expired()
        raise Http404
    if withdrawal.withdrawn_in(export) is not None:
        raise Http404  # holds a paper withdrawn since (its withdrawal expires it too)
    # Asked again at the door, as the worker asked before making it: its maker may have
    # lost the right to read it since (another role, another scope).
    selectors.document_for(request.user, export.round, export.identifier, export.object_key,
                           export.fmt)
    stream = storage.StoredStream(export.storage_name)
    try:
        size = stream.size
    except FileNotFoundError:
        raise Http404 from None  # purged meanwhile (`kaohe verify` reports a lost one)
    log_action("document.downloaded", actor=request.user, target=export,
               data={"code": export.code, "sha256": export.sha256})
    return stored_attachment_response(stream, size=size, filename=export.file_name,
                                      content_type=export.content_type)


# The office's Word templates ---------------------------------------------------------


def _templatable():
    return [cls() for cls in REGISTRY.values() if cls.templatable and "docx" in cls.formats]


@capability_required(MANAGE_DOCUMENT_TEMPLATES)
def templates(request):
    stored = {t.identifier: t for t in DocumentTemplate.objects.select_related("uploaded_by")}
    rows = [{"exporter": e, "template": stored.get(e.identifier)} for e in _templatable()]
    return render(request, "documents/templates.html", {"rows": rows, "form": TemplateForm()})


def _templatable_exporter(identifier):
    exporter = get_exporter(identifier)
    if not exporter.templatable or "docx" not in exporter.formats:
        raise Http404
    return exporter


@capability_required(MANAGE_DOCUMENT_TEMPLATES)
@require_POST
def template_upload(request, identifier):
    exporter = _templatable_exporter(identifier)
    form = TemplateForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.save_template(request.user, exporter, form.cleaned_data["file"])
        except Exception as error:
            from django.forms import ValidationError

            if not isinstance(error, ValidationError):
                raise
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("已启用“%(name)s”的新模板。") % {"name": exporter.name})
    else:
        messages.error(request, _("请选择要上传的Word模板文件。"))
    return redirect("documents:templates")


@capability_required(MANAGE_DOCUMENT_TEMPLATES)
@require_POST
def template_delete(request, identifier):
    exporter = _templatable_exporter(identifier)
    services.delete_template(request.user, exporter)
    messages.success(request, _("“%(name)s”已恢复为系统内置版式。") % {"name": exporter.name})
    return redirect("documents:templates")


@capability_required(MANAGE_DOCUMENT_TEMPLATES)
def template_download(request, identifier):
    """The office's current template, or a starter template to edit in Word."""
    exporter = _templatable_exporter(identifier)
    stored = DocumentTemplate.objects.filter(identifier=identifier).first()
    if stored is not None:
        data, name = bytes(stored.content), stored.original_name
    else:
        data, name = starter_template(exporter), f"{exporter.name}-模板.docx"
    log_action("document.template_downloaded", actor=request.user,
               data={"document": identifier})
    return attachment_response(
        data, name, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


@capability_required(EXPORT_DOCUMENTS)
def choose(request, identifier):
    """One document's objects a page at a time, found by unit (or province) name or code:
    for a document of more objects than the documents page lists."""
    round_ = round_from_request(request)
    query = request.GET.get("q", "")[:100]
    exporter, objects = selectors.document_objects(request.user, round_, identifier, query)
    page = Paginator(objects, selectors.OFFER_LIMIT).get_page(request.GET.get("page"))
    return render(request, "documents/choose.html", {
        "round": round_, "exporter": exporter, "q": query.strip(), "page": page,
        "rows": [(exporter.object_key(o), exporter.describe(o)) for o in page],
        "formats": [(fmt, FORMAT_LABELS[fmt]) for fmt in exporter.formats],
    })


@capability_required(EXPORT_DOCUMENTS)
def pick(request, identifier):
    """The object chosen in a list on the documents page: on to the document's address."""
    exporter = get_exporter(identifier)
    key, fmt = request.GET.get("key", ""), request.GET.get("fmt", "")
    if fmt not in exporter.formats or exporter.bulk or not key:
        raise Http404
    round_ = round_from_request(request)
    exporter.get_object(request.user, round_, key)  # 404 outside the user's scope
    url = reverse("documents:make", kwargs={"identifier": identifier, "key": key, "fmt": fmt})
    return redirect(url + (f"?year={round_.year}" if round_ is not None else ""))


# Sign-off (签发) --------------------------------------------------------------------------


@capability_required(SIGN_DOCUMENTS)
def sign_off(request):
    """The office's sign-off desk: the 发文字号 sequences of the year and the outgoing papers
    of the round, signed or waiting, a page of each kind (signing all acts on every one)."""
    from kaohe.documents.models import DocumentKind, NumberSequence

    round_ = round_from_request(request)
    year = clock.today().year
    sequences = {s.kind: s for s in NumberSequence.objects.filter(year=year)}
    # One page of each kind of paper, its page named by ?page_<identifier>= (issue 19).
    kinds = selectors.signable(request.user, round_, per_page=PAGE_SIZE, pages={
        key.removeprefix("page_"): value for key, value in request.GET.items()
        if key.startswith("page_")}) if round_ is not None else []
    return render(request, "documents/sign_off.html", {
        "round": round_, "year": year, "kinds": [k for k in kinds if k["page"].paginator.count],
        "sequences": [{"kind": kind, "label": label, "sequence": sequences.get(kind)}
                      for kind, label in DocumentKind.choices],
    })


@capability_required(SIGN_DOCUMENTS)
@require_POST
def sequence_save(request):
    try:
        year = int(request.POST.get("year", ""))
        next_number = int(request.POST.get("next_number", ""))
    except ValueError:
        messages.error(request, _("请填写有效的年份和序号。"))
    else:
        run_service(request, signing.sequence_save, success=_("已保存发文字号设置。"),
                    year=year, kind=request.POST.get("kind", ""),
                    prefix=request.POST.get("prefix", ""), next_number=next_number,
                    actor=request.user)
    return redirect("documents:sign_off")


@capability_required(SIGN_DOCUMENTS)
@require_POST
def sign_all(request, identifier):
    """Every paper of one kind not yet signed (the round's letters), at once."""
    round_ = round_from_request(request)
    exporter = get_exporter(identifier)
    if not exporter.sign_kind or round_ is None:
        raise Http404
    run_service(request, signing.sign_off_all,
                success=lambda count: _("已签发%(count)s份“%(name)s”。") % {
                    "count": count, "name": exporter.name},
                exporter=exporter, round_=round_, actor=request.user,
                signer=request.POST.get("signer", ""), urgency=request.POST.get("urgency", ""))
    return redirect(reverse("documents:sign_off") + f"?year={round_.year}")


@capability_required(SIGN_DOCUMENTS)
@require_POST
def sign(request, identifier, key):
    round_ = round_from_request(request)
    exporter = get_exporter(identifier)
    if not exporter.sign_kind:
        raise Http404
    obj = exporter.get_object(request.user, round_, key)  # 404 outside the user's scope
    run_service(request, signing.sign_off,
                success=lambda signed: _("已签发：%(number)s %(title)s") % {
                    "number": signed.doc_number, "title": signed.title},
                exporter=exporter, obj=obj, actor=request.user,
                signer=request.POST.get("signer", ""), urgency=request.POST.get("urgency", ""))
    url = reverse("documents:sign_off")
    return redirect(url + (f"?year={round_.year}" if round_ is not None else ""))


@capability_required(SIGN_DOCUMENTS)
@require_POST
def withdraw(request, pk):
    """The office withdraws (作废) a signed paper, with its reason."""
    from kaohe.documents.models import SignOff

    paper = get_object_or_404(SignOff.objects.select_related("round"), pk=pk)
    run_service(request, withdrawal.withdraw,
                success=_("已作废：%(number)s %(title)s。该发文字号不再使用，可重新签发。")
                % {"number": paper.doc_number, "title": paper.title},
                sign_off=paper, actor=request.user, reason=request.POST.get("reason", ""))
    return redirect(reverse("documents:sign_off") + f"?year={paper.round.year}")
