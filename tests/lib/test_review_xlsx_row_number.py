"""Hostile review of 814bd9c (import paths): a worksheet whose row number is a "digit" only
to str.isdigit() ("²", "①") is refused as damaged, never a ValueError (a 500 on every
offline import: self-report, provincial report, directory)."""

import pytest

from kaohe.lib.xlsx_reading import WorkbookLimits, WorkbookRefused, scan_workbook
from tests.lib.archive_samples import Sheet, xlsx

SMALL = WorkbookLimits(max_unpacked_bytes=4 * 1024 * 1024, max_rows=50, max_columns=10)


@pytest.mark.parametrize("number", ["²", "①", "٣"])
def test_a_row_number_of_unusual_digits_is_refused_as_damaged(number):
    data = xlsx(Sheet("表", [f'<row r="{number}"><c r="A1"><v>1</v></c></row>']))
    with pytest.raises(WorkbookRefused) as info:
        scan_workbook(data, SMALL)
    assert info.value.code == "damaged"
