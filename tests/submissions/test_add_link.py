"""A link as evidence of a self-report is one service (issue 22, item 4): the link and its
attachment are made together, or neither is."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.evidence.models import Evidence, EvidenceKind
from kaohe.submissions import services
from kaohe.submissions.models import EvidenceAttachment

from .conftest import indicator, requirement

URL = "https://example.cn/news/1"


def _link_kwargs(world, personas, **overrides):
    round_ = world["round"]
    return {"actor": personas["unit"], "indicator": indicator(round_, 3),
            "requirement": requirement(round_, 3, "新闻报道"), "county": world["county_a"],
            "url": URL, "title": "新闻报道", **overrides}


def test_a_link_is_added_and_attached_in_one_act(world, personas, report_a):
    attachment = services.self_report_add_link(report=report_a,
                                               **_link_kwargs(world, personas))
    assert (attachment.evidence.kind, attachment.evidence.url) == (EvidenceKind.LINK, URL)
    assert attachment.evidence.unit == world["unit_a"]
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {
        "evidence.link.added", "self_report.evidence_attached"}


def test_a_refused_attach_leaves_no_link_behind(world, personas, report_a):
    with pytest.raises(services.SubmissionError):
        services.self_report_add_link(report=report_a, **_link_kwargs(
            world, personas, county=world["county_b"]))
    assert not Evidence.objects.filter(kind=EvidenceKind.LINK).exists()
    assert not AuditEntry.objects.filter(action="evidence.link.added").exists()


def test_a_bad_link_is_refused_and_nothing_is_attached(world, personas, report_a):
    with pytest.raises(ValidationError):
        services.self_report_add_link(report=report_a, **_link_kwargs(
            world, personas, url="javascript:alert(1)"))
    assert not EvidenceAttachment.objects.exists()


def test_the_page_shows_why_a_link_was_refused(world, personas, report_a, client):
    client.force_login(personas["unit"])
    round_ = world["round"]
    response = client.post(
        reverse("submissions:self_report_link", args=[report_a.pk]),
        {"indicator": indicator(round_, 3).pk, "county": world["county_a"].pk,
         "requirement": requirement(round_, 3, "新闻报道").pk, "link_url": "ftp://x",
         "link_title": "新闻"}, follow=True)
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert errors == ["请输入以 http:// 或 https:// 开头的有效链接。"]
    assert not Evidence.objects.exists()
