"""The contact list of every unit's and province's liaison (联络员通讯录), for the office."""

from __future__ import annotations

from django.http import Http404
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from kaohe.accounts.capabilities import MANAGE_DIRECTORY, has_capability
from kaohe.directory.selectors import liaison_rows
from kaohe.documents.base import Exporter, mark_workbook, register
from kaohe.lib.spreadsheets import workbook_bytes, write_row

KEY = "all"


@register
class LiaisonContacts(Exporter):
    identifier = "liaison_contacts"
    name = "联络员通讯录"
    formats = ("xlsx",)
    capability = MANAGE_DIRECTORY
    templatable = False

    def objects_for(self, user, round_):
        return [KEY] if has_capability(user, MANAGE_DIRECTORY) else []

    def get_object(self, user, round_, key):
        if key != KEY or not has_capability(user, MANAGE_DIRECTORY):
            raise Http404
        return KEY

    def object_key(self, obj):
        return KEY

    def describe(self, obj):
        return "全部中央单位和省份"

    def file_stem(self, obj):
        return self.name

    def build_xlsx(self, obj, mark) -> bytes:
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = self.name
        headers = ["类型", "编码", "名称", "联络员姓名", "联系电话", "电子邮箱"]
        write_row(sheet, headers)
        for row in liaison_rows():
            write_row(sheet, [row.kind_label, row.code, row.name, row.liaison_name,
                              row.liaison_phone, row.liaison_email])
        for index, width in enumerate((10, 12, 36, 14, 18, 30), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        mark_workbook(workbook, mark, self.name)
        return workbook_bytes(workbook)
