"""Bulk provisioning from spreadsheets: reading workbooks into sheets of plain values.

`read_workbook` reads a workbook or CSV file through a `WorkbookReader`
(python-calamine by default, openpyxl on request); a file that cannot be
used raises `SpreadsheetError`.
"""

from provisioning.bulk._workbook import Cell, Sheet, Workbook
from provisioning.bulk.readers import (
    CSV_SHEET,
    CalamineReader,
    OpenpyxlReader,
    ReadLimits,
    Source,
    WorkbookReader,
    read_workbook,
    recognise,
)
from provisioning.exceptions import SpreadsheetError

__all__ = [
    "CSV_SHEET",
    "CalamineReader",
    "Cell",
    "OpenpyxlReader",
    "ReadLimits",
    "Sheet",
    "Source",
    "SpreadsheetError",
    "Workbook",
    "WorkbookReader",
    "read_workbook",
    "recognise",
]
