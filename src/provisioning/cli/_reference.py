"""The command line's reference page, written from the commands' own `--help`.

`python -m provisioning.cli._reference docs/cli-reference.md` writes it; the
test suite writes it again and compares, so the page and `--help` never
drift apart.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import click
from click.testing import CliRunner

__all__ = ["WIDTH", "helps", "reference"]

WIDTH: Final = 100
"""The terminal width the help is rendered at (as `COLUMNS=100 provisioning ... --help`)."""


def helps(main: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(command path, its `--help` text) of `main` and of each subcommand, depth first.

    Each text is what `provisioning ... --help` prints at a terminal `WIDTH` wide.
    """
    command = main
    for name in path:
        assert isinstance(command, click.Group)  # noqa: S101 - a path of group names
        command = command.commands[name]
    shown = CliRunner().invoke(
        main,
        [*path, "--help"],
        terminal_width=WIDTH - 2,  # as click leaves two of a terminal's columns free
        max_content_width=WIDTH,
        prog_name="provisioning",
    )
    yield " ".join(("provisioning", *path)), shown.output
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from helps(main, (*path, name))


_INTRODUCTION: Final = """# Command reference

Every command's `--help`, as it prints it at a terminal 100 columns wide.
This page is written from it (`python -m provisioning.cli._reference
docs/cli-reference.md`), and the test suite checks that the two agree. See
[The command line](cli.md) for a tour.
"""


def reference(main: click.Command) -> str:
    """The reference page: every command's help, as `--help` prints it."""
    parts = [_INTRODUCTION]
    for name, text in helps(main):
        parts.append(f"\n## `{name}`\n\n```text\n{text.rstrip()}\n```\n")
    return "".join(parts)


if __name__ == "__main__":
    from provisioning.cli import main as _main

    Path(sys.argv[1]).write_text(reference(_main), encoding="utf-8")
