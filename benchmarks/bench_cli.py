"""The command line's cost over the library's, each in a fresh process as a shell starts it.

Baselines, measured in the same run and interleaved with what they are
compared to (rounds in turn, the median of each):

- an interpreter that imports the library (`python -c "import provisioning"`);
- the same work done through the library in a fresh process: the user read
  by `find_user`, changed by `run(UpdateUser)`, and a document's commands
  built by `command_from`, planned and applied.

Against them: `provisioning --version`, `user show`, `user update`, and
`apply FILE` of a document of `--commands` new users. The ratios say what
the command line adds (click, rich, choosing the account and the actor,
printing) to the library's own work.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "provisioning"
Arguments = Callable[[int], list[str]]  # a command line for round n

LIBRARY_READ = """
import sys
from provisioning import Actor, Context, queries
ctx = Context.open(sys.argv[1], upgrade=False)
queries.find_user(ctx, Actor.platform(), "ann@acme.example")
"""

LIBRARY_UPDATE = """
import sys
from provisioning import Actor, Context, UpdateUser, queries, run
ctx = Context.open(sys.argv[1], upgrade=False)
ann = queries.find_user(ctx, Actor.platform(), "ann@acme.example")
run(ctx, Actor.platform(), UpdateUser(user_id=ann.id, version=ann.version, mobile=sys.argv[2]))
"""

LIBRARY_APPLY = """
import json, sys
import provisioning
from provisioning import Actor, Context, apply, command_from, plan
ctx = Context.open(sys.argv[1], upgrade=False)
commands = [
    command_from(getattr(provisioning, entry.pop("kind")), entry)
    for entry in json.loads(open(sys.argv[2]).read())
]
apply(ctx, plan(ctx, Actor.platform(), commands))
"""


def timed(arguments: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own console script and interpreter
        arguments, cwd=cwd, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{arguments[:3]} failed: {done.stderr}")
    return elapsed


def users_document(path: Path, account_id: str, start: int, count: int) -> Path:
    path.write_text(
        json.dumps(
            [
                {
                    "kind": "CreateUser",
                    "account_id": account_id,
                    "username": f"user{n}@acme.example",
                    "first_name": "User",
                    "last_name": str(n),
                    "alternate_email": f"user{n}@home.example",
                }
                for n in range(start, start + count)
            ]
        )
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=1000, help="commands in the document")
    parser.add_argument("--rounds", type=int, default=5)
    arguments, _ = parser.parse_known_args()  # `nox -s bench -- ...` passes every script its own
    folder = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    store = str(folder / "t.db")
    cli = [str(SCRIPT), "--store", store, "--as-operator"]
    python = [sys.executable, "-c"]
    timed(
        [
            *(str(SCRIPT), "--store", store, "init", "--account", "Acme"),
            *("--domain", "acme.example", "--admin-email", "it@home.example", "--trust-domain"),
        ],
        folder,
    )
    timed([*cli, "--account", "Acme", "user", "add", "ann@acme.example"], folder)
    account_id = json.loads(
        subprocess.run(  # noqa: S603 - our own console script
            [*cli, "--format", "json", "user", "show", "ann@acme.example"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )["account_id"]

    pairs: dict[str, tuple[Arguments, Arguments]] = {
        "start (--version vs import provisioning)": (
            lambda _: [str(SCRIPT), "--version"],
            lambda _: [*python, "import provisioning"],
        ),
        "user show vs find_user": (
            lambda _: [*cli, "user", "show", "ann@acme.example"],
            lambda _: [*python, LIBRARY_READ, store],
        ),
        "user update vs run(UpdateUser)": (
            lambda n: [*cli, "user", "update", "ann@acme.example", "--mobile", f"+4420794{n:05d}"],
            lambda n: [*python, LIBRARY_UPDATE, store, f"+4420795{n:05d}"],
        ),
    }
    measured: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in pairs}
    documents: tuple[list[float], list[float]] = ([], [])
    count = arguments.commands
    for round_ in range(arguments.rounds):
        for name, (command_line, library) in pairs.items():
            ours, theirs = measured[name]
            if round_ % 2:
                theirs.append(timed(library(round_), folder))
                ours.append(timed(command_line(round_), folder))
            else:
                ours.append(timed(command_line(round_), folder))
                theirs.append(timed(library(round_), folder))
        first = (2 * round_ + 1) * count
        ours_doc = users_document(folder / "ours.json", account_id, first, count)
        theirs_doc = users_document(folder / "theirs.json", account_id, first + count, count)
        documents[0].append(timed([*cli, "apply", str(ours_doc), "--format", "json"], folder))
        documents[1].append(timed([*python, LIBRARY_APPLY, store, str(theirs_doc)], folder))

    print(f"the command line against the library, {arguments.rounds} rounds, median seconds")
    print(f"{'what':<44} {'cli':>8} {'library':>8} {'ratio':>6}")
    for name, (ours, theirs) in measured.items():
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"{name:<44} {a:8.3f} {b:8.3f} {a / b:6.2f}")
    a, b = statistics.median(documents[0]), statistics.median(documents[1])
    name = f"apply FILE of {count:,} CreateUser vs plan+apply"
    print(f"{name:<44} {a:8.3f} {b:8.3f} {a / b:6.2f}")


if __name__ == "__main__":
    main()
