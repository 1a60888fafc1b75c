"""Run the examples in README.md, docs/*.md and the library's docstrings under pytest."""

from __future__ import annotations

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser
from sybil.parsers.rest import DocTestParser
from sybil.sybil import SybilCollection

_docs = Sybil(parsers=[PythonCodeBlockParser(), SkipParser()], patterns=["*.md"], path="docs")
_readme = Sybil(parsers=[PythonCodeBlockParser()], filenames=["README.md"], path=".")
_docstrings = Sybil(parsers=[DocTestParser()], patterns=["*.py"], path="src")

pytest_collect_file = SybilCollection((_docs, _readme, _docstrings)).pytest()
