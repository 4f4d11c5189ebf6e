"""python-calamine (pyo3-file companion; mixed layout): read a sheet from a file object."""

import io

import openpyxl
from python_calamine import CalamineWorkbook

wb = openpyxl.Workbook()
wb.active.title = "S"
wb.active.append(["name", "n"])
wb.active.append(["a", 2])
buf = io.BytesIO()
wb.save(buf)
buf.seek(0)
book = CalamineWorkbook.from_filelike(buf)
assert book.sheet_names == ["S"], book.sheet_names
assert book.get_sheet_by_name("S").to_python() == [["name", "n"], ["a", 2.0]]
