"""Sign-off (签发) of outgoing papers and the 份号 of every confidential copy.

Signing off fixes a paper's 成文日期, assigns its 发文字号 from the office's sequence for the
year and kind of paper, and stores the paper itself (OfficialDocument as JSON, with its
SHA-256): every later copy is printed from what was signed, whatever changed in the data
since. Each confidential copy gets its own 份号, recorded with the export that made it.

The header data reach the layout through the document's optional attributes ``doc_number``
(发文字号), ``copy_number`` (份号), ``classification``, ``urgency``, ``signer`` (签发人 of a
上行文) and ``issued_on`` (成文日期).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.documents import officialdoc
from kaohe.documents.models import DocumentCopy, DocumentKind, NumberSequence, SignOff
from kaohe.lib import clock
from kaohe.lib.errors import ServiceError, refuse_longer
from kaohe.rounds.guards import ensure_round_writable

# Attributes of a document that are not dataclass fields but belong to its header.
HEADER_ATTRIBUTES = ("kind", "doc_number", "copy_number", "urgency", "signer")


class SigningError(ServiceError):
    """Signing, numbering or withdrawing a paper was refused (shown as any ServiceError)."""


# The longest 机关代字 (NumberSequence.prefix), 签发人 (SignOff.signer) and 紧急程度 (the
# 版头's urgency): longer ones are refused, never cut.
PREFIX_LIMIT, SIGNER_LIMIT, URGENCY_LIMIT = 30, 50, 10


# The document as data ----------------------------------------------------------------------


def _encode(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **data}
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _decode(value):
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "__bytes__" in value:
        return base64.b64decode(value["__bytes__"])
    if "__datetime__" in value:
        return datetime.fromisoformat(value["__datetime__"])
    if "__date__" in value:
        return date.fromisoformat(value["__date__"])
    if "__type__" in value:
        cls = getattr(officialdoc, value["__type__"])
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: _decode(v) for k, v in value.items() if k in names})
    return {key: _decode(item) for key, item in value.items()}


def document_content(doc: officialdoc.OfficialDocument) -> dict:
    """The paper as JSON data: every field but the maker's mark, and its header."""
    data = _encode(dataclasses.replace(doc, mark=None))
    data["__header__"] = {name: getattr(doc, name, None) for name in HEADER_ATTRIBUTES
                          if name != "copy_number"}
    return data


def content_hash(content: dict) -> str:
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_document(sign_off: SignOff) -> officialdoc.OfficialDocument:
    """The signed paper, as signed: refused if its stored content was altered."""
    if content_hash(sign_off.content) != sign_off.sha256:
        raise SigningError(_("已签发文书“%(title)s”的内容与签发时不一致，拒绝输出。")
                           % {"title": sign_off.title})
    content = dict(sign_off.content)
    header = content.pop("__header__", {})
    doc = _decode(content)
    for name, value in header.items():
        setattr(doc, name, value)
    return doc


def set_header(doc, **values):
    """Put header data on a document (attributes the layout reads when present)."""
    for name, value in values.items():
        setattr(doc, name, value)
    if values.get("doc_number"):
        doc.reference = values["doc_number"]


# Copies ------------------------------------------------------------------------------------


def round_of(obj):
    from kaohe.rounds.models import Round

    return obj if isinstance(obj, Round) else getattr(obj, "round", None)


def signed_for(exporter, obj) -> SignOff | None:
    if not exporter.sign_kind:
        return None
    return SignOff.objects.filter(identifier=exporter.identifier,
                                  object_key=exporter.object_key(obj),
                                  withdrawn_at__isnull=True).first()


def signed_for_all(exporter, keys: list[str]) -> dict[str, SignOff]:
    """The papers of the keys signed off and not withdrawn, by key, in one query."""
    if not exporter.sign_kind:
        return {}
    return {paper.object_key: paper for paper in SignOff.objects.filter(
        identifier=exporter.identifier, object_key__in=keys, withdrawn_at__isnull=True)}


def allocate_copy(*, identifier: str, object_key: str, export_code: str
                  ) -> DocumentCopy | None:
    """The next 份号 of one paper, recorded against the export that makes the copy (None
    for a paper rendered outside an export, e.g. a preview in a test).
    Two exports at once: the unique constraint refuses the second, which takes the next."""
    from kaohe.documents.models import Export

    export = Export.objects.filter(pk=int(export_code.lstrip("K") or 0)).first()
    if export is None:
        return None
    for _attempt in range(20):
        last = (DocumentCopy.objects.filter(identifier=identifier, object_key=object_key)
                .aggregate(n=Max("number"))["n"] or 0)
        try:
            with transaction.atomic():
                return DocumentCopy.objects.create(export=export, identifier=identifier,
                                                   object_key=object_key, number=last + 1)
        except IntegrityError:
            continue
    raise SigningError(_("份号分配失败，请重试。"))


