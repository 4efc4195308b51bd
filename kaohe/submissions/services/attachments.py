"""What the self-report and the provincial report share about their evidence: taking an
attachment off a report that the caller has locked and found editable."""

from typing import Any

from django.utils.translation import gettext as _

from kaohe.submissions.services.errors import SubmissionError


def remove_attachment(*, report: Any, attachment: Any) -> None:
    """Delete one attachment of the locked report and count a new revision (the caller logs
    it under its own action code)."""
    if attachment.report_id != report.pk:
        raise SubmissionError(_("材料不属于本报告。"))
    attachment.delete()
    report.revision += 1
    report.save(update_fields=["revision", "updated_at"])
