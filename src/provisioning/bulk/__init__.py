"""Bulk provisioning from spreadsheets.

`read_workbook` reads a workbook or CSV file through a `WorkbookReader`
(python-calamine by default, openpyxl on request); a file that cannot be
used raises `SpreadsheetError`. `plan_users` makes a `CreateUser` of each
row of its Users sheet and plans them, every issue located to its cell;
`apply_users` writes the plan. `write_template`, `write_annotated` and
`write_users_report` write the workbooks an administrator fills, fixes and
reads.
"""

from provisioning.bulk._existing import FieldChange, RowChange
from provisioning.bulk._workbook import Cell, Sheet, Workbook
from provisioning.bulk.access import ACCOUNT_SHEET, GrantRow, grant_rows
from provisioning.bulk.files import (
    REPORT_COLUMNS,
    Destination,
    attach_reports,
    neutralised,
    write_annotated,
    write_template,
    write_users_report,
)
from provisioning.bulk.importing import (
    POLICIES,
    BulkResult,
    Policy,
    UsersImport,
    apply_users,
    plan_users,
)
from provisioning.bulk.readers import (
    CSV_SHEET,
    DEFAULT_LIMITS,
    CalamineReader,
    OpenpyxlReader,
    ReadLimits,
    Source,
    WorkbookReader,
    read_workbook,
    recognise,
)
from provisioning.bulk.users import COLUMNS, USERS_SHEET, Column, UserRow, UserRows, user_rows
from provisioning.errors import SpreadsheetError

__all__ = [
    "ACCOUNT_SHEET",
    "COLUMNS",
    "CSV_SHEET",
    "DEFAULT_LIMITS",
    "POLICIES",
    "REPORT_COLUMNS",
    "USERS_SHEET",
    "BulkResult",
    "CalamineReader",
    "Cell",
    "Column",
    "Destination",
    "FieldChange",
    "GrantRow",
    "OpenpyxlReader",
    "Policy",
    "ReadLimits",
    "RowChange",
    "Sheet",
    "Source",
    "SpreadsheetError",
    "UserRow",
    "UserRows",
    "UsersImport",
    "Workbook",
    "WorkbookReader",
    "apply_users",
    "attach_reports",
    "grant_rows",
    "neutralised",
    "plan_users",
    "read_workbook",
    "recognise",
    "user_rows",
    "write_annotated",
    "write_template",
    "write_users_report",
]
