"""Reads for the documents pages and `kaohe export`: which documents, and which objects of
each, a user may make in a round. Each exporter scopes itself (kaohe.documents.base)."""

from __future__ import annotations

from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast

from kaohe.documents.base import get_exporter
from kaohe.documents.models import SignOff
from kaohe.lib import paging


def documents_offered(user, round_) -> list[tuple]:
    """(exporter, objects) for every exporter that offers the user something in the round:
    each exporter scopes itself. The documents page and `kaohe export --list` show these."""
    from kaohe.accounts.capabilities import EXPORT_DOCUMENTS, has_capability
    from kaohe.documents.base import REGISTRY

    if not has_capability(user, EXPORT_DOCUMENTS):
        return []
    offered = []
    for cls in REGISTRY.values():
        exporter = cls()
        objects = list(exporter.objects_for(user, round_))
        if objects:
            offered.append((exporter, objects))
    return offered


# The most objects of one document the documents page names in a list; more are chosen on a
# page of their own, searched and paginated (issue 19: the page grew with the units). A
# page's worth, as every list shows: the page reads no more rows than it could list.
OFFER_LIMIT = paging.ROWS


def documents_offered_briefly(user, round_, *, limit: int = OFFER_LIMIT) -> list[dict]:
    """For the documents page: per exporter that offers the user something, {"exporter",
    "objects", "many"}; "many" (and no objects) when there are more than ``limit``: they
    are chosen on the choose page, so that the page reads a bounded number of rows in the
    same number of queries at any scale."""
    from kaohe.accounts.capabilities import EXPORT_DOCUMENTS, has_capability
    from kaohe.documents.base import REGISTRY

    if not has_capability(user, EXPORT_DOCUMENTS):
        return []
    offered = []
    for cls in REGISTRY.values():
        exporter = cls()
        objects = _as_listed(exporter.objects_for(user, round_))
        first = list(objects[:limit + 1])
        if not first:
            continue
        if len(first) <= limit:
            offered.append({"exporter": exporter, "objects": first, "many": False})
        elif exporter.bulk:  # a few versions or rounds, each made in the background
            offered.append({"exporter": exporter, "objects": list(objects), "many": False})
        else:  # not counted either: the choose page does
            offered.append({"exporter": exporter, "objects": [], "many": True})
    return offered


def _unit_fields(model) -> list[str]:
    """The fields a search by unit (or province) name or code looks in, where the model has
    them."""
    names = {field.name for field in model._meta.get_fields()}
    fields = []
    if "unit" in names:
        fields += ["unit__name", "unit__code"]
    if "province" in names:
        fields += ["province__name"]
    return fields


def _as_listed(objects):
    """A scoped queryset of objects about units read as the documents pages list them: by
    their unit's (and province's) name only, without the related rows a document is made
    from (issue 19: a letter's version, sorted with every letter, costs 10 ms at 3,100
    units). An exporter's ``describe`` of such objects names the unit or the province."""
    from django.db.models import QuerySet

    if not isinstance(objects, QuerySet):
        return objects
    fields = _unit_fields(objects.model)
    if not fields:
        return objects
    related = sorted({field.split("__")[0] for field in fields})
    return objects.select_related(None).select_related(*related).only("pk", *related, *fields)


def document_objects(user, round_, identifier: str, query: str = ""):
    """(exporter, objects) of one document the user may make, one object at a time, for
    the page that chooses among many: those whose unit (or province) name or code contains
    ``query``, in a stable order. Http404 for a bulk document and when the user may make
    none (the same answer as for a document outside the user's scope)."""
    from django.db.models import Q, QuerySet
    from django.http import Http404

    from kaohe.accounts.capabilities import EXPORT_DOCUMENTS, has_capability

    exporter = get_exporter(identifier)
    if not has_capability(user, EXPORT_DOCUMENTS) or exporter.bulk:
        raise Http404
    objects = _as_listed(exporter.objects_for(user, round_))
    if not (objects.exists() if isinstance(objects, QuerySet) else objects):
        raise Http404
    query = query.strip()
    if isinstance(objects, QuerySet):
        if not objects.ordered:
            objects = objects.order_by("pk")
        fields = _unit_fields(objects.model)
        if query and fields:
            match = Q()
            for field in fields:
                match |= Q(**{f"{field}__icontains": query})
            return exporter, objects.filter(match)
    if query:
        objects = [obj for obj in objects if query.lower() in exporter.describe(obj).lower()]
    return exporter, objects