def allocate_copies(*, identifier: str, object_keys: list[str], export_code: str
                    ) -> dict[str, DocumentCopy]:
    """The next 份号 of each of many papers (a bulk export), by key, in a constant number
    of queries; as allocate_copy, an export made at the same time makes the batch retry."""
    from kaohe.documents.models import Export

    export = Export.objects.filter(pk=int(export_code.lstrip("K") or 0)).first()
    if export is None or not object_keys:
        return {}
    for _attempt in range(20):
        last = dict(DocumentCopy.objects.filter(identifier=identifier,
                                                object_key__in=object_keys)
                    .order_by().values("object_key").annotate(n=Max("number"))
                    .values_list("object_key", "n"))
        copies = [DocumentCopy(export=export, identifier=identifier, object_key=key,
                               number=last.get(key, 0) + 1) for key in object_keys]
        try:
            with transaction.atomic():
                DocumentCopy.objects.bulk_create(copies)
        except IntegrityError:
            continue
        return {copy.object_key: copy for copy in copies}
    raise SigningError(_("份号分配失败，请重试。"))


def prepared(exporter, obj, mark, build=None) -> officialdoc.OfficialDocument:
    """The paper to print: the signed one when signed off, otherwise built now; a
    confidential copy (one with a mark) gets its own 份号."""
    sign_off = signed_for(exporter, obj)
    if sign_off is not None:
        doc = load_document(sign_off)
    else:
        doc = build() if build is not None else exporter.build(obj, mark)
        if exporter.sign_kind:
            as_draft(doc, exporter)
    if mark and exporter.confidential:
        copy = allocate_copy(identifier=exporter.identifier,
                             object_key=exporter.object_key(obj), export_code=mark.export_code)
        if copy is not None:
            doc.copy_number = copy.label
    return doc


def prepared_all(exporter, objects, mark, build):
    """(object, paper to print) for each object, as prepared() makes them one by one, in a
    constant number of queries: the sign-offs, the draft prefix and the 份号 read and
    written for all at once. ``build(obj)`` makes the paper of one not signed off."""
    objects = list(objects)
    keys = [exporter.object_key(obj) for obj in objects]
    signed = signed_for_all(exporter, keys)
    copies: dict[str, DocumentCopy] = {}
    if mark and exporter.confidential:
        copies = allocate_copies(identifier=exporter.identifier, object_keys=keys,
                                 export_code=mark.export_code)
    prefix = None
    for obj, key in zip(objects, keys, strict=True):
        if key in signed:
            doc = load_document(signed[key])
        else:
            doc = build(obj)
            if exporter.sign_kind:
                if prefix is None:
                    prefix = draft_prefix(exporter)
                as_draft(doc, exporter, prefix=prefix)
        if key in copies:
            doc.copy_number = copies[key].label
        yield obj, doc


def draft_prefix(exporter) -> str:
    """The 机关代字 of this year's sequence of the exporter's kind ("" when not set)."""
    sequence = NumberSequence.objects.filter(year=clock.today().year,
                                             kind=exporter.sign_kind).first()
    return sequence.prefix if sequence is not None else ""


def as_draft(doc: officialdoc.OfficialDocument, exporter, prefix: str | None = None) -> None:
    """A paper to be signed off, printed before it is (or after it was withdrawn): its 版头
    as it will be, the 发文字号 with the number left blank (国开办函〔2018〕　　号, the
    prefix from this year's sequence when set), 签发人 blank, and 草稿 on every page."""
    year = clock.today().year
    if prefix is None:
        prefix = draft_prefix(exporter)
    set_header(doc, kind=str(exporter.sign_kind), doc_number=f"{prefix}〔{year}〕\u3000\u3000号",
               signer="\u3000" * 3 if exporter.upward else "")
    doc.draft = True


# Sign-off ----------------------------------------------------------------------------------


def sequence_save(*, year: int, kind: str, prefix: str, next_number: int, actor
                  ) -> NumberSequence:
    """The office sets the prefix and next number of a year's sequence for one kind."""
    if kind not in DocumentKind.values:
        raise SigningError(_("文种无效。"))
    prefix = prefix.strip()
    if not prefix or next_number < 1:
        raise SigningError(_("请填写机关代字和不小于1的下一个序号。"))
    refuse_longer(prefix, PREFIX_LIMIT, field=_("机关代字"), error=SigningError)
    with transaction.atomic():
        used = (SignOff.objects.filter(year=year, prefix=prefix).aggregate(n=Max("number"))["n"]
                or 0)
        if next_number <= used:
            raise SigningError(_("%(prefix)s〔%(year)s〕%(used)s号已使用，下一个序号须大于"
                                 "%(used)s。") % {"prefix": prefix, "year": year, "used": used})
        sequence, _created = NumberSequence.objects.update_or_create(
            year=year, kind=kind,
            defaults={"prefix": prefix, "next_number": next_number, "updated_by": actor})
        log_action("document.sequence_saved", actor=actor, target=sequence,
                   data={"year": year, "kind": kind, "prefix": prefix,
                         "next_number": next_number})
    return sequence


