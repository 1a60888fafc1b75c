"""A throwaway PostgreSQL server for the test-suite: initdb into a temporary folder, a socket there.

Used when `PROVISIONING_TEST_POSTGRES` names no server. The server listens on
a Unix socket only (no TCP), trusts local connections, skips fsync (its data
is thrown away), and is stopped and deleted at the end of the session.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import attrs

PORT = 54329


def _bindir() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


@attrs.define
class Server:
    """A running server and how to reach and stop it."""

    folder: Path
    bindir: Path
    user: str | None

    @property
    def url(self) -> str:
        return f"postgresql://provisioning@/postgres?host={self.folder}&port={PORT}"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> Server | None:
    """Start a server, or None when PostgreSQL is not installed here."""
    bindir = _bindir()
    if bindir is None:
        return None
    folder = Path(tempfile.mkdtemp(prefix="provisioning-pg-"))
    user = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        user = "postgres"
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    server = Server(folder=folder, bindir=bindir, user=user)
    data = str(folder / "data")
    try:
        server._run(
            "initdb", "-D", data, "-A", "trust", "-U", "provisioning", "--no-sync", "-E", "UTF8"
        )
        options = (
            f"-k {folder} -p {PORT} -c listen_addresses='' -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        server._run("pg_ctl", "-D", data, "-o", options, "-l", f"{folder}/log", "-w", "start")
    except (subprocess.SubprocessError, OSError, KeyError):
        server.stop()
        return None
    return server
