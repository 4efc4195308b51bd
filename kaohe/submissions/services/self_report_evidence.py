"""Evidence on a self-report: attach one of the unit's uploaded files to an indicator (and
its evidence requirement and county), add a link as evidence in the same act, detach. Each
step checks that the report is still editable and bumps its revision like a save.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.accounts.models import User
from kaohe.audit.services import log_action
from kaohe.directory.models import County
from kaohe.evidence.models import Evidence
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.models import EvidenceRequirement, Indicator
from kaohe.submissions.models import EvidenceAttachment, SelfReport
from kaohe.submissions.services.attachments import remove_attachment
from kaohe.submissions.services.errors import SubmissionError
from kaohe.submissions.services.self_report import check_self_report_editable
from kaohe.submissions.services.slots import Slot, self_report_slots


@transaction.atomic
def self_report_attach(*, report: SelfReport, actor: User, indicator: Indicator,
                       requirement: EvidenceRequirement | None, county: County | None,
                       evidence: Evidence) -> EvidenceAttachment:
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = SelfReport.objects.select_for_update().get(pk=report.pk)
    check_self_report_editable(report, revision=None)
    if evidence.unit_id != report.unit_id:
        raise SubmissionError(_("只能附上本单位上传的材料。"))
    if indicator.round_id != report.round_id:
        raise SubmissionError(_("指标不属于本年度考核。"))
    if requirement is not None and requirement.indicator_id != indicator.pk:
        raise SubmissionError(_("证明材料类别与指标不符。"))
    if county is not None and not report.unit.pairings.filter(round=report.round,
                                                              county=county).exists():
        raise SubmissionError(_("该县不是本单位的定点扶贫县。"))
    slot = Slot(indicator, county)
    if slot.key not in {s.key for s in self_report_slots(report)}:
        raise SubmissionError(_("本报告没有这一指标（或该县不适用此指标）。"))
    attachment, _created = EvidenceAttachment.objects.get_or_create(
        report=report, indicator=indicator, requirement=requirement, county=county,
        evidence=evidence,
    )
    report.revision += 1
    report.save(update_fields=["revision", "updated_at"])
    log_action("self_report.evidence_attached", actor=actor, target=report,
               data={"indicator": indicator.number, "evidence": str(evidence.pk),
                     "requirement": requirement.name if requirement else None})
    return attachment


@transaction.atomic
def self_report_add_link(*, report: SelfReport, actor: User, indicator: Indicator,
                         requirement: EvidenceRequirement | None, county: County | None,
                         url: str, title: str) -> EvidenceAttachment:
    """Add a link (a news report, another page) as the unit's evidence and attach it, in
    one act: a refused attach leaves no link behind. A bad link raises the evidence
    service's ValidationError, a refused attach a SubmissionError."""
    from kaohe.evidence.services import evidence_add_link

    evidence = evidence_add_link(round=report.round, owner=report.unit, url=url, title=title,
                                 actor=actor)
    return self_report_attach(report=report, actor=actor, indicator=indicator,
                              requirement=requirement, county=county, evidence=evidence)


@transaction.atomic
def self_report_detach(*, report: SelfReport, actor: User,
                       attachment: EvidenceAttachment) -> None:
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = SelfReport.objects.select_for_update().get(pk=report.pk)
    check_self_report_editable(report, revision=None)
    remove_attachment(report=report, attachment=attachment)
    log_action("self_report.evidence_detached", actor=actor, target=report,
               data={"evidence": str(attachment.evidence_id)})
