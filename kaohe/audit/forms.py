"""The auditor's search over the log: who, what, when, on which object, and the outcome."""

import datetime
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kaohe.audit.models import AuditEntry
from kaohe.audit.redaction import REDACTED_TARGET_TYPES, RESULT_DOCUMENTS
from kaohe.lib.forms import StyledFormMixin


class AuditSearchForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label=_("关键词"), required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search",
                                                      "placeholder": _("操作、操作人或对象")}))
    user = forms.CharField(label=_("操作人"), required=False, max_length=150)
    action = forms.CharField(label=_("操作"), required=False, max_length=100,
                             help_text=_("可填写前缀，如 account. 或 evidence."))
    target = forms.CharField(label=_("对象"), required=False, max_length=300)
    since = forms.DateField(label=_("起始日期"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    until = forms.DateField(label=_("截止日期"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    failed = forms.BooleanField(label=_("仅失败操作"), required=False)

    FILTERS = ("q", "user", "action", "target", "since", "until", "failed")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("截止日期不能早于起始日期。"))
        return data

    def used_filters(self) -> dict[str, Any]:
        """The filters given, as JSON-safe values (for the audit entry of the search)."""
        used: dict[str, Any] = {}
        for name in self.FILTERS:
            value = self.cleaned_data.get(name)
            if value in (None, "", False):
                continue
            used[name] = value.isoformat() if hasattr(value, "isoformat") else value
        return used

    def filter(self, entries: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        data = self.cleaned_data
        if data.get("q"):
            q = data["q"].strip()
            entries = entries.filter(Q(action__icontains=q) | Q(actor_repr__icontains=q)
                                     | _shown_target_contains(q))
        if data.get("user"):
            entries = entries.filter(actor_repr__icontains=data["user"].strip())
        if data.get("action"):
            entries = entries.filter(action__istartswith=data["action"].strip())
        if data.get("target"):
            target = data["target"].strip()
            entries = entries.filter(_shown_target_contains(target) | Q(target_id=target)
                                     | Q(target_type__iexact=target))
        # Whole days in Kaohe's time zone (Asia/Shanghai), the until day included.
        if data.get("since"):
            entries = entries.filter(created_at__gte=_start_of(data["since"]))
        if data.get("until"):
            entries = entries.filter(
                created_at__lt=_start_of(data["until"] + datetime.timedelta(days=1)))
        if data.get("failed"):
            entries = entries.filter(success=False)
        return entries


def _shown_target_contains(text: str) -> Q:
    """Match the object's name only where the auditor may see it: searching a hidden name
    (kaohe.audit.redaction) must not tell whether it contains the text. The entries' data
    is not searched at all, for the same reason."""
    from kaohe.audit.models import AuditEntry

    about_results = AuditEntry.objects.filter(action__startswith="document.",
                                              data__document__in=RESULT_DOCUMENTS)
    return (Q(target_repr__icontains=text) & ~Q(target_type__in=REDACTED_TARGET_TYPES)
            & ~Q(pk__in=about_results.values("pk")))


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
