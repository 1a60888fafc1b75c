from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import provisioning

MODULES = [
    "provisioning",
    "provisioning.commands",
    "provisioning.errors",
    "provisioning.model",
    "provisioning.ports",
    "provisioning.principals",
    "provisioning.queries",
    "provisioning.handlers",
    "provisioning.engine",
    "provisioning.adapters.memory",
    "provisioning.adapters.sql",
    "provisioning.adapters.system",
    "provisioning.scim",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_exactly_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n))
    public = {
        n
        for n, value in vars(module).items()
        if not n.startswith("_")
        and getattr(value, "__module__", name).startswith(name.rsplit(".", 1)[0])
        and not isinstance(value, type(sys))
        and n not in {"annotations", "TYPE_CHECKING"}
    }
    defined_here = {n for n in public if getattr(vars(module)[n], "__module__", None) == name}
    assert defined_here <= set(exported), defined_here - set(exported)
    for n in exported:
        assert hasattr(module, n)


def test_importing_has_no_side_effects() -> None:
    code = (
        "import logging, threading, sqlite3\n"
        "before = threading.active_count()\n"
        "import provisioning\n"
        "assert threading.active_count() == before\n"
        "assert not logging.getLogger('provisioning').handlers\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_the_package_is_typed() -> None:
    assert provisioning.__file__ is not None
    assert (Path(provisioning.__file__).parent / "py.typed").exists()
