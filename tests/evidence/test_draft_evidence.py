"""A unit's evidence reaches a reviewer with its self-report, not before.

Reviewers (a lead department's team, the military inspector) read a self-report only while
it stands submitted (kaohe.accounts.scope.SELF_REPORTS); its evidence follows it, whatever
the path to the file (download or preview by the evidence's id). The office, the working
group and the leading group read every self-report, drafts included, and so their evidence.
"""

import pytest
from django.urls import reverse

from kaohe.evidence.selectors import evidence_visible_to
from kaohe.submissions import services
from kaohe.submissions.models import ReportStatus
from tests.evidence.factories import evidence_of, submitted_evidence_of

# persona -> (status on unit_a's draft's evidence, status once the report is submitted)
UNIT_A = {
    "office": (200, 200), "working_group": (200, 200), "leading_group": (200, 200),
    "lead_reviewer": (404, 200), "lead_reviewer_b": (404, 404),
    "military_inspector": (404, 404), "org_department": (404, 404),
    "province": (404, 404), "province_b": (404, 404),
    "unit": (200, 200), "unit_b": (404, 404),
    "system_admin": (404, 404), "auditor": (404, 404),
}
# The army's units are the military inspector's.
ARMY = {"military_inspector": (404, 200), "lead_reviewer": (404, 404),
        "lead_reviewer_b": (404, 404), "office": (200, 200)}


def _draft_with_file(world, personas, unit_key):
    """The unit's draft self-report with one of its files attached to indicator 4."""
    evidence = evidence_of(world, unit_key)
    report = services.self_report_for(round=world["round"], unit=world[unit_key])
    services.self_report_attach(report=report, actor=evidence.uploaded_by,
                                indicator=world["round"].indicators.get(number=4),
                                requirement=None, county=None, evidence=evidence)
    report.refresh_from_db()
    return report, evidence


def _submit(report, actor):
    report.refresh_from_db()
    return services.self_report_submit(report=report, actor=actor, revision=report.revision,
                                       confirm_gaps=True)


def _status(client, user, evidence, view="download"):
    client.force_login(user)
    return client.get(reverse(f"evidence:{view}", kwargs={"pk": evidence.pk})).status_code


@pytest.mark.parametrize("view", ["download", "preview"])
@pytest.mark.parametrize("persona", sorted(UNIT_A))
def test_a_drafts_evidence_reaches_a_reviewer_only_once_submitted(client, world, personas,
                                                                   persona, view):
    report, evidence = _draft_with_file(world, personas, "unit_a")
    draft, submitted = UNIT_A[persona]
    assert report.status == ReportStatus.DRAFT
    assert _status(client, personas[persona], evidence, view) == draft
    _submit(report, evidence.uploaded_by)
    assert _status(client, personas[persona], evidence, view) == submitted


@pytest.mark.parametrize("persona", sorted(ARMY))
def test_the_military_inspector_reads_an_army_units_evidence_once_submitted(
        client, world, personas, persona):
    report, evidence = _draft_with_file(world, personas, "army")
    draft, submitted = ARMY[persona]
    assert _status(client, personas[persona], evidence) == draft
    _submit(report, evidence.uploaded_by)
    assert _status(client, personas[persona], evidence) == submitted


def test_a_returned_report_takes_its_evidence_back_to_the_unit(client, world, personas):
    """As the report itself (404 to the lead department while returned), until submitted
    again."""
    report, evidence = _draft_with_file(world, personas, "unit_a")
    _submit(report, personas["unit"])
    services.self_report_return(report=report, actor=personas["lead_reviewer"],
                                reason="请补充材料")
    assert _status(client, personas["lead_reviewer"], evidence) == 404
    assert _status(client, personas["unit"], evidence) == 200
    _submit(report, personas["unit"])
    assert _status(client, personas["lead_reviewer"], evidence) == 200


def test_a_file_attached_to_nothing_stays_the_units_own(client, world, personas):
    """Uploaded but never attached, or attached to a draft and detached again: nobody but
    its unit reads it, even once the report is submitted."""
    loose = evidence_of(world, "unit_a")
    report, evidence = _draft_with_file(world, personas, "unit_a")
    services.self_report_detach(report=report, actor=personas["unit"],
                                attachment=report.attachments.get(evidence=evidence))
    kept = evidence_of(world, "unit_a")
    services.self_report_attach(report=report, actor=personas["unit"],
                                indicator=world["round"].indicators.get(number=4),
                                requirement=None, county=None, evidence=kept)
    _submit(report, personas["unit"])
    reviewer = personas["lead_reviewer"]
    assert set(evidence_visible_to(reviewer)) == {kept}
    assert _status(client, reviewer, loose) == 404
    assert _status(client, reviewer, evidence) == 404
    assert _status(client, reviewer, kept) == 200
    assert {loose, evidence, kept} <= set(evidence_visible_to(personas["unit"]))
    # Nor do the office and the leading groups, who read drafts: it is on none.
    for centre in ("office", "working_group", "leading_group"):
        assert _status(client, personas[centre], loose) == 404
        assert _status(client, personas[centre], evidence) == 404
        assert _status(client, personas[centre], kept) == 200


def test_a_provinces_file_attached_to_nothing_stays_its_own(client, world, personas):
    """Uploaded by a province and never attached to its summary report: no one else reads
    it, the office and the leading groups included; attached (even to a draft) they do."""
    loose = evidence_of(world, "province_a")
    for persona in ("office", "working_group", "leading_group", "lead_reviewer",
                    "province_b"):
        assert _status(client, personas[persona], loose) == 404, persona
    assert _status(client, personas["province"], loose) == 200
    attached = submitted_evidence_of(world, "province_a")  # on the province's draft
    for persona in ("office", "working_group", "leading_group", "province"):
        assert _status(client, personas[persona], attached) == 200, persona
    assert _status(client, personas["lead_reviewer"], attached) == 404
