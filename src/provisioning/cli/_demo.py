"""The demo's workbook: a couple of hundred users of acme.example, and a few deliberate mistakes.

`examples/users.xlsx` is this workbook as written by `users_workbook()`; the
test-suite checks that the two read alike.
"""

from __future__ import annotations

import io
from typing import Final

import openpyxl

__all__ = ["DOMAIN", "MISTAKES", "ROWS", "users_workbook"]

DOMAIN: Final = "acme.example"
ROWS: Final = 200
"""How many user rows the workbook has, mistakes included."""

_FIRST: Final = (
    "Ada", "Ben", "Chloé", "Dev", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kofi", "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
)  # fmt: skip
_LAST: Final = (
    "Adams", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ito",
    "Jensen",
)  # fmt: skip

MISTAKES: Final = {
    12: "the email has no @",
    37: "'maybe' is neither Y nor N",
    58: "the mobile was saved as a number and lost its leading 0",
    81: "the same email as row 80, in other letters",
    120: "an alias that is row 121's email",
}
"""Sheet row -> the mistake on it (the header is row 1)."""


def _row(number: int) -> list[object]:
    """The cells of sheet row `number` (2 to ROWS + 1)."""
    n = number - 2
    first, last = _FIRST[n % len(_FIRST)], _LAST[n // len(_FIRST) % len(_LAST)]
    email = f"{first.lower()}.{last.lower()}{n}@{DOMAIN}".replace("é", "e").replace("í", "i")
    mailbox = "Y" if n % 3 else "N"
    mobile: object = f"+41 79 {n:03d} {n % 100:02d} {n % 97:02d}"
    aliases = ""
    if number == 12:  # noqa: PLR2004 - the rows MISTAKES names
        email = email.replace("@", " at ")
    elif number == 37:  # noqa: PLR2004
        mailbox = "maybe"
    elif number == 58:  # noqa: PLR2004
        mobile = 791234567
    elif number == 81:  # noqa: PLR2004
        email = str(_row(80)[2]).upper()
    elif number == 120:  # noqa: PLR2004
        aliases = str(_row(121)[2])
    return [first, last, email, mailbox, mobile, f"{first.lower()}@home.example", aliases]


def users_workbook() -> bytes:
    """The demo's Users sheet, laid out as the import template has it."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has one sheet
    sheet.title = "Users"
    sheet.append(
        [
            "First name",
            "Last name",
            "Email [Required]",
            "Personal mailbox",
            "Mobile",
            "Alternate email",
            "Aliases",
        ]
    )
    for number in range(2, ROWS + 2):
        sheet.append(_row(number))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