def _take_number(year: int, kind: str) -> tuple[str, int]:
    """Lock the year's sequences of the kind's prefix and take the next number."""
    sequence = NumberSequence.objects.select_for_update().filter(year=year, kind=kind).first()
    if sequence is None:
        raise SigningError(_("尚未设置%(year)s年“%(kind)s”的发文字号，请先设置机关代字和序号。")
                           % {"year": year, "kind": DocumentKind(kind).label})
    shared = list(NumberSequence.objects.select_for_update().filter(year=year,
                                                                   prefix=sequence.prefix))
    number = max(s.next_number for s in shared)
    while SignOff.objects.filter(year=year, prefix=sequence.prefix, number=number).exists():
        number += 1
    NumberSequence.objects.filter(pk__in=[s.pk for s in shared]).update(next_number=number + 1)
    return sequence.prefix, number


def doc_number_text(prefix: str, year: int, number: int) -> str:
    """GB/T 9704 7.2.4: 国开办函〔2018〕12号 (hexagonal brackets, no leading zeros)."""
    return f"{prefix}〔{year}〕{number}号"


def _refuse_long_header(signer: str, urgency: str) -> None:
    refuse_longer(signer.strip(), SIGNER_LIMIT, field=_("签发人"), error=SigningError)
    refuse_longer(urgency.strip(), URGENCY_LIMIT, field=_("紧急程度"), error=SigningError)


def sign_off(*, exporter, obj, actor, signer: str = "", urgency: str = "") -> SignOff:
    """The office signs off one paper: 成文日期 today, the next 发文字号, content fixed."""
    from kaohe.accounts.capabilities import SIGN_DOCUMENTS, has_capability

    if not has_capability(actor, SIGN_DOCUMENTS) or not exporter.sign_kind:
        raise SigningError(_("无权签发该文书。"))
    round_ = round_of(obj)
    ensure_round_writable(round_, error=SigningError)
    signer = signer.strip()
    if exporter.upward and not signer:
        raise SigningError(_("上行文须填写签发人。"))
    _refuse_long_header(signer, urgency)
    key = exporter.object_key(obj)
    try:
        with transaction.atomic():
            if SignOff.objects.filter(identifier=exporter.identifier, object_key=key,
                                      withdrawn_at__isnull=True).exists():
                raise SigningError(_("该文书已签发。"))
            issued_on = clock.today()
            prefix, number = _take_number(issued_on.year, exporter.sign_kind)
            doc_number = doc_number_text(prefix, issued_on.year, number)
            doc = exporter.build(obj, None)
            doc.issued_on = issued_on
            if doc.printed_on is not None:
                doc.printed_on = issued_on
            # kind: the 文种 whose 版头 the layout draws (GB/T 9704 7.2).
            set_header(doc, kind=str(exporter.sign_kind), doc_number=doc_number,
                       urgency=urgency.strip(), signer=signer if exporter.upward else "")
            content = document_content(doc)
            signed = SignOff.objects.create(
                round=round_, identifier=exporter.identifier, object_key=key,
                title=f"{exporter.name}（{exporter.describe(obj)}）"[:300],
                kind=exporter.sign_kind, year=issued_on.year, prefix=prefix, number=number,
                doc_number=doc_number, issued_on=issued_on, signer=doc.signer or "",
                content=content, sha256=content_hash(content), signed_by=actor)
            log_action("document.signed_off", actor=actor, target=signed,
                       data={"document": exporter.identifier, "object": key,
                             "doc_number": doc_number, "issued_on": issued_on.isoformat(),
                             "sha256": signed.sha256})
    except IntegrityError:
        raise SigningError(_("发文字号或文书已被同时签发，请刷新后重试。")) from None
    return signed


def sign_off_all(*, exporter, round_, actor, signer: str = "", urgency: str = "") -> int:
    """Sign off every paper of one kind the office has not signed yet (all the letters of a
    round), one after the other in the order offered: consecutive 发文字号."""
    from kaohe.accounts.capabilities import SIGN_DOCUMENTS, has_capability

    if not has_capability(actor, SIGN_DOCUMENTS) or not exporter.sign_kind:
        raise SigningError(_("无权签发该文书。"))
    ensure_round_writable(round_, error=SigningError)
    _refuse_long_header(signer, urgency)
    done = set(SignOff.objects.filter(identifier=exporter.identifier, withdrawn_at__isnull=True)
               .values_list("object_key", flat=True))
    count = 0
    for obj in exporter.objects_for(actor, round_):
        if exporter.object_key(obj) not in done:
            sign_off(exporter=exporter, obj=obj, actor=actor, signer=signer, urgency=urgency)
            count += 1
    return count
