"""The error-code page documents every code the library can report."""

from __future__ import annotations

import re
from pathlib import Path

from provisioning.model import PERMISSIONS

ROOT = Path(__file__).parent.parent
_PATTERNS = [
    re.compile(r'\b(?:error|warning)\(\s*"([a-z_]+\.[a-z_]+)"'),
    re.compile(r'\bcode="([a-z_]+\.[a-z_]+)"'),
    re.compile(r'Key\(\s*"[a-z_.]+", \w+, "([a-z_]+\.[a-z_]+)"[,)]'),
    re.compile(r'self\.code = "([a-z_]+\.[a-z_]+)"'),
]


def _codes_in_source() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "src" / "provisioning").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in _PATTERNS:
            codes.update(pattern.findall(text))
    return codes


def test_every_code_in_the_source_is_documented() -> None:
    documented = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", (ROOT / "docs" / "errors.md").read_text()))
    codes = _codes_in_source()
    assert len(codes) > 20  # the scan itself works
    assert codes - documented == set()


def test_every_permission_is_in_the_catalogue_page() -> None:
    page = (ROOT / "docs" / "access.md").read_text()
    missing = [name for name in PERMISSIONS if f"`{name}`" not in page]
    assert missing == []


def test_the_reference_names_public_paths_only() -> None:
    """A heading such as `provisioning.engine._input` would send readers to a private module."""
    page = (ROOT / "docs" / "reference.md").read_text()
    directives = re.findall(r"^::: (\S+)", page, flags=re.MULTILINE)
    assert len(directives) > 10
    assert [d for d in directives if any(part.startswith("_") for part in d.split("."))] == []
