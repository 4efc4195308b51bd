"""Pages of steps 3a and 3b, one part a module: ``self_reports`` (a unit's self-report and
what is posted from it), ``provincial`` (the provincial summary report), ``cadres`` (seconded
cadres and first secretaries), ``deadlines`` (the overview, extensions, late and missing
submissions) and ``workbooks`` (the offline Excel round-trip). The URLs name the views from
this package, which names them all.
"""

from kaohe.submissions.views.cadres import (
    cadre_add,
    cadre_list,
    cadre_remove,
    cadre_withdraw,
    first_secretary_add,
)
from kaohe.submissions.views.deadlines import (
    deadline_overview,
    extension_grant,
    extension_list,
    late_list,
)
from kaohe.submissions.views.provincial import (
    provincial_attach,
    provincial_detach,
    provincial_detail,
    provincial_finding_add,
    provincial_index,
    provincial_save,
    provincial_start,
    provincial_submit,
)
from kaohe.submissions.views.self_reports import (
    self_report_add_link,
    self_report_attach,
    self_report_detach,
    self_report_detail,
    self_report_index,
    self_report_return,
    self_report_save,
    self_report_submit,
    self_report_version,
)
from kaohe.submissions.views.workbooks import (
    provincial_excel,
    provincial_import,
    self_report_excel,
    self_report_import,
)

__all__ = [
    "cadre_add",
    "cadre_list",
    "cadre_remove",
    "cadre_withdraw",
    "deadline_overview",
    "extension_grant",
    "extension_list",
    "first_secretary_add",
    "late_list",
    "provincial_attach",
    "provincial_detach",
    "provincial_detail",
    "provincial_excel",
    "provincial_finding_add",
    "provincial_import",
    "provincial_index",
    "provincial_save",
    "provincial_start",
    "provincial_submit",
    "self_report_add_link",
    "self_report_attach",
    "self_report_detach",
    "self_report_detail",
    "self_report_excel",
    "self_report_import",
    "self_report_index",
    "self_report_return",
    "self_report_save",
    "self_report_submit",
    "self_report_version",
]
