"""The workflow's acts that tell someone: a report returned for revision, results released
(each unit its own, never its grade), a rectification item accepted or sent back. Called by
the acting service inside its transaction; the e-mails follow its commit."""

from django.urls import reverse
from django.utils.translation import gettext as _

from kaohe.notifications.models import Kind
from kaohe.notifications.services import in_site_language, notify


@in_site_language
def self_report_returned(*, report) -> int:
    # The reason stays on the page: it may quote grades, which never go by e-mail.
    return notify(
        round_=report.round, kind=Kind.RETURNED, unit=report.unit,
        text=_("%(unit)s：%(year)s年度本单位自评报告已被退回修改，请登录查看退回原因，修改后"
               "重新提交。") % {"unit": report.unit, "year": report.round.year},
        link=reverse("submissions:self_report", kwargs={"pk": report.pk}),
        key=f"returned:self_report:{report.pk}:{report.revision}")


@in_site_language
def category_returned(*, submission, occasion: int) -> int:
    lead = submission.lead_department
    return notify(
        round_=submission.round, kind=Kind.RETURNED, lead_department=lead,
        text=_("%(lead)s：%(year)s年度本类别分类考核初步结果已被考核工作组退回修改，请登录查看"
               "退回原因，修改后重新报送。") % {"lead": lead, "year": submission.round.year},
        link=reverse("reviews:category", kwargs={"lead_pk": lead.pk}),
        key=f"returned:category:{submission.pk}:{occasion}")


@in_site_language
def results_released(*, result_set) -> int:
    """Each unit of the released version is told that its result is out, and nothing more."""
    from kaohe.directory.models import Unit

    round_ = result_set.round
    sent = 0
    for unit in Unit.objects.filter(code__in=list(result_set.final_grades())):
        sent += notify(
            round_=round_, kind=Kind.RELEASED, unit=unit,
            text=_("%(unit)s：%(round)s结果已发布，请登录查看。")
            % {"unit": unit, "round": round_.name},
            link=reverse("outcomes:my_result"),
            key=f"released:{result_set.pk}:{unit.pk}")
    return sent


@in_site_language
def rectification_item_reviewed(*, report, item, accepted: bool, occasion: int) -> int:
    values = {"unit": report.unit, "year": report.round.year, "order": item.order}
    if accepted:
        text = _("%(unit)s：%(year)s年度整改报告第%(order)s项已认定整改到位。") % values
    else:
        text = _("%(unit)s：%(year)s年度整改报告第%(order)s项被认定整改不到位，已退回，请登录"
                 "查看理由，修改后重新报送。") % values
    return notify(
        round_=report.round, unit=report.unit, text=text,
        kind=Kind.RECTIFICATION_ACCEPTED if accepted else Kind.RECTIFICATION_REJECTED,
        link=reverse("outcomes:my_result"), key=f"rectification:{item.pk}:{occasion}")
