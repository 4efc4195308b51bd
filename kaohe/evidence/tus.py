"""A tus 1.0.0 server: the core protocol with the creation and termination extensions.

https://tus.io/protocols/resumable-upload. The views parse headers and map the services'
refusals to status codes; the files and the rows are the services' business.

Refusals carry a Chinese message in the body and, percent-encoded UTF-8, in the
Kaohe-Error header (tus-js-client hands the page the response, and a HEAD has no body).
A finished upload's evidence id is in the Kaohe-Evidence header. CSRF protection stays on:
the page sends the token in X-CSRFToken, as for any other unsafe request.
"""

import base64
import binascii
import re
from urllib.parse import quote

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kaohe.evidence import services
from kaohe.evidence.models import Upload
from kaohe.evidence.selectors import get_upload_for_user

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination"
OFFSET_STREAM = "application/offset+octet-stream"
_METADATA_MAX = 8 * 1024
_INTEGER = re.compile(r"\d{1,19}")


def _response(status: int = 204, *, message: str = "", headers: dict | None = None):
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    if message:
        response["Kaohe-Error"] = quote(message, safe="")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _options():
    return _response(204, headers={
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": TUS_EXTENSIONS,
        "Tus-Max-Size": str(services.max_file_bytes()),
    })


def _version_refused(request):
    """Every request but OPTIONS names the protocol version (tus: 412 otherwise)."""
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        return _response(412, message=_("不支持的上传协议版本。"),
                         headers={"Tus-Version": TUS_VERSION})
    return None


def _integer_header(request, name: str) -> int | None:
    value = request.headers.get(name, "")
    return int(value) if _INTEGER.fullmatch(value) else None


def parse_metadata(header: str) -> dict[str, str]:
    """Upload-Metadata: comma-separated "key base64(value)" pairs; keys unique, values UTF-8."""
    if len(header) > _METADATA_MAX:
        raise ValueError("metadata too long")
    metadata = {}
    for pair in header.split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _sep, value = pair.partition(" ")
        if not key or " " in value.strip() or key in metadata:
            raise ValueError("malformed metadata pair")
        metadata[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    return metadata


@require_http_methods(["OPTIONS", "POST"])
def uploads(request):
    """The creation endpoint: POST with Upload-Length and Upload-Metadata (filename)."""
    if services.upload_owner(request.user) is None:
        raise Http404
    if request.method == "OPTIONS":
        return _options()
    if refused := _version_refused(request):
        return refused
    length = _integer_header(request, "Upload-Length")
    if length is None:
        return _response(400, message=_("缺少文件大小（Upload-Length）。"))
    try:
        metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return _response(400, message=_("上传元数据格式不正确。"))
    if not metadata.get("filename"):
        return _response(400, message=_("缺少文件名。"))
    # filetype is what the browser guesses from the name: kept for the record, never trusted.
    # step: which step's evidence this is (its deadline applies), e.g. "rectification".
    kept = {key: metadata[key][:255] for key in ("filename", "filetype", "step")
            if key in metadata}
    try:
        upload = services.upload_create(user=request.user, length=length,
                                        filename=metadata["filename"], metadata=kept)
    except services.UploadTooLarge as refusal:
        return _response(413, message=str(refusal))
    except services.UploadTypeRefused as refusal:
        return _response(415, message=str(refusal))
    except services.UploadNoSpace as refusal:
        return _response(507, message=str(refusal))
    except services.UploadRefused as refusal:
        return _response(400, message=str(refusal))
    location = reverse("evidence:upload", kwargs={"pk": upload.pk})
    return _response(201, headers={"Location": location})


@require_http_methods(["OPTIONS", "HEAD", "PATCH", "DELETE"])
def upload(request, pk):
    """One upload: HEAD for its offset, PATCH to append, DELETE to terminate."""
    upload = get_upload_for_user(request.user, pk)
    if request.method == "OPTIONS":
        return _options()
    if refused := _version_refused(request):
        return refused
    try:
        if request.method == "HEAD":
            return _head(upload)
        if request.method == "PATCH":
            return _patch(request, upload)
        services.upload_terminate(upload=upload)
        return _response(204)
    except Upload.DoesNotExist:
        raise Http404 from None  # terminated by a concurrent request
    except services.UploadBusy as refusal:
        return _response(423, message=str(refusal))


def _head(upload):
    try:
        upload = services.upload_status(upload=upload)
    except (services.UploadGone, services.UploadRefused) as refusal:
        return _response(410, message=str(refusal))
    return _response(200, headers=_progress_headers(upload))


def _patch(request, upload):
    if request.content_type != OFFSET_STREAM:
        return _response(415, message=_("上传数据的类型不正确。"))
    offset = _integer_header(request, "Upload-Offset")
    if offset is None:
        return _response(400, message=_("缺少上传进度（Upload-Offset）。"))
    body_length = request.META.get("CONTENT_LENGTH", "")
    if not _INTEGER.fullmatch(body_length):
        return _response(411, message=_("缺少数据长度（Content-Length）。"))
    body_length = int(body_length)
    if body_length > services.max_request_bytes():
        return _response(413, message=_("单次发送的数据过多。"))
    try:
        upload = services.upload_append(upload=upload, offset=offset, body=request,
                                        body_length=body_length)
    except services.OffsetMismatch as mismatch:
        return _response(409, message=str(mismatch),
                         headers={"Upload-Offset": str(mismatch.offset)})
    except services.UploadTooLarge as refusal:
        return _response(413, message=str(refusal))
    except services.UploadGone as refusal:
        return _response(410, message=str(refusal))
    except services.UploadRefused as refusal:
        # The last byte arrived and the file was refused: say why, do not let the client retry.
        return _response(422, message=str(refusal),
                         headers={"Upload-Offset": str(upload.length)})
    return _response(204, headers=_progress_headers(upload))


def _progress_headers(upload) -> dict:
    headers = {"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length)}
    if upload.completed_at:
        headers["Kaohe-Evidence"] = str(upload.pk)
    return headers