def document_for(user, round_, identifier: str, key: str, fmt: str):
    """(exporter, object) of one document the user may make in that format; Http404 for an
    unknown document or format and for an object outside the user's scope (the web
    download and `kaohe export` ask the same question)."""
    from django.http import Http404

    from kaohe.accounts.capabilities import EXPORT_DOCUMENTS, has_capability

    if not has_capability(user, EXPORT_DOCUMENTS):
        raise Http404
    exporter = get_exporter(identifier)
    if fmt not in exporter.formats:
        raise Http404
    return exporter, exporter.get_object(user, round_, key)


# What the sign-off desk shows of a paper and of the accounts that signed or withdrew it.
_DESK_FIELDS = ("object_key", "doc_number", "issued_on", "signer", "signed_at", "withdrawn_at",
                "withdraw_reason", "signed_by__username", "signed_by__full_name",
                "withdrawn_by__username", "withdrawn_by__full_name")


def signable(user, round_, *, pages: dict[str, str | None] | None = None,
             per_page: int = 50) -> list[dict]:
    """Each kind of paper the office may sign off in the round: one page of its papers, each
    with its sign-off if any and the papers withdrawn before it, and how many of the kind
    wait to be signed (issue 19: the queries and the rows do not grow with the units).
    ``pages`` names the page of each kind by its identifier (the first when absent)."""
    from django.core.paginator import Paginator

    from kaohe.documents.base import REGISTRY

    kinds = []
    for cls in REGISTRY.values():
        exporter = cls()
        if not exporter.sign_kind:
            continue
        objects = exporter.objects_for(user, round_)
        if isinstance(objects, QuerySet):
            order = objects.query.order_by or objects.model._meta.ordering
            objects = objects.order_by(*order, "pk")
        # The page's rows read as the documents pages list them: the unit's name, not the
        # letter's texts and version (issue 19).
        page = Paginator(_as_listed(objects), per_page).get_page(
            (pages or {}).get(exporter.identifier))
        shown = list(page.object_list)
        keys = [exporter.object_key(o) for o in shown]
        signed: dict[str, SignOff] = {}
        withdrawn: dict[str, list[SignOff]] = {}
        papers = SignOff.objects.filter(identifier=exporter.identifier, object_key__in=keys
                                        ).select_related("signed_by", "withdrawn_by").only(
            *_DESK_FIELDS).order_by("pk")
        for paper in papers if keys else []:
            if paper.withdrawn:
                withdrawn.setdefault(paper.object_key, []).append(paper)
            else:
                signed[paper.object_key] = paper
        kinds.append({
            "exporter": exporter, "page": page, "waiting": _waiting(exporter, objects),
            "rows": [{"exporter": exporter, "key": key, "describe": exporter.describe(obj),
                      "sign_off": signed.get(key), "withdrawn": withdrawn.get(key, [])}
                     for obj, key in zip(shown, keys, strict=True)],
        })
    return kinds


def _waiting(exporter, objects) -> int:
    """How many of the objects have no paper signed off (and not withdrawn): one count in
    the database for a queryset keyed by its primary key, else counted here (a round's
    one paper)."""
    from kaohe.documents.base import Exporter

    active = SignOff.objects.filter(identifier=exporter.identifier, withdrawn_at__isnull=True)
    if isinstance(objects, QuerySet) and type(exporter).object_key is Exporter.object_key:
        return objects.exclude(Exists(active.filter(
            object_key=Cast(OuterRef("pk"), output_field=CharField())))).count()
    keys = [exporter.object_key(o) for o in objects]
    done = set(active.filter(object_key__in=keys).values_list("object_key", flat=True))
    return sum(1 for key in keys if key not in done)
