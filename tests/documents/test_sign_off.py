"""Sign-off (签发) of outgoing papers and the 份号 of every confidential copy (issue 18).

A signed paper has its 成文日期 and 发文字号 fixed, and every later copy reproduces what was
signed even when the data change afterwards; every confidential copy carries its own 份号,
recorded with the export (maker, time, code) that made it.
"""

import datetime
import io
import re
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from kaohe.audit.models import AuditEntry
from kaohe.documents import services, signing, withdrawal
from kaohe.documents.base import get_exporter
from kaohe.documents.models import DocumentCopy, DocumentKind, NumberSequence, SignOff
from kaohe.lib import clock
from kaohe.outcomes.models import Feedback
from kaohe.rounds.models import RoundStatus

SIGN_DAY = datetime.date(2018, 2, 20)


def _pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def _without_mark(text: str) -> str:
    """The paper's text without what differs between copies: the maker's mark and 份号."""
    text = re.sub(r".*编号 K\d+.*", "", text)
    return re.sub(r"(?<!\d)\d{6}(?!\d)", "", re.sub(r"\s+", "", text))


@pytest.fixture
def sequences(personas):
    office = personas["office"]
    signing.sequence_save(year=2018, kind=DocumentKind.LETTER, prefix="国开办函",
                          next_number=12, actor=office)
    signing.sequence_save(year=2018, kind=DocumentKind.CIRCULAR, prefix="国开发",
                          next_number=3, actor=office)
    signing.sequence_save(year=2018, kind=DocumentKind.REPORT, prefix="国开发",
                          next_number=1, actor=office)
    signing.sequence_save(year=2018, kind=DocumentKind.NOTICE, prefix="国开办发",
                          next_number=5, actor=office)


def _letter(world, unit="unit_b"):
    return Feedback.objects.get(round=world["round"], unit=world[unit])


def test_sign_off_fixes_the_date_the_number_and_the_paper(released, personas, world,
                                                          sequences):
    office, exporter = personas["office"], get_exporter("feedback_letter")
    with clock.on(SIGN_DAY):
        first = signing.sign_off(exporter=exporter, obj=_letter(world), actor=office)
        second = signing.sign_off(exporter=exporter, obj=_letter(world, "unit_a"),
                                  actor=office)
    assert first.doc_number == "国开办函〔2018〕12号" and first.issued_on == SIGN_DAY
    assert second.doc_number == "国开办函〔2018〕13号"
    assert NumberSequence.objects.get(year=2018, kind="letter").next_number == 14
    assert AuditEntry.objects.filter(action="document.signed_off").count() == 2

    def download():
        _, rendered = services.export_now(personas["office"], exporter, _letter(world), "pdf",
                                          round_=world["round"])
        return _pdf_text(rendered.data)

    with clock.on(datetime.date(2018, 3, 9)):
        before = download()
        # The data change after sign-off: the paper does not.
        Feedback.objects.filter(pk=_letter(world).pk).update(problems="签发后改写的问题")
        world["round"].issuer_name = "改过的发文机关"
        world["round"].save()
        after = download()
    assert _without_mark(before) == _without_mark(after)
    # Each copy its own 份号, printed on it.
    assert "000001" in re.sub(r"\s+", "", before) and "000002" in re.sub(r"\s+", "", after)
    flat = re.sub(r"\s+", "", after)
    assert "国开办函〔2018〕12号" in flat
    assert "2018年2月20日" in flat and "2018年3月9日" not in flat
    assert "签发后改写的问题" not in flat and "改过的发文机关" not in flat
    assert "帮扶资金到位慢" in flat


def test_the_signed_content_is_checked_before_printing(released, personas, world, sequences):
    exporter = get_exporter("feedback_letter")
    with clock.on(SIGN_DAY):
        signed = signing.sign_off(exporter=exporter, obj=_letter(world), actor=personas["office"])
    SignOff.objects.filter(pk=signed.pk).update(content={**signed.content, "title": "篡改"})
    with pytest.raises(signing.SigningError):
        services.export_now(personas["office"], exporter, _letter(world), "docx",
                            round_=world["round"])


