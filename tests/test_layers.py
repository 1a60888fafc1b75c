"""The import contract: the package's layers import downwards only.

Read from the top: the edges (the command line, the workbook import, SCIM,
the testing kit) over the package's front (`provisioning`), over `bootstrap`, over the read-only
`queries`, over the `engine` (plan and apply), over the `handlers`, over the
`rules`, over the vocabulary they share (commands, results, principals,
security, ports), over `storage`, over the `model`, over `errors`. A module
may import its own package and any layer below its own, never one above or
beside it. The adapters are named by `bootstrap`, the command line and the
testing kit only; no handler imports another; and no module imports itself
back through others.

Imports under `if TYPE_CHECKING:` name types for the checker and run
nothing, so they are not edges here (an error names the `Outcome` it
carries that way).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SOURCE = Path(__file__).parent.parent / "src" / "provisioning"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("provisioning.__main__",),
    ("provisioning.cli",),
    ("provisioning.bulk", "provisioning.testing", "provisioning.scim"),
    ("provisioning",),
    ("provisioning.bootstrap",),
    ("provisioning.adapters",),
    ("provisioning.queries",),
    ("provisioning.engine",),
    ("provisioning.handlers",),
    ("provisioning.rules",),
    ("provisioning.commands",),
    ("provisioning.results", "provisioning.principals", "provisioning.security"),
    ("provisioning.ports",),
    ("provisioning.storage",),
    ("provisioning.model",),
    ("provisioning.errors",),
)
"""Top to bottom. Packages on one line may not import each other."""

ADAPTERS_NAMED_BY = ("provisioning.bootstrap", "provisioning.cli", "provisioning.testing")


def _module(path: Path) -> str:
    parts = ("provisioning", *path.relative_to(SOURCE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str:
    """The layer package a module belongs to (`provisioning` itself is the front)."""
    return ".".join(module.split(".")[:2])


def _rank(module: str) -> tuple[int, str]:
    package = _package(module)
    for rank, names in enumerate(LAYERS):
        if package in names:
            return rank, package
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS")


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, module: str, *, package: bool) -> Iterator[str]:
    """The provisioning modules a module imports when it runs."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking(node):
            continue
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "provisioning")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + package]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] != "provisioning":
                continue
            # `from provisioning.adapters.sql import migrations` imports a module, not the package
            yield from (f"{base}.{a.name}" for a in node.names)
        else:
            yield from _imported(node, module, package=package)


def _graph() -> dict[str, set[str]]:
    raw: dict[str, set[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        module = _module(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        raw[module] = set(_imported(tree, module, package=path.name == "__init__.py"))

    def known(name: str) -> str:
        """The module `name` names (`provisioning.Actor` is the front, `provisioning`)."""
        while name not in raw:
            name = name.rpartition(".")[0]
        return name

    return {module: {known(name) for name in names} for module, names in raw.items()}


GRAPH = _graph()


def test_the_scan_sees_the_package() -> None:
    assert len(GRAPH) > 90
    assert "provisioning.storage._tables" in GRAPH["provisioning.storage._overlay"]
    assert "provisioning.engine" in GRAPH["provisioning.bulk.importing"]


def test_every_module_is_in_a_layer() -> None:
    for module in GRAPH:
        _rank(module)


def _upward(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, imported in graph.items():
        rank, package = _rank(module)
        for target in imported:
            their_rank, their_package = _rank(target)
            if their_package != package and their_rank <= rank:
                found.append(f"{module} -> {target}")
    return found


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for start, imported in graph.items():
        seen: set[str] = set()
        todo = list(imported)
        while todo:
            current = todo.pop()
            if current == start:
                found.append(start)
                break
            if current not in seen:
                seen.add(current)
                todo.extend(graph.get(current, ()))
    return found


def _sideways(graph: dict[str, set[str]]) -> list[str]:
    handlers = {m for m in graph if m.startswith("provisioning.handlers.")}
    return [
        f"{module} -> {target}"
        for module in handlers
        for target in graph[module]
        if target in handlers or target == "provisioning.handlers"
    ]


def test_each_layer_imports_only_its_own_package_and_the_layers_below() -> None:
    assert _upward(GRAPH) == []


def test_the_adapters_are_named_by_the_composition_root_only() -> None:
    naming = {
        module
        for module, imported in GRAPH.items()
        if any(_package(t) == "provisioning.adapters" for t in imported)
        and _package(module) != "provisioning.adapters"
    }
    assert naming, "the scan itself works: bootstrap names the adapters"
    assert {_package(m) for m in naming} <= set(ADAPTERS_NAMED_BY)


def test_no_handler_imports_another() -> None:
    assert len([m for m in GRAPH if m.startswith("provisioning.handlers.")]) > 10
    assert _sideways(GRAPH) == []


def test_no_module_imports_itself_back() -> None:
    assert _cycles(GRAPH) == []


def test_a_breach_of_the_contract_is_seen() -> None:
    """Each check reports the edge that breaks it, added here to a copy of the graph."""
    breached = {module: set(imported) for module, imported in GRAPH.items()}
    breached["provisioning.rules.credentials"].add("provisioning.handlers.users")
    breached["provisioning.handlers.phones"].add("provisioning.handlers.users")
    breached["provisioning.model"].add("provisioning.model._entities")
    breached["provisioning.model._entities"].add("provisioning.model")
    assert _upward(breached) == ["provisioning.rules.credentials -> provisioning.handlers.users"]
    assert _sideways(breached) == ["provisioning.handlers.phones -> provisioning.handlers.users"]
    assert set(_cycles(breached)) >= {"provisioning.model", "provisioning.model._entities"}
