"""Issue 17 item 5: step 四 (the lead departments' review) closes on 2018-01-15.

After the lead department's deadline (with its extension) every save and the submission
are refused and the pages offer nothing to edit; the office's extension for the department
reopens them. After the working group returns the results, the resubmission is due by
step 五's date (2018-01-31). A submission after step 四's due date is marked late.
"""

import datetime

import pytest
from django.urls import reverse

from kaohe.reviews import services
from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus
from kaohe.submissions import services as submissions

from .conftest import all_grades, complete_review, fresh, write_category_report

CLOSED = "分类考核已于2018-01-15截止；如需延期，请联系国务院扶贫办。"


def _extend(world, office, code="review", until="2018-01-20", lead=None):
    return submissions.extension_grant(
        step=world["round"].steps.get(code=code), actor=office,
        lead_department=lead or world["lead_a"], until=datetime.date.fromisoformat(until),
        reason="核查工作量大")


def test_after_the_15th_saving_grades_is_refused(settings, world, reviewer, review_a):
    settings.KAOHE_TODAY = "2018-01-16"
    with pytest.raises(services.ClosedError, match=CLOSED):
        services.area_grades_save(review=review_a, actor=reviewer,
                                  revision=fresh(review_a).revision, grades=all_grades())
    assert not review_a.area_grades.exists()


def test_on_the_15th_it_is_still_open(settings, world, reviewer, review_a):
    settings.KAOHE_TODAY = "2018-01-15"
    services.area_grades_save(review=review_a, actor=reviewer,
                              revision=fresh(review_a).revision, grades=all_grades())
    assert review_a.area_grades.count() == 6


def test_after_the_15th_the_category_report_and_submission_are_refused(
        settings, world, reviewer, submission_a):
    complete_review(world["round"], world["unit_a"], reviewer)
    write_category_report(submission_a, reviewer)
    settings.KAOHE_TODAY = "2018-01-16"
    with pytest.raises(services.ClosedError, match=CLOSED):
        write_category_report(submission_a, reviewer, text="改")
    with pytest.raises(services.ClosedError, match=CLOSED):
        services.category_submit(submission=submission_a, actor=reviewer)
    assert fresh(submission_a).status == CategorySubmissionStatus.DRAFT


def test_an_extension_for_the_department_allows_it_and_the_submission_is_marked_late(
        settings, world, reviewer, personas, submission_a, review_a):
    extension = _extend(world, personas["office"])
    settings.KAOHE_TODAY = "2018-01-18"
    complete_review(world["round"], world["unit_a"], reviewer)
    write_category_report(submission_a, reviewer)
    services.category_submit(submission=submission_a, actor=reviewer)
    submission = fresh(submission_a)
    assert submission.status == CategorySubmissionStatus.SUBMITTED
    assert submission.submitted_late and submission.late_extension == extension
    # Another department's extension opens nothing for this one, and vice versa.
    review_b = services.review_for(round=world["round"], unit=world["unit_b"])
    with pytest.raises(services.ClosedError):
        services.area_grades_save(review=review_b, actor=personas["lead_reviewer_b"],
                                  revision=review_b.revision, grades=all_grades())


def test_a_timely_submission_is_not_marked_late(world, reviewer, submission_a):
    complete_review(world["round"], world["unit_a"], reviewer)
    write_category_report(submission_a, reviewer)
    services.category_submit(submission=submission_a, actor=reviewer)
    submission = fresh(submission_a)
    assert submission.is_locked and not submission.submitted_late
    assert submission.late_extension is None


def test_returned_results_may_be_resubmitted_until_step_five_closes(settings, world, reviewer,
                                                                    personas, submission_a):
    complete_review(world["round"], world["unit_a"], reviewer)
    write_category_report(submission_a, reviewer)
    services.category_submit(submission=submission_a, actor=reviewer)
    settings.KAOHE_TODAY = "2018-01-20"
    services.category_return(submission=submission_a, actor=personas["working_group"],
                             reason="请补充核查情况")
    write_category_report(submission_a, reviewer, text="补充")
    services.category_submit(submission=submission_a, actor=reviewer)
    assert not fresh(submission_a).submitted_late  # due by step 五's 01-31
    services.category_return(submission=submission_a, actor=personas["working_group"],
                             reason="再次补充")
    settings.KAOHE_TODAY = "2018-02-01"
    with pytest.raises(services.ClosedError, match="2018-01-31"):
        write_category_report(submission_a, reviewer, text="太迟")
    _extend(world, personas["office"], code="deliberation", until="2018-02-05")
    write_category_report(submission_a, reviewer, text="延期后")
    services.category_submit(submission=submission_a, actor=reviewer)
    assert fresh(submission_a).submitted_late


def test_after_the_deadline_the_desk_and_category_pages_offer_nothing_to_edit(
        settings, world, reviewer, login, review_a):
    settings.KAOHE_TODAY = "2018-01-16"
    client = login(reviewer)
    desk = client.get(reverse("reviews:desk", args=[world["unit_a"].pk]))
    assert desk.context["can_edit"] is False
    assert CLOSED in desk.content.decode()
    body = desk.content.decode()
    grades_form = body[body.index(reverse("reviews:grades_save", args=[world["unit_a"].pk])):]
    assert grades_form.split("</form>")[0].count("<fieldset") == grades_form.split(
        "</form>")[0].count("disabled>")
    category = client.get(reverse("reviews:category", args=[world["lead_a"].pk]))
    assert category.context["can_edit"] is False and CLOSED in category.content.decode()
    assert reverse("reviews:category_submit",
                   args=[world["lead_a"].pk]) not in category.content.decode()
    response = client.post(reverse("reviews:grades_save", args=[world["unit_a"].pk]), {
        "revision": review_a.revision,
        **{f"grade-{code}": grade for code, (grade, _r) in all_grades().items()},
        **{f"reason-{code}": reason for code, (_g, reason) in all_grades().items()}})
    assert response.status_code == 302
    assert not review_a.area_grades.exists()
    assert not CategorySubmission.objects.filter(status=CategorySubmissionStatus.SUBMITTED)