def test_sign_off_needs_the_office_a_sequence_an_open_round_and_happens_once(
        released, personas, world, sequences):
    exporter = get_exporter("feedback_letter")
    for persona in ("working_group", "leading_group", "lead_reviewer", "unit_b"):
        with pytest.raises(signing.SigningError):
            signing.sign_off(exporter=exporter, obj=_letter(world), actor=personas[persona])
    with clock.on(datetime.date(2019, 1, 5)), pytest.raises(signing.SigningError, match="2019"):
        signing.sign_off(exporter=exporter, obj=_letter(world), actor=personas["office"])
    with clock.on(SIGN_DAY):
        signing.sign_off(exporter=exporter, obj=_letter(world), actor=personas["office"])
        with pytest.raises(signing.SigningError):
            signing.sign_off(exporter=exporter, obj=_letter(world), actor=personas["office"])
        with pytest.raises(signing.SigningError):  # the review report is not signed off
            signing.sign_off(exporter=get_exporter("review_report"), obj=released,
                             actor=personas["office"])
        world["round"].status = RoundStatus.CLOSED
        world["round"].save()
        with pytest.raises(signing.SigningError):
            signing.sign_off(exporter=exporter, obj=_letter(world, "unit_a"),
                             actor=personas["office"])
    assert SignOff.objects.count() == 1


def test_kinds_sharing_a_prefix_share_its_numbers(released, personas, world, sequences):
    office = personas["office"]
    with clock.on(SIGN_DAY):
        circular = signing.sign_off(exporter=get_exporter("circular"), obj=world["round"],
                                    actor=office)
        report = signing.sign_off(exporter=get_exporter("results_report"), obj=world["round"],
                                  actor=office, signer="张某某")
    assert circular.doc_number == "国开发〔2018〕3号"
    assert report.doc_number == "国开发〔2018〕4号"
    assert report.signer == "张某某"
    with pytest.raises(signing.SigningError):  # a number already used cannot come again
        signing.sequence_save(year=2018, kind=DocumentKind.REPORT, prefix="国开发",
                              next_number=4, actor=office)


def test_an_upward_report_needs_its_signer(released, personas, world, sequences):
    with clock.on(SIGN_DAY), pytest.raises(signing.SigningError):
        signing.sign_off(exporter=get_exporter("results_report"), obj=world["round"],
                         actor=personas["office"])


def test_every_confidential_copy_has_its_own_number_recorded_with_its_export(
        released, personas, world):
    exporter = get_exporter("feedback_letter")
    exports = [services.export_now(user, exporter, _letter(world), "docx",
                                   round_=world["round"])[0]
               for user in (personas["office"], personas["unit_b"], personas["office"])]
    copies = list(DocumentCopy.objects.order_by("number"))
    assert [c.label for c in copies] == ["000001", "000002", "000003"]
    assert [c.export for c in copies] == exports
    assert copies[1].export.made_by == personas["unit_b"]
    entry = AuditEntry.objects.filter(action="document.export").order_by("pk").last()
    assert entry.data["copy_number"] == "000003"
    # The public circular is not numbered.
    services.export_now(personas["office"], get_exporter("circular"), world["round"], "pdf",
                        round_=world["round"])
    assert not DocumentCopy.objects.filter(identifier="circular").exists()


