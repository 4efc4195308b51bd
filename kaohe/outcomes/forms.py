"""Input of the outcomes pages (steps 6 and 7). Text over its limit is refused with a
message naming the field and nothing is saved (kaohe.lib.forms.NamedLimitsMixin); the
rules about the values themselves stay in kaohe.outcomes.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kaohe.lib.forms import NamedLimitsMixin
from kaohe.outcomes.models import DispatchKind, Summoned, Summoner

LONG_TEXT = 20000  # a letter's part, a report's summary, minutes
MEASURES = 10000  # one rectification item's measures
NOTE = 2000  # a reviewer's note on one item


def _text(label, max_length: int) -> forms.CharField:
    """Optional free text kept as typed (a cleared field clears the text)."""
    return forms.CharField(label=label, max_length=max_length, required=False, strip=False)


class FeedbackForm(NamedLimitsMixin, forms.Form):
    problems = _text(_("突出问题与不足"), LONG_TEXT)
    suggestions = _text(_("改进工作的意见建议"), LONG_TEXT)


class RectificationForm(NamedLimitsMixin, forms.Form):
    """The unit's summary, and measures and status of each item it may change now.

    A field the request does not carry keeps the stored value (the upload posts the texts
    typed so far, not necessarily all of them). The service checks the status."""

    summary = _text(_("整改情况总体说明"), LONG_TEXT)

    def __init__(self, data, *, report, items):
        super().__init__(data)
        self.report, self.items = report, list(items)
        for item in self.items:
            self.fields[f"measures-{item.pk}"] = _text(
                _("第%(n)s项整改措施") % {"n": item.order}, MEASURES)
            self.fields[f"status-{item.pk}"] = forms.CharField(
                label=_("第%(n)s项状态") % {"n": item.order}, required=False)

    def _posted(self, name: str, stored: str) -> str:
        return self.cleaned_data[name] if name in self.data else stored

    def changes(self) -> dict:
        """The arguments of services.rectification_save: summary and items."""
        return {
            "summary": self._posted("summary", self.report.summary),
            "items": {item.pk: {"measures": self._posted(f"measures-{item.pk}", item.measures),
                                "status": self._posted(f"status-{item.pk}", item.status)}
                      for item in self.items},
        }


class ItemReviewForm(NamedLimitsMixin, forms.Form):
    accepted = forms.ChoiceField(label=_("审核结论"), choices=[("1", "1"), ("0", "0")],
                                 required=False)
    note = _text(_("审核意见"), NOTE)

    def clean_accepted(self) -> bool:
        return self.cleaned_data["accepted"] == "1"  # anything but "1" is not accepted


class SummonsForm(NamedLimitsMixin, forms.Form):
    summoner = forms.ChoiceField(label=_("约谈方"), choices=Summoner.choices, required=False)
    summoned = forms.ChoiceField(label=_("约谈对象"), choices=Summoned.choices,
                                 required=False)
    held_on = forms.DateField(label=_("约谈时间"), required=False,
                              error_messages={"invalid": _("约谈时间格式不正确。")})
    minutes = _text(_("约谈纪要"), LONG_TEXT)
    follow_up = _text(_("后续跟踪"), LONG_TEXT)
    closed = forms.BooleanField(label=_("跟踪事项已办结"), required=False)

    def changes(self, summons) -> dict:
        """The arguments of services.summons_update: a choice left empty keeps its value."""
        data = dict(self.cleaned_data)
        for name in ("summoner", "summoned"):
            data[name] = data[name] or getattr(summons, name)
        return data


class DispatchForm(NamedLimitsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("类别"), choices=DispatchKind.choices,
                             error_messages={"required": _("请选择类别。")})
    recipients = forms.CharField(label=_("报送对象"), max_length=300,
                                 error_messages={"required": _("请填写报送对象。")})
    sent_on = forms.DateField(label=_("报送日期"),
                              error_messages={"required": _("请填写报送日期。"),
                                              "invalid": _("请填写报送日期。")})
    reference = forms.CharField(label=_("文号"), max_length=100, required=False)
    note = _text(_("备注"), 5000)
