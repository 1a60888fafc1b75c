"""The command line at a real terminal: its confirmation prompts and its progress bar.

Each test starts the console script on a pseudo-terminal (the standard
library's `pty`), as a person's shell would: standard input, output and
error are the terminal, so the prompts and the bar appear, and the test
types its answers into it.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest


def _has_pseudo_terminals() -> bool:
    try:
        main, child = pty.openpty()
    except OSError:  # a container without /dev/ptmx
        return False
    os.close(main)
    os.close(child)
    return True


pytestmark = pytest.mark.skipif(
    sys.platform == "win32" or not _has_pseudo_terminals(),
    reason="needs a POSIX pseudo-terminal",
)

SCRIPT = Path(sys.executable).parent / "provisioning"
WAIT = 60.0  # seconds a step may take on a busy machine before the test gives up


class Terminal:
    """The console script running on a pseudo-terminal: what it shows, and keys to type."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.main, child = pty.openpty()
        environment = dict(os.environ, COLUMNS="100", LINES="30", TERM="xterm")
        self.process = subprocess.Popen(
            [str(SCRIPT), *args],
            cwd=cwd,
            stdin=child,
            stdout=child,
            stderr=child,
            env=environment,
            start_new_session=True,
        )
        os.close(child)
        self.shown = b""

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.main], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.main, 65536)
        except OSError:  # the child has closed the terminal
            return False
        self.shown += chunk
        return bool(chunk)

    def wait_for(self, text: str) -> None:
        """Read what the terminal shows until `text` appears."""
        deadline = time.monotonic() + WAIT
        while text.encode() not in self.shown:
            assert time.monotonic() < deadline, f"{text!r} never shown: {self.shown[-500:]!r}"
            if not self._read(0.2) and self.process.poll() is not None:
                assert text.encode() in self.shown, f"{text!r} never shown: {self.shown!r}"

    def type(self, keys: str) -> None:
        os.write(self.main, keys.encode())

    def end(self) -> int:
        """Wait for the command to end; its exit code (all it showed is in `shown`)."""
        deadline = time.monotonic() + WAIT
        while self.process.poll() is None:
            assert time.monotonic() < deadline, f"still running: {self.shown[-500:]!r}"
            self._read(0.2)
        while self._read(0.05):
            pass
        os.close(self.main)
        return self.process.returncode

    @property
    def text(self) -> str:
        return self.shown.decode("utf-8", "replace")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = run(
        *("init", "--account", "Acme", "--domain", "acme.example"),
        *("--admin-email", "it@home.example", "--trust-domain"),
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    added = run("user", "add", "ann@acme.example", "--alternate-email", "a@home.ex", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    return tmp_path


def status(folder: Path, address: str) -> str:
    shown = run("--format", "json", "user", "show", address, cwd=folder)
    if shown.returncode != 0:
        return "gone"
    found: str = json.loads(shown.stdout)["status"]
    return found


def test_a_destructive_verb_asks_at_the_terminal_and_no_changes_nothing(folder: Path) -> None:
    declined = Terminal("user", "disable", "ann@acme.example", cwd=folder)
    declined.wait_for("Disable ann@acme.example? It can no longer sign in. [y/N]:")
    declined.type("n\r")
    assert declined.end() == 1
    assert "not confirmed; nothing was changed" in declined.text
    assert status(folder, "ann@acme.example") == "active"

    accepted = Terminal("user", "disable", "ann@acme.example", cwd=folder)
    accepted.wait_for("[y/N]:")
    accepted.type("y\r")
    assert accepted.end() == 0, accepted.text
    assert "user ann@acme.example: disabled" in accepted.text
    assert status(folder, "ann@acme.example") == "disabled"


def test_a_delete_asks_for_the_address_typed_again(folder: Path) -> None:
    mistyped = Terminal("user", "delete", "ann@acme.example", cwd=folder)
    mistyped.wait_for("Type ann@acme.example to confirm")
    mistyped.type("ann@acme.exampel\r")
    assert mistyped.end() == 1
    assert "not confirmed; nothing was changed" in mistyped.text
    assert status(folder, "ann@acme.example") == "active"

    typed = Terminal("user", "delete", "ann@acme.example", cwd=folder)
    typed.wait_for("Type ann@acme.example to confirm")
    typed.type("ann@acme.example\r")
    assert typed.end() == 0, typed.text
    assert status(folder, "ann@acme.example") == "gone"


def test_a_new_password_is_shown_at_the_terminal_once(folder: Path) -> None:
    reset = Terminal("user", "reset-password", "ann@acme.example", cwd=folder)
    reset.wait_for("[y/N]:")
    reset.type("y\r")
    assert reset.end() == 0, reset.text
    assert "shown this once" in reset.text
    audit = run("--format", "json", "audit", cwd=folder)
    password = reset.text.strip().splitlines()[-1].strip()
    assert len(password) >= 12
    assert password not in audit.stdout


def test_the_import_draws_its_progress_bar_on_the_terminal(folder: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Users"
    sheet.append(["First name", "Last name", "Email", "Alternate email"])
    for n in range(3000):
        sheet.append([f"Ada{n}", "Lee", f"ada{n}@acme.example", f"ada{n}@home.example"])
    book.save(folder / "users.xlsx")
    shown = Terminal("import", "users.xlsx", cwd=folder)
    assert shown.end() == 0, shown.text
    assert "checking" in shown.text  # the bar, drawn while the rows were checked
    assert "writing" in shown.text  # and while they were written
    assert "3000 created" in shown.text
    piped = run("import", "users.xlsx", "--dry-run", cwd=folder)
    assert "checking" not in piped.stderr  # no terminal, no bar