def test_the_bulk_letters_are_the_signed_ones_each_with_its_copy_number(
        released, personas, world, sequences, django_capture_on_commit_callbacks):
    with clock.on(SIGN_DAY):
        signing.sign_off(exporter=get_exporter("feedback_letter"), obj=_letter(world),
                         actor=personas["office"])
    Feedback.objects.filter(pk=_letter(world).pk).update(problems="签发后改写的问题")
    exporter = get_exporter("feedback_letters")
    with django_capture_on_commit_callbacks(execute=True):
        export = services.request_export(personas["office"], exporter, world["round"], "pdf",
                                         round_=world["round"])
    export.refresh_from_db()
    assert export.status == "done"
    copies = DocumentCopy.objects.filter(export=export, identifier="feedback_letter")
    assert copies.count() == 2
    from django.core.files.storage import default_storage

    with default_storage.open(export.storage_name, "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    texts = [re.sub(r"\s+", "", _pdf_text(archive.read(n))) for n in archive.namelist()]
    signed = [t for t in texts if "国开办函〔2018〕12号" in t]
    assert len(signed) == 1 and "签发后改写的问题" not in signed[0]


def test_the_sign_off_page(released, personas, world, login):
    client = login(personas["office"])
    page = client.get(reverse("documents:sign_off"))
    assert page.status_code == 200
    assert "考核结果反馈函" in page.content.decode()
    assert "签发全部未签发的考核结果反馈函（2份）" in page.content.decode()
    response = client.post(reverse("documents:sequence_save"), {
        "year": 2018, "kind": "letter", "prefix": "国开办函", "next_number": 7})
    assert response.status_code == 302
    key = str(_letter(world).pk)
    with clock.on(SIGN_DAY):
        response = client.post(reverse("documents:sign", kwargs={
            "identifier": "feedback_letter", "key": key}), {"year": world["round"].year})
    assert response.status_code == 302
    assert SignOff.objects.get(object_key=key).doc_number == "国开办函〔2018〕7号"
    assert "国开办函〔2018〕7号" in client.get(reverse("documents:sign_off")).content.decode()
    # The other letter, with all that are left, in one go.
    page = client.get(reverse("documents:sign_off")).content.decode()
    assert "签发全部未签发的" not in page  # one letter left: signed on its own row
    with clock.on(SIGN_DAY):
        client.post(reverse("documents:sign_all", kwargs={"identifier": "feedback_letter"}))
    assert SignOff.objects.get(object_key=str(_letter(world, "unit_a").pk)).number == 8
    # Nobody else signs: the page and its actions are not there for them.
    other = login(personas["leading_group"])
    assert other.get(reverse("documents:sign_off")).status_code == 404


def test_a_signed_letter_can_no_longer_be_edited(approved, personas, world, sequences):
    from kaohe.outcomes import services as outcomes

    outcomes.feedback_prepare(result_set=approved, actor=personas["office"])
    with clock.on(SIGN_DAY):
        signing.sign_off(exporter=get_exporter("feedback_letter"), obj=_letter(world),
                         actor=personas["office"])
    with pytest.raises(outcomes.OutcomeError, match="国开办函〔2018〕12号"):
        outcomes.feedback_update(feedback=_letter(world), actor=personas["office"],
                                 problems="改", suggestions="改")
    # The unsigned letter of the other unit still can be.
    outcomes.feedback_update(feedback=_letter(world, "unit_a"), actor=personas["office"],
                             problems="改", suggestions="改")


# Withdrawal (作废) -------------------------------------------------------------------------


def _sign_letter(world, personas, unit="unit_b"):
    with clock.on(SIGN_DAY):
        return signing.sign_off(exporter=get_exporter("feedback_letter"),
                                obj=_letter(world, unit), actor=personas["office"])


def _download(personas, world, persona="office", fmt="pdf", unit="unit_b"):
    _, rendered = services.export_now(personas[persona], get_exporter("feedback_letter"),
                                      _letter(world, unit), fmt, round_=world["round"])
    return re.sub(r"\s+", "", _pdf_text(rendered.data)) if fmt == "pdf" else rendered.data


def test_the_office_withdraws_a_paper_whose_number_is_never_used_again(
        released, personas, world, sequences):
    signed = _sign_letter(world, personas)
    assert signed.doc_number == "国开办函〔2018〕12号"
    for persona in ("working_group", "leading_group", "unit_b"):
        with pytest.raises(signing.SigningError):
            withdrawal.withdraw(sign_off=signed, actor=personas[persona], reason="有误")
    with pytest.raises(signing.SigningError, match="原因"):
        withdrawal.withdraw(sign_off=signed, actor=personas["office"], reason="  ")
    signed.refresh_from_db()
    assert signed.withdrawn_at is None

    with clock.on(datetime.date(2018, 2, 22)):
        withdrawal.withdraw(sign_off=signed, actor=personas["office"], reason="主送机关有误")
    signed.refresh_from_db()
    assert signed.withdrawn_by == personas["office"] and signed.withdraw_reason == "主送机关有误"
    assert timezone.localtime(signed.withdrawn_at).date() == datetime.date(2018, 2, 22)
    entry = AuditEntry.objects.get(action="document.withdrawn")
    assert entry.actor == personas["office"]
    assert entry.data["doc_number"] == "国开办函〔2018〕12号"
    assert entry.data["reason"] == "主送机关有误"

    # Later downloads never give the withdrawn paper again: the letter is a draft until
    # it is signed off anew (and says so).
    with clock.on(datetime.date(2018, 2, 23)):
        text = _download(personas, world)
        assert "国开办函〔2018〕12号" not in text and "草稿" in text
        assert "国开办函〔2018〕12号" not in _download(personas, world, persona="unit_b")

    # A new sign-off follows with the next number; 12 stays the withdrawn paper's.
    with clock.on(datetime.date(2018, 2, 23)):
        again = signing.sign_off(exporter=get_exporter("feedback_letter"),
                                 obj=_letter(world), actor=personas["office"])
        assert again.doc_number == "国开办函〔2018〕13号"
        assert "国开办函〔2018〕13号" in _download(personas, world)
    assert SignOff.objects.filter(object_key=signed.object_key).count() == 2
    with pytest.raises(signing.SigningError):
        signing.sequence_save(year=2018, kind=DocumentKind.LETTER, prefix="国开办函",
                              next_number=12, actor=personas["office"])


def test_a_withdrawn_paper_cannot_be_withdrawn_again_nor_in_a_closed_round(
        released, personas, world, sequences):
    signed = _sign_letter(world, personas)
    withdrawal.withdraw(sign_off=signed, actor=personas["office"], reason="有误")
    with pytest.raises(signing.SigningError, match="已作废"):
        withdrawal.withdraw(sign_off=signed, actor=personas["office"], reason="再次")
    signed.refresh_from_db()
    assert signed.withdraw_reason == "有误"
    other = _sign_letter(world, personas, "unit_a")
    world["round"].status = RoundStatus.CLOSED
    world["round"].save()
    with pytest.raises(signing.SigningError):
        withdrawal.withdraw(sign_off=other, actor=personas["office"], reason="有误")
    assert AuditEntry.objects.filter(action="document.withdrawn").count() == 1


def test_a_stored_bulk_export_holding_the_withdrawn_paper_is_not_handed_out_again(
        released, personas, world, sequences, login, django_capture_on_commit_callbacks,
        settings):
    from django.core.files.storage import default_storage

    signed = _sign_letter(world, personas)
    settings.KAOHE_TODAY = "2018-02-21"
    with django_capture_on_commit_callbacks(execute=True):
        export = services.request_export(personas["office"], get_exporter("feedback_letters"),
                                         world["round"], "pdf", round_=world["round"])
    export.refresh_from_db()
    client = login(personas["office"])
    url = reverse("documents:export_download", kwargs={"pk": export.pk})
    assert client.get(url).status_code == 200
    stored = export.storage_name
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal.withdraw(sign_off=signed, actor=personas["office"], reason="有误")
    export.refresh_from_db()
    assert export.status == "expired" and "国开办函〔2018〕12号" in export.error
    assert not default_storage.exists(stored)
    assert client.get(url).status_code == 404


def _queued_letters(world, personas, django_capture_on_commit_callbacks):
    """A bulk export of every letter (PDF), asked for and not yet run."""
    with django_capture_on_commit_callbacks(execute=False):
        return services.request_export(personas["office"], get_exporter("feedback_letters"),
                                       world["round"], "pdf", round_=world["round"])


def _stored_exports():
    from django.core.files.storage import default_storage

    return default_storage.listdir("exports")[1] if default_storage.exists("exports") else []


def test_a_bulk_export_running_when_its_paper_is_withdrawn_stops_and_publishes_nothing(
        released, personas, world, sequences, login, django_capture_on_commit_callbacks,
        monkeypatch, settings):
    """The office withdraws a letter while the ZIP of all letters is being made: the export
    stops (it holds a copy of the withdrawn paper) and no ZIP is stored or offered."""
    from kaohe.documents.exporters import outcomes as letters
    from kaohe.documents.models import Export

    signed = _sign_letter(world, personas)
    settings.KAOHE_TODAY = "2018-02-21"
    export = _queued_letters(world, personas, django_capture_on_commit_callbacks)
    render_letter, rendered = letters._render_letter, []

    def withdrawn_midway(job):
        if not rendered:  # the copies are numbered, the first letter is being made
            with django_capture_on_commit_callbacks(execute=True):
                withdrawal.withdraw(sign_off=signed, actor=personas["office"], reason="有误")
        rendered.append(job[0])
        return render_letter(job)

    monkeypatch.setattr(letters, "_render_letter", withdrawn_midway)
    before = _stored_exports()
    services.run_export(export.pk)
    assert rendered  # the withdrawal came while the letters were being made
    export.refresh_from_db()
    assert export.status == "failed" and export.stopped and not export.storage_name
    assert "国开办函〔2018〕12号" in export.error
    assert _stored_exports() == before
    entry = AuditEntry.objects.get(action="document.withdrawn")
    assert entry.data["exports_stopped"] == [export.code]
    assert AuditEntry.objects.filter(action="document.export", success=False,
                                     target_id=str(export.pk)).exists()
    client = login(personas["office"])
    assert client.get(reverse("documents:export_download",
                              kwargs={"pk": export.pk})).status_code == 404
    row = client.get(reverse("documents:export_status", kwargs={"pk": export.pk}))
    assert "已作废" in row.content.decode() and "重新生成" in row.content.decode()
    assert Export.objects.get(pk=export.pk).finished_at is not None


def test_a_bulk_export_checks_its_papers_before_it_publishes(
        released, personas, world, sequences, django_capture_on_commit_callbacks, monkeypatch,
        settings):
    """However the withdrawal and the worker interleave, the worker looks at the papers it
    copied before it stores and publishes the ZIP: one withdrawn since the export was asked
    for stops it."""
    from kaohe.documents.exporters import outcomes as letters

    signed = _sign_letter(world, personas)
    settings.KAOHE_TODAY = "2018-02-21"
    export = _queued_letters(world, personas, django_capture_on_commit_callbacks)
    render_letter = letters._render_letter

    def withdrawn_unseen(job):
        # Withdrawn without the withdrawal seeing this export (as when it ran between the
        # worker's reading the signed paper and numbering its copy).
        SignOff.objects.filter(pk=signed.pk).update(withdrawn_at=clock.now(),
                                                    withdrawn_by=personas["office"],
                                                    withdraw_reason="有误")
        return render_letter(job)

    monkeypatch.setattr(letters, "_render_letter", withdrawn_unseen)
    before = _stored_exports()
    services.run_export(export.pk)
    export.refresh_from_db()
    assert export.status == "failed" and export.stopped and not export.storage_name
    assert "国开办函〔2018〕12号" in export.error
    assert _stored_exports() == before
    # An export asked for after the withdrawal is made as usual (the letter as a draft).
    monkeypatch.setattr(letters, "_render_letter", render_letter)
    again = _queued_letters(world, personas, django_capture_on_commit_callbacks)
    services.run_export(again.pk)
    again.refresh_from_db()
    assert again.status == "done" and again.storage_name


def test_a_command_line_export_of_a_paper_withdrawn_meanwhile_is_refused(
        released, personas, world, sequences, monkeypatch, settings):
    """`kaohe export` makes the ZIP of all letters in the command (export_now): a letter
    withdrawn while it runs is not written to the operator's disk either."""
    from django.core.management import CommandError, call_command

    from kaohe.documents.exporters import outcomes as letters
    from kaohe.documents.models import Export

    signed = _sign_letter(world, personas)
    settings.KAOHE_TODAY = "2018-02-21"
    render_letter = letters._render_letter

    def withdrawn_unseen(job):
        SignOff.objects.filter(pk=signed.pk).update(withdrawn_at=clock.now(),
                                                    withdrawn_by=personas["office"],
                                                    withdraw_reason="有误")
        return render_letter(job)

    monkeypatch.setattr(letters, "_render_letter", withdrawn_unseen)
    with pytest.raises(CommandError, match="国开办函〔2018〕12号"):
        call_command("export", "feedback_letters", str(world["round"].year),
                     "--format", "pdf", "--as", personas["office"].username,
                     "--output", str(settings.DATA_DIR))
    export = Export.objects.get(identifier="feedback_letters")
    assert export.status == "failed" and "国开办函〔2018〕12号" in export.error


def test_a_done_export_holding_a_paper_withdrawn_since_is_not_downloaded(
        released, personas, world, sequences, login, django_capture_on_commit_callbacks,
        settings):
    """Should a withdrawal miss a finished export (it ran before the export's copies were
    numbered), the download looks at the papers again."""
    signed = _sign_letter(world, personas)
    settings.KAOHE_TODAY = "2018-02-21"
    with django_capture_on_commit_callbacks(execute=True):
        export = services.request_export(personas["office"], get_exporter("feedback_letters"),
                                         world["round"], "pdf", round_=world["round"])
    client = login(personas["office"])
    url = reverse("documents:export_download", kwargs={"pk": export.pk})
    assert client.get(url).status_code == 200
    SignOff.objects.filter(pk=signed.pk).update(withdrawn_at=clock.now(),
                                                withdrawn_by=personas["office"],
                                                withdraw_reason="有误")
    assert client.get(url).status_code == 404


def test_withdrawing_on_the_sign_off_page(released, personas, world, sequences, login):
    signed = _sign_letter(world, personas)
    url = reverse("documents:withdraw", kwargs={"pk": signed.pk})
    # Nobody but the office: 404, and nothing changes.
    for persona in ("working_group", "leading_group", "lead_reviewer", "unit_b", "auditor"):
        assert login(personas[persona]).post(url, {"reason": "有误"}).status_code == 404
    signed.refresh_from_db()
    assert signed.withdrawn_at is None
    client = login(personas["office"])
    page = client.get(reverse("documents:sign_off")).content.decode()
    assert url in page and 'name="reason"' in page
    assert client.post(reverse("documents:withdraw", kwargs={"pk": 999999}),
                       {"reason": "有误"}).status_code == 404
    assert client.post(url, {"reason": ""}).status_code == 302
    signed.refresh_from_db()
    assert signed.withdrawn_at is None
    assert client.post(url, {"reason": "主送机关有误"}).status_code == 302
    signed.refresh_from_db()
    withdrawn_at = signed.withdrawn_at
    assert withdrawn_at is not None
    page = client.get(reverse("documents:sign_off")).content.decode()
    assert "已作废" in page and "主送机关有误" in page and "国开办函〔2018〕12号" in page
    assert url not in page  # no second withdrawal offered
    # A hand-made POST on the withdrawn paper changes nothing.
    response = client.post(url, {"reason": "第二次"}, follow=True)
    assert "已作废" in response.content.decode()
    signed.refresh_from_db()
    assert (signed.withdrawn_at, signed.withdraw_reason) == (withdrawn_at, "主送机关有误")
    assert AuditEntry.objects.filter(action="document.withdrawn").count() == 1


def test_only_the_office_reads_why_a_paper_was_withdrawn(released, personas, world,
                                                        sequences, login):
    """The reason may quote the paper (a unit's problems, a wrong grade). The office, which
    reads every letter (kaohe.accounts.scope.FEEDBACK), sees it beside the withdrawn number;
    the auditor, who reaches no assessment record, sees that the paper was withdrawn and
    when (the log's entry, its number), never the reason: not on the log's page, in its CSV
    export or on the dashboard. Nobody else sees the sign-off desk at all."""
    signed = _sign_letter(world, personas)
    reason = "反馈意见误写入未核实的突出问题：帮扶资金挪用"
    with clock.on(datetime.date(2018, 2, 22)):
        withdrawal.withdraw(sign_off=signed, actor=personas["office"], reason=reason)
    desk = reverse("documents:sign_off")
    page = login(personas["office"]).get(desk).content.decode()
    assert "已作废" in page and reason in page

    auditor = login(personas["auditor"])
    listed = auditor.get(reverse("audit:list"), {"action": "document.withdrawn"})
    text = listed.content.decode()
    assert listed.status_code == 200
    assert "国开办函〔2018〕12号" in text and "2018-02-22" in text and "作废文书" in text
    assert reason not in text and "挪用" not in text
    exported = b"".join(auditor.get(reverse("audit:export")).streaming_content)
    assert "document.withdrawn" in exported.decode("utf-8-sig")
    assert "挪用" not in exported.decode("utf-8-sig")
    assert "挪用" not in auditor.get(reverse("home")).content.decode()
    # Searching the log for words of the reason finds nothing either.
    found = auditor.get(reverse("audit:list"), {"q": "挪用"}).content.decode()
    assert "国开办函〔2018〕12号" not in found
    # The entry itself keeps the reason: the hash chain covers it.
    assert AuditEntry.objects.get(action="document.withdrawn").data["reason"] == reason
    for persona in ("working_group", "leading_group", "lead_reviewer", "unit_b", "auditor"):
        assert login(personas[persona]).get(desk).status_code == 404, persona


def test_a_withdrawn_letter_can_be_edited_again_before_release(approved, personas, world,
                                                               sequences):
    from kaohe.outcomes import services as outcomes

    outcomes.feedback_prepare(result_set=approved, actor=personas["office"])
    signed = _sign_letter(world, personas)
    withdrawal.withdraw(sign_off=signed, actor=personas["office"], reason="反馈意见需修改")
    outcomes.feedback_update(feedback=_letter(world), actor=personas["office"],
                             problems="修改后的问题", suggestions="修改后的建议")
    assert _letter(world).problems == "修改后的问题"


# Drafts ------------------------------------------------------------------------------------


def test_a_paper_not_signed_off_shows_its_masthead_a_blank_number_and_says_draft(
        released, personas, world, sequences):
    """Before sign-off (or after a withdrawal) a paper is printed as it will be sent, so the
    office sees the real layout, but its 发文字号 has no number and every page says 草稿."""
    import docx

    from kaohe.documents.pdf_render import DRAFT_HEAD
    from tests.documents.pdf_measure import is_red, measure, pages

    _, rendered = services.export_now(personas["unit_b"], get_exporter("feedback_letter"),
                                      _letter(world), "pdf", round_=world["round"])
    reader = pages(rendered.data)
    runs, _ = measure(reader[0])
    red = "".join(r.text for r in runs if is_red(r.colour))
    assert red.replace(" ", "") == world["round"].issuer_name      # 信函格式's 版头
    text = "".join(r.text for r in runs if not is_red(r.colour))
    flat = re.sub(r"\s+", "", text)
    assert "国开办函〔2018〕号" in flat                                 # the number left blank
    assert not re.search(r"〔2018〕\d+号", flat)
    box = [r for r in runs if re.sub(r"\s+", "", r.text) == "草稿"]
    assert box and box[0].y < 37 and box[0].x > 160                  # top right, above the text
    for page in reader:
        assert DRAFT_HEAD in "".join(r.text for r in measure(page)[0])
    _, rendered = services.export_now(personas["office"], get_exporter("feedback_letter"),
                                      _letter(world), "docx", round_=world["round"])
    document = docx.Document(io.BytesIO(rendered.data))
    for section in document.sections:
        for header in (section.header, section.even_page_header, section.first_page_header):
            assert [p.text for p in header.paragraphs].count(DRAFT_HEAD) == 1

    # An upward report's draft leaves its 签发人 blank as well.
    _, rendered = services.export_now(personas["office"], get_exporter("results_report"),
                                      world["round"], "pdf", round_=world["round"])
    flat = re.sub(r"\s+", "", _pdf_text(rendered.data))
    assert "签发人：" in flat and "国开发〔2018〕号" in flat and "草稿" in flat

    # Signed off: the number, and no word of a draft.
    _sign_letter(world, personas)
    flat = _download(personas, world)
    assert "国开办函〔2018〕12号" in flat and "草稿" not in flat
    data = _download(personas, world, fmt="docx")
    headers = [p.text for s in docx.Document(io.BytesIO(data)).sections
               for p in s.header.paragraphs]
    assert not any("草稿" in text for text in headers)


# Size ----------------------------------------------------------------------------------------

# The longest explanations of the demo's 较差 letters (kaohe.demo.builder), as the office
# would write them.
POOR_PROBLEMS = "帮扶资金投入和干部选派仍有提升空间。"
POOR_SUGGESTIONS = "进一步向深度贫困地区倾斜，加强督促检查。"


def test_the_largest_kind_of_letter_stays_small(released, personas, world, sequences):
    """Issue 18: PDF letters of at most 100 KB (100,000 bytes). The largest kind is a signed
    较差 letter (its summons paragraph brings the most characters), copied with the maker's
    mark and a 份号. Its fonts are nearly all of it: each face is cut to the glyphs drawn and
    its near-straight curves are drawn as lines (kaohe.documents.pdf_fonts); before the
    latter those of the 310-unit demo were 110-113 KB, 88-90 KB after."""
    Feedback.objects.filter(pk=_letter(world).pk).update(problems=POOR_PROBLEMS,
                                                         suggestions=POOR_SUGGESTIONS)
    signed = _sign_letter(world, personas)
    _, rendered = services.export_now(personas["office"], get_exporter("feedback_letter"),
                                      _letter(world), "pdf", round_=world["round"])
    flat = re.sub(r"\s+", "", _pdf_text(rendered.data))
    assert "较差" in flat and "约谈" in flat and POOR_PROBLEMS in flat
    assert signed.doc_number in flat and "000001" in flat and "编号K" in flat
    size = len(rendered.data)
    assert size <= 100_000, size


def test_over_long_sign_off_fields_are_refused_not_cut(released, personas, world, sequences,
                                                       login):
    """The prefix, the signer, the urgency and a withdrawal's reason are refused when longer
    than their field, naming it; nothing is saved, signed or withdrawn with a cut text."""
    client = login(personas["office"])
    response = client.post(reverse("documents:sequence_save"), {
        "year": 2018, "kind": "letter", "prefix": "函" * 31, "next_number": 20}, follow=True)
    assert "机关代字不能超过30个字（现为31个字）。" in response.content.decode()
    assert NumberSequence.objects.get(year=2018, kind="letter").prefix == "国开办函"
    key = str(_letter(world).pk)
    sign = reverse("documents:sign", kwargs={"identifier": "feedback_letter", "key": key})
    sign_all = reverse("documents:sign_all", kwargs={"identifier": "feedback_letter"})
    with clock.on(SIGN_DAY):
        for url in (sign, sign_all):
            response = client.post(url, {"year": 2018, "signer": "签" * 51}, follow=True)
            assert "签发人不能超过50个字（现为51个字）。" in response.content.decode()
            response = client.post(url, {"year": 2018, "urgency": "急" * 11}, follow=True)
            assert "紧急程度不能超过10个字（现为11个字）。" in response.content.decode()
    assert not SignOff.objects.exists()
    signed = _sign_letter(world, personas)
    url = reverse("documents:withdraw", kwargs={"pk": signed.pk})
    response = client.post(url, {"reason": "误" * 2001}, follow=True)
    assert "作废原因不能超过2000个字（现为2001个字）。" in response.content.decode()
    signed.refresh_from_db()
    assert signed.withdrawn_at is None and signed.withdraw_reason == ""
    assert not AuditEntry.objects.filter(action="document.withdrawn").exists()
