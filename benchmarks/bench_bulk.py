"""Reading a users workbook: the library's readers against a bare openpyxl read of the same file.

The workbook is laid out as Excel writes one (shared strings, a dimension),
with the Users sheet's columns; each row asks for a personal mailbox. The
baseline iterates openpyxl's read-only rows and does nothing with them; each
reader's time, and each import's (read + plan, read + plan + apply into
SQLite and PostgreSQL), is given as a ratio to it. The peak memory of an
import into SQLite is measured in a process of its own.

    python benchmarks/bench_bulk.py --rows 10000 100000 [--postgres URL]
"""

from __future__ import annotations

import argparse
import functools
import io
import resource
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import openpyxl
from common import active_account, best, clock, empty_store, postgres, raw_rewrite, stored_keys

from provisioning import (
    Actor,
    Context,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.adapters.sql import SqlStore
from provisioning.bulk import (
    REPORT_COLUMNS,
    CalamineReader,
    OpenpyxlReader,
    ReadLimits,
    WorkbookReader,
    apply_users,
    plan_users,
    read_workbook,
    write_users_report,
)
from provisioning.bulk.importing import LARGE, PART
from provisioning.engine import collecting_less
from provisioning.engine._parallel import cores


def workbook(rows: int, domain: str = "acme.example") -> bytes:
    """A Users sheet of `rows` rows, written with shared strings as Excel writes them."""
    book = openpyxl.Workbook()  # not write-only: that one writes inline strings
    sheet = book.create_sheet("Users", 0)
    book.remove(book.worksheets[1])
    sheet.append(["First name", "Last name", "Email", "Personal mailbox", "Mobile", "Joined"])
    for n in range(rows):
        sheet.append(
            [
                f"First{n}",
                f"Last{n}",
                f"user{n}@{domain}",
                "Y",
                f"+4179{n:07d}",
                date(2026, 1, 5),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def bare_openpyxl(data: bytes) -> int:
    """The baseline: iterate every row openpyxl reads, keep nothing."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    count = sum(1 for _ in book["Users"].iter_rows(values_only=True))
    book.close()
    return count


def _tenant(where: str | None, domain_name: str = "acme.example") -> Context:
    dns = MemoryDns()
    if where is None:
        ctx = Context.in_memory(dns=dns)
    else:
        kind = "postgres" if where.startswith("postgresql") else "sqlite"
        ctx = Context(store=empty_store(kind, where), dns=dns)
    active_account(ctx, dns, "acme", domain_name, captcha_on_login=True)
    return ctx


def _imported(ctx: Context, data: bytes, rows: int, part_size: int | None = None) -> int:
    """read + plan + apply of the whole workbook: the users created."""
    limits = ReadLimits(max_rows=rows + 10)
    planned = plan_users(
        ctx, Actor.platform(), "acme", data, limits=limits, part_size=part_size, workers=None
    )
    return len(apply_users(ctx, planned).created)


def _import(data: bytes, rows: int, floor: float, url: str | None) -> None:
    """read + plan (memory store), and read + plan + apply into SQLite and PostgreSQL."""
    limits = ReadLimits(max_rows=rows + 10)
    operator = Actor.platform()
    ctx = _tenant(None)
    # `best` lets each plan go as soon as it is timed: a 100,000-row plan left alive would weigh
    # on every import measured after it.
    planned_in = best(
        lambda: plan_users(ctx, operator, "acme", data, limits=limits, workers=None), repeat=1
    )
    print(
        f"  read + plan, memory store {planned_in:6.2f} s = {planned_in / floor:.2f}x the bare read"
    )
    # Each import asks for every core, as the command line does (a library call stays in its
    # process unless asked). The other road, to compare: in parts (on every core) for a file
    # planned at once by default, and on one core for a file planned in parts.
    part_size, workers = (PART, None) if rows <= LARGE else (None, 1)
    took = best(
        lambda: plan_users(
            ctx, operator, "acme", data, limits=limits, part_size=part_size, workers=workers
        ),
        repeat=1,
    )
    road = (
        f"in parts of {PART:,} on {cores(ctx.store, None, rows)} cores"
        if rows <= LARGE
        else "on one core"
    )
    print(f"    the same {road} {took:6.2f} s = {took / floor:.2f}x")
    idn = _tenant(None, "bücher.example")
    accented = workbook(rows, "bücher.example")
    took = best(
        lambda: plan_users(idn, operator, "acme", accented, limits=limits, workers=None), repeat=1
    )
    print(f"    the same on an internationalised domain {took:6.2f} s = {took / floor:.2f}x")
    with tempfile.TemporaryDirectory() as folder:
        places = [("SQLite", str(Path(folder) / "bench.db"))]
        if url is not None:
            places.append(("PostgreSQL", url))
        for name, where in places:
            target = _tenant(where)
            assert isinstance(target.store, SqlStore)  # noqa: S101 - both places are SQL stores
            before = stored_keys(target.store)
            took, created = clock(functools.partial(_imported, target, data, rows))
            assert created == rows  # noqa: S101 - the benchmark measures a real import
            ratio = took / floor
            print(f"  read + plan + apply, {name:<10} {took:6.2f} s = {ratio:.2f}x the bare read")
            raw = raw_rewrite(target.store, before, postgres=name == "PostgreSQL")
            print(
                f"    a bare executemany of the rows it wrote {raw:6.2f} s = {raw / floor:.2f}x"
                f" the bare read; the import is {took / raw:.2f}x it"
            )
            if name == "SQLite" and rows <= LARGE:  # planned at once: in parts, to compare
                _in_parts(data, rows, floor, str(Path(folder) / "parts.db"))
            if name == "SQLite":
                _report(target, rows + 1)  # the super admin too
            target.store.close()


def _in_parts(data: bytes, rows: int, floor: float, where: str) -> None:
    target = _tenant(where)
    assert isinstance(target.store, SqlStore)  # noqa: S101 - an SQLite file
    took, created = clock(functools.partial(_imported, target, data, rows, PART))
    assert created == rows  # noqa: S101 - the benchmark measures a real import
    print(f"    the same in parts of {PART:,} users {took:6.2f} s = {took / floor:.2f}x")
    target.store.close()


def _report(ctx: Context, users: int) -> None:
    """The users report against a bare write-only workbook of as many rows and columns."""
    columns = len(REPORT_COLUMNS)

    def bare() -> None:
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("Users")
        for n in range(users + 1):
            sheet.append([f"value {n}"] * columns)
        book.save(io.BytesIO())

    floor = best(bare, repeat=1)
    took, written = clock(lambda: write_users_report(ctx, Actor.platform(), "acme", io.BytesIO()))
    assert written == users  # noqa: S101 - the benchmark measures a real report
    print(
        f"  users report of {users:,} users {took:6.2f} s = {took / floor:.2f}x"
        f" a bare write-only workbook of as many cells ({floor:.2f} s)"
    )


def _peak(data: bytes, rows: int) -> None:
    """The peak RSS of an import into SQLite, in a process that does nothing else."""
    with tempfile.TemporaryDirectory() as folder:
        book = Path(folder) / "users.xlsx"
        book.write_bytes(data)
        child = [sys.executable, __file__, "--peak-of", str(book), "--rows", str(rows)]
        found = subprocess.run(child, capture_output=True, text=True, check=True)  # noqa: S603
        print(f"  peak RSS of read + plan + apply into SQLite: {found.stdout.strip()} MB")


def _peak_of(book: Path, rows: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        ctx = _tenant(str(Path(folder) / "peak.db"))
        created = _imported(ctx, book.read_bytes(), rows)
    assert created == rows  # noqa: S101 - the benchmark measures a real import
    print(f"{_peak_rss_mb():.0f}")
    return 0


def _peak_rss_mb() -> float:
    """This process's peak resident memory since it started, in MB.

    Linux's VmHWM is the peak of this program's own memory; `ru_maxrss`
    keeps, across the exec that started it, the peak of the process it was
    forked from (here, a benchmark holding two large imports), so it is the
    fallback only where there is no /proc.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000])
    parser.add_argument("--users", type=int, help="ignored: the workflow benchmark's option")
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--peak-of", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.peak_of is not None:
        return _peak_of(options.peak_of, options.rows[0])
    limits = ReadLimits(max_rows=max(options.rows) + 10)
    readers: list[WorkbookReader] = [CalamineReader(), OpenpyxlReader()]
    # As the command line does (and an application may): large batches collect less often.
    with collecting_less(), postgres(options.postgres) as url:
        for rows in options.rows:
            data = workbook(rows)
            floor = best(functools.partial(bare_openpyxl, data), repeat=3)
            print(f"{rows:,} rows ({len(data) / 2**20:.1f} MB): bare openpyxl read {floor:.2f} s")
            for reader in readers:
                read = functools.partial(read_workbook, data, reader=reader, limits=limits)
                took = best(read, repeat=3)
                ratio = took / floor
                print(
                    f"  read_workbook, {reader.name:<9} {took:6.2f} s = {ratio:.2f}x the bare read"
                )
            _import(data, rows, floor, url)
            _peak(data, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
