"""The one entry point for checks: `nox -s tests lint typecheck docs bench`."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.11", "3.12", "3.13"]


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test-suite, the docs' examples and the docstring examples."""
    session.install("-e", ".[tests]")
    session.run("pytest", *session.posargs, env={"HYPOTHESIS_PROFILE": "ci"})


@nox.session(python=PYTHON)
def tests_matrix(session: nox.Session) -> None:
    """The test-suite on every supported Python that is installed (missing ones are skipped)."""
    session.install("-e", ".[tests]")
    session.run("pytest", "-q", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff's linter and formatter check."""
    session.install("ruff>=0.8")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the library, tests, benchmarks, examples and this file."""
    session.install("-e", ".[typecheck]")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site; warnings are errors."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks; pass options after `--`, e.g. `nox -s bench -- --users 100000`."""
    session.install("-e", ".[tests]")  # aiosmtpd: the delivery benchmark's SMTP server
    for script in sorted(Path("benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
