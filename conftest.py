"""Run the examples in docs/*.md and in the library's docstrings under pytest."""

from __future__ import annotations

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser
from sybil.parsers.rest import DocTestParser

_docs = Sybil(parsers=[PythonCodeBlockParser(), SkipParser()], patterns=["*.md"], path="docs")
_docstrings = Sybil(parsers=[DocTestParser()], patterns=["*.py"], path="src")

pytest_collect_file = (_docs + _docstrings).pytest()
