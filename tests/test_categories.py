"""Every issue and error code has a category, declared beside where it is raised.

An edge (an HTTP application, SCIM, the command line) answers a code by its
category (`provisioning.errors.Category`) and keeps no table of its own. A
module declares the codes it raises in its `CODES`; the scan below finds
every code the package makes and checks that the module making it says what
kind of problem it is.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest

import provisioning
from provisioning import Conflict, Issue, NotFound, PermissionDenied, ValidationFailed, errors
from provisioning.errors import Category
from test_docs import _codes_in_source
from test_rules import SAFETY_NET, SOURCE, _codes_made


def _modules() -> dict[str, ModuleType]:
    found = {}
    for info in pkgutil.walk_packages(provisioning.__path__, "provisioning."):
        if info.name.startswith("provisioning.adapters.sql.migrations."):
            continue  # Alembic's scripts run only under Alembic
        found[info.name] = importlib.import_module(info.name)
    return found


MODULES = _modules()


def _module_of(path: Path) -> ModuleType:
    relative = path.relative_to(SOURCE).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return MODULES[".".join(("provisioning", *parts))] if parts else provisioning


def _keyed(tree: ast.AST) -> set[str]:
    """The codes a module's unique keys raise: `Key(namespace, value, "x.taken")`."""
    return {
        node.args[2].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", "") == "Key"
        and len(node.args) > 2
        and isinstance(node.args[2], ast.Constant)
        and isinstance(node.args[2].value, str)
    }


def _made() -> dict[str, set[str]]:
    """Each module's relative path, with the codes it makes."""
    made = {}
    for path in SOURCE.rglob("*.py"):
        module = path.relative_to(SOURCE).as_posix()
        if "/migrations/" in module and not module.endswith("migrations/__init__.py"):
            continue  # Alembic's scripts
        tree = ast.parse(path.read_text("utf-8"))
        made[module] = _codes_made(tree) | _keyed(tree)
    return made


def test_every_code_the_package_makes_has_a_category() -> None:
    codes = _codes_in_source() | {code for made in _made().values() for code in made}
    assert len(codes) > 180  # the scans themselves work
    undeclared = sorted(
        code for code in codes if code not in errors._CATEGORIES and not code.endswith(".not_found")
    )
    assert undeclared == []


def test_a_code_is_declared_by_the_module_that_raises_it() -> None:
    made = _made()
    by_rules: dict[str, set[str]] = defaultdict(set)  # made outside the safety net
    for module, codes in made.items():
        if not module.startswith(SAFETY_NET):
            for code in codes:
                by_rules[code].add(module)
    for module, codes in made.items():
        own = codes
        if module.startswith(SAFETY_NET) and module != "errors.py":
            own = {code for code in codes if code not in by_rules}  # the rule declares those
        declared = getattr(_module_of(SOURCE / module), "CODES", {})
        assert own <= set(declared), f"{module} raises codes it does not declare"
        if module != "errors.py":  # the error classes' codes are made by `self.code = ...`
            assert set(declared) <= own, f"{module} declares codes it never raises"


def test_every_category_is_explained_in_the_errors_page() -> None:
    page = (SOURCE.parent.parent / "docs" / "errors.md").read_text(encoding="utf-8")
    assert [category for category in Category if f"`{category}`" not in page] == []


@pytest.mark.parametrize(
    ("raised", "category"),
    [
        (NotFound(entity="user", key="u-1"), Category.NOT_FOUND),
        (NotFound(entity="support relationship", key="r-1"), Category.NOT_FOUND),
        (PermissionDenied(actor="user:u-1", permission="users.read", account_id="a"), "denied"),
        (Conflict(code="version.stale", entity="user", key="u-1"), Category.STALE),
        (Conflict(code="address.taken", entity="user", key="ann@acme.example"), "conflict"),
        (ValidationFailed(issues=[Issue(code="email.invalid", message="")]), "invalid"),
    ],
    ids=lambda value: type(value).__name__,
)
def test_an_error_says_its_category(raised: provisioning.ProvisioningError, category: str) -> None:
    assert raised.category == category


def test_an_issue_says_its_category_whatever_its_severity() -> None:
    taken = Issue(code="domain.taken", message="")
    assert taken.category is Category.CONFLICT
    weak = Issue(code="domain.security_weak", message="", severity=provisioning.Severity.WARNING)
    assert weak.category is Category.ADVICE
    assert Issue(code="no.such_code", message="").category is Category.INTERNAL


def test_a_code_declared_twice_must_be_declared_alike() -> None:
    from provisioning.errors import codes  # noqa: PLC0415

    assert codes(conflict=("domain.taken",)) == {"domain.taken": Category.CONFLICT}
    with pytest.raises(ValueError, match="declared conflict already"):
        codes(invalid=("domain.taken",))
