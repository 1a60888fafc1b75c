"""One rule, one place: each issue code is raised from exactly one module.

A code two modules raise is a rule written twice, which drifts (one copy
checks users only, the other mailboxes too). Stores may raise a rule's code
as well when a database constraint stands behind it (a unique index behind
`address.taken`): that is the safety net under the rule, not a second copy,
and so are the error classes, whose codes are their names.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

SOURCE = Path(__file__).parent.parent / "src" / "provisioning"
SAFETY_NET = ("adapters/", "storage/", "errors.py")
_CODE = re.compile(r"[a-z_]+\.[a-z_]+")
_MAKERS = {"error", "warning", "Issue"}


def _codes_made(tree: ast.AST) -> set[str]:
    """The issue codes a module makes: in `error(...)`, `warning(...)`, `Issue(...)` or `code=`."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        places: list[ast.AST] = [k.value for k in node.keywords if k.arg == "code"]
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name in _MAKERS and node.args:
            places.append(node.args[0])
        for place in places:
            found.update(
                value.value
                for value in ast.walk(place)
                if isinstance(value, ast.Constant)
                and isinstance(value.value, str)
                and _CODE.fullmatch(value.value)
            )
    return found


def _raised_from() -> dict[str, set[str]]:
    where: dict[str, set[str]] = defaultdict(set)
    for path in SOURCE.rglob("*.py"):
        module = path.relative_to(SOURCE).as_posix()
        if module.startswith(SAFETY_NET):
            continue
        for code in _codes_made(ast.parse(path.read_text(encoding="utf-8"))):
            where[code].add(module)
    return where


def test_each_issue_code_is_raised_from_one_module() -> None:
    where = _raised_from()
    assert len(where) > 150  # the scan itself works
    twice = {code: sorted(modules) for code, modules in where.items() if len(modules) > 1}
    assert twice == {}


def test_the_scan_sees_a_code_chosen_in_a_condition() -> None:
    tree = ast.parse('error("a.b" if x else "c.d", "m")\nIssue(code="e.f", message="m")')
    assert _codes_made(tree) == {"a.b", "c.d", "e.f"}
