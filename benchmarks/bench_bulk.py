"""Reading a users workbook: the library's readers against a bare openpyxl read of the same file.

The workbook is laid out as Excel writes one (shared strings, a dimension),
with the Users sheet's columns. The baseline iterates openpyxl's read-only
rows and does nothing with them; each reader's time is given as a ratio to it.

    python benchmarks/bench_bulk.py --rows 10000 100000
"""

from __future__ import annotations

import argparse
import functools
import io
import resource
import sys
import tempfile
from datetime import date
from pathlib import Path

import openpyxl
from common import best, clock

from provisioning import (
    ActivateDomain,
    Actor,
    AddDomain,
    Context,
    CreateAccount,
    VerifyDomain,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.bulk import (
    CalamineReader,
    OpenpyxlReader,
    ReadLimits,
    WorkbookReader,
    apply_users,
    plan_users,
    read_workbook,
)


def workbook(rows: int) -> bytes:
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
                f"user{n}@acme.example",
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


def _tenant(path: Path | None) -> Context:
    dns = MemoryDns()
    ctx = Context.open(path, dns=dns) if path is not None else Context.in_memory(dns=dns)
    operator = Actor.platform()
    run(ctx, operator, CreateAccount(name="Acme", account_id="acme"))
    domain = run(
        ctx,
        operator,
        AddDomain(
            account_id="acme",
            name="acme.example",
            captcha_on_login=True,
            admin_email="it@h.example",
        ),
    )
    dns.publish("acme.example", domain.verification_token)
    run(ctx, operator, VerifyDomain(domain_id=domain.id))
    run(ctx, operator, ActivateDomain(domain_id=domain.id))
    return ctx


def _import(data: bytes, rows: int, floor: float) -> None:
    """read + plan (memory store), and read + plan + apply into SQLite, against the bare read."""
    limits = ReadLimits(max_rows=rows + 10)
    operator = Actor.platform()
    planned_in, _ = clock(lambda: plan_users(_tenant(None), operator, "acme", data, limits=limits))
    print(
        f"  read + plan, memory store {planned_in:6.2f} s = {planned_in / floor:.2f}x the bare read"
    )
    with tempfile.TemporaryDirectory() as folder:
        ctx = _tenant(Path(folder) / "bench.db")

        def everything() -> int:
            result = apply_users(ctx, plan_users(ctx, operator, "acme", data, limits=limits))
            return len(result.created)

        took, created = clock(everything)
        assert created == rows  # noqa: S101 - the benchmark measures a real import
        print(f"  read + plan + apply, SQLite {took:6.2f} s = {took / floor:.2f}x the bare read")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000])
    parser.add_argument("--users", type=int, help="ignored: the workflow benchmark's option")
    options = parser.parse_args()
    limits = ReadLimits(max_rows=max(options.rows) + 10)
    readers: list[WorkbookReader] = [CalamineReader(), OpenpyxlReader()]
    for rows in options.rows:
        data = workbook(rows)
        floor = best(functools.partial(bare_openpyxl, data), repeat=3)
        print(f"{rows:,} rows ({len(data) / 2**20:.1f} MB): bare openpyxl read {floor:.2f} s")
        for reader in readers:
            read = functools.partial(read_workbook, data, reader=reader, limits=limits)
            took = best(read, repeat=3)
            ratio = took / floor
            print(f"  read_workbook, {reader.name:<9} {took:6.2f} s = {ratio:.2f}x the bare read")
        _import(data, rows, floor)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
