"""The submissions' services and views are packages of small modules (issue 22), and every
name callers used from the former single modules still answers from the package."""

from pathlib import Path

import pytest

from kaohe.submissions import services, views

# The public names of the former kaohe/submissions/services.py, used as services.<name>
# by the views, the API, the offline workbooks, the demo and the tests.
SERVICE_NAMES = {
    "MAX_ANSWER_CHARS", "ClosedError", "ConflictError", "Gap", "GapsNotConfirmed",
    "LockedError", "Slot", "SubmissionError", "cadre_add", "cadre_is_locked",
    "cadre_lock_reason", "cadre_remove", "cadre_withdraw", "cadres_open",
    "deep_poverty_indicator", "extension_grant", "extension_party", "first_secretary_add",
    "provincial_attach", "provincial_closed_message", "provincial_detach",
    "provincial_finding_add", "provincial_report_for", "provincial_report_missing",
    "provincial_report_save", "provincial_report_snapshot", "provincial_report_start",
    "provincial_report_submit", "self_report_add_link", "self_report_attach",
    "self_report_detach", "self_report_for", "self_report_gaps", "self_report_return",
    "self_report_return_refusal",
    "self_report_save", "self_report_slots", "self_report_snapshot", "self_report_submit",
}

# Every view kaohe/submissions/urls.py names as views.<name>.
VIEW_NAMES = {
    "cadre_add", "cadre_list", "cadre_remove", "cadre_withdraw", "deadline_overview",
    "extension_grant", "extension_list", "first_secretary_add", "late_list",
    "provincial_attach", "provincial_detach", "provincial_detail", "provincial_excel",
    "provincial_finding_add", "provincial_import", "provincial_index", "provincial_save",
    "provincial_start", "provincial_submit", "self_report_add_link", "self_report_attach",
    "self_report_detach", "self_report_detail", "self_report_excel", "self_report_import",
    "self_report_index", "self_report_return", "self_report_save", "self_report_submit",
    "self_report_version",
}


@pytest.mark.parametrize(("package", "names"), [(services, SERVICE_NAMES),
                                                 (views, VIEW_NAMES)])
def test_the_package_still_names_every_former_public_name(package, names):
    assert set(package.__all__) == names
    missing = {name for name in names if not hasattr(package, name)}
    assert not missing


@pytest.mark.parametrize("package", [services, views])
def test_each_module_of_the_package_stays_under_400_lines(package):
    folder = Path(package.__file__).parent
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines())
             for path in folder.glob("*.py")}
    assert len(sizes) > 2  # the package is split, not one module renamed
    assert {name: n for name, n in sizes.items() if n > 400} == {}
