"""`kaohe export`: any document from the command line as a named user, with the scope, mark
and audit of the web download; a refusal is one line on stderr and a non-zero exit."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from kaohe.audit.models import AuditEntry
from kaohe.documents.models import Export
from kaohe.outcomes.models import Feedback


def _run(*args):
    out = io.StringIO()
    call_command("export", *args, stdout=out)
    return out.getvalue()


def _letter(world, unit_key):
    return Feedback.objects.get(round=world["round"], unit=world[unit_key])


def _rows(listing: str):
    return [line.split(None, 2) for line in listing.splitlines()]


def test_the_list_names_what_the_user_may_export(released, personas, world):
    rows = _rows(_run("--list", "--as", "unit_b"))
    mine = str(_letter(world, "unit_b").pk)
    assert ["feedback_letter", mine] in [row[:2] for row in rows]
    assert all(row[0] != "circular" for row in rows)
    assert world["unit_a"].name not in "".join(r[2] for r in rows)
    office = _rows(_run("--list", "--as", "office"))
    assert ["circular", "2017", "考核结果通报（2017年度）"] in office
    assert {"feedback_letter", "review_report", "org_department_list"} <= {r[0] for r in office}


def test_the_list_is_what_the_documents_page_offers(released, personas, world):
    from kaohe.documents.views import _offered

    for persona in ("office", "unit", "lead_reviewer", "province"):
        user = personas[persona]
        page = {(item["exporter"].identifier, key)
                for item in _offered(user, world["round"]) for key, _ in item["objects"]}
        listed = {(row[0], row[1]) for row in _rows(_run("--list", "--as", user.username))}
        assert listed == page, persona


def test_a_unit_exports_its_own_letter_with_mark_and_audit(released, personas, world,
                                                           tmp_path):
    letter = _letter(world, "unit_b")
    printed = _run("feedback_letter", str(letter.pk), "--format", "pdf", "--as", "unit_b",
                   "--output", str(tmp_path))
    path_text, code = printed.split()
    path = Path(path_text)
    assert path.parent == tmp_path
    assert path.exists() and path.suffix == ".pdf"
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert "unit_b" in text and code in text  # the maker's mark, with the export's code
    export = Export.objects.latest("pk")
    assert export.code == code
    assert export.made_by == personas["unit_b"] and export.identifier == "feedback_letter"
    entry = AuditEntry.objects.get(action="document.export", data__code=code)
    assert entry.actor == personas["unit_b"] and entry.success


def test_an_output_file_name_is_used_as_given(released, personas, world, tmp_path):
    target = tmp_path / "名单.xlsx"
    _run("org_department_list", "2017", "--format", "xlsx", "--as", "office",
         "--output", str(target))
    assert target.read_bytes()[:2] == b"PK"


def test_a_bulk_document_is_made_at_once(released, personas, world, tmp_path):
    _run("feedback_letters", "2017", "--format", "pdf", "--as", "office",
         "--output", str(tmp_path))
    assert [p.suffix for p in tmp_path.iterdir()] == [".zip"]


@pytest.mark.parametrize(("args", "message"), [
    # another unit's letter: refused like an unknown one, and nothing is made or recorded
    (["feedback_letter", "{a}", "--format", "pdf", "--as", "unit_b"], "不在unit_b可导出的范围内"),
    (["circular", "2017", "--format", "pdf", "--as", "unit_b"], "不在unit_b可导出的范围内"),
    (["no_such_document", "1", "--format", "pdf", "--as", "office"], "不存在"),
    (["circular", "2017", "--format", "xlsx", "--as", "office"], "不存在"),
    (["circular", "2017", "--format", "pdf", "--as", "nobody"], "没有名为“nobody”的可用账号"),
    (["circular", "2017", "--format", "pdf", "--as", "sys"], "不在sys可导出的范围内"),
    (["circular", "2017", "--as", "office"], "请指定文书、对象和格式"),
    (["circular", "2017", "--format", "pdf", "--as", "office", "--year", "1999"],
     "1999年度考核不存在"),
    (["circular", "2017", "--format", "pdf", "--as", "office", "--output", "/no/such/dir/x.pdf"],
     "目录/no/such/dir不存在"),
])
def test_refusals_are_one_clear_line_and_change_nothing(released, personas, world, tmp_path,
                                                        args, message):
    args = [arg.format(a=_letter(world, "unit_a").pk) for arg in args]
    exports, entries = Export.objects.count(), AuditEntry.objects.count()
    with pytest.raises(CommandError) as refused:
        _run(*args, *([] if "--output" in args else ["--output", str(tmp_path)]))
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    assert (Export.objects.count(), AuditEntry.objects.count()) == (exports, entries)
    assert list(tmp_path.iterdir()) == []


def test_the_console_script_refuses_in_one_line_without_a_traceback(new_installation,
                                                                    tmp_path):
    installation = new_installation()
    installation.shell(
        "from kaohe.accounts.models import User\n"
        "User.objects.create(username='org', role='org_department')\n")
    for user in ("nobody", "org"):
        result = installation.kaohe("export", "circular", "2017", "--format", "pdf",
                                    "--as", user, "--output", str(tmp_path), check=False)
        assert result.returncode != 0, user
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert ("可用账号" if user == "nobody" else "范围内") in lines[0]
        assert list(tmp_path.iterdir()) == []
    listed = installation.kaohe("export", "--list", "--as", "org")
    assert listed.returncode == 0 and listed.stdout == ""
