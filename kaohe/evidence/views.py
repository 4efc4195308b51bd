"""Downloading and previewing evidence files, within the reader's scope."""

import io
import logging
from urllib.parse import quote

from django.http import FileResponse, Http404
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from kaohe.audit.services import log_action
from kaohe.evidence.models import EvidenceKind
from kaohe.evidence.selectors import get_evidence_for_user
from kaohe.evidence.services import evidence_file_open

logger = logging.getLogger(__name__)


class _OpenOnRead:
    """A stored file that is opened when its bytes are first wanted.

    A response that is built but never sent (Django's test client does not close a
    streaming response nobody reads) then holds no open file or connection. FileResponse
    reads it in chunks; a local file's fileno() lets a WSGI server such as gunicorn send it
    with sendfile (an object in S3 has none, and is streamed).
    """

    def __init__(self, evidence):
        self.evidence = evidence
        self._file = None

    def _open(self):
        if self._file is None:
            self._file = evidence_file_open(self.evidence)
        return self._file

    def read(self, size=-1):
        return self._open().read(size)

    def fileno(self):
        handle = self._open()
        if not hasattr(handle, "fileno"):
            raise io.UnsupportedOperation("fileno")
        return handle.fileno()

    def close(self):
        if self._file is not None:
            self._file.close()


def _file_response(request, pk, *, disposition: str, action: str):
    evidence = get_evidence_for_user(request.user, pk)
    if evidence.kind != EvidenceKind.FILE:
        raise Http404
    if disposition == "inline" and not evidence.previewable:
        raise Http404
    try:
        with evidence_file_open(evidence) as stored:
            size = stored.size
    except (FileNotFoundError, ValueError):
        # `kaohe verify` reports it too; the reader just cannot have it.
        logger.error("evidence %s has no file", evidence.pk)
        raise Http404 from None
    log_action(action, actor=request.user, target=evidence)
    # The type was detected from the content at upload, never taken from the client.
    response = FileResponse(_OpenOnRead(evidence),
                            content_type=evidence.content_type or "application/octet-stream")
    # Chunks of 512 KiB, not FileResponse's 4 KiB: an object in S3 is streamed through here.
    response.block_size = 512 * 1024
    response["Content-Length"] = str(size)
    response["Content-Disposition"] = (
        f"{disposition}; filename*=UTF-8''{quote(evidence.original_name, safe='')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def download(request, pk):
    return _file_response(request, pk, disposition="attachment", action="evidence.downloaded")


@require_GET
@xframe_options_sameorigin  # previews open in a frame of Kaohe's own pages
def preview(request, pk):
    response = _file_response(request, pk, disposition="inline", action="evidence.previewed")
    # A sandboxed document runs no script and has an opaque origin, even if a PDF tries.
    response["Content-Security-Policy"] = "sandbox"
    return response
