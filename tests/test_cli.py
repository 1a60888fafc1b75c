"""The `provisioning` command, run as a user runs it: the console script, in a subprocess."""

from __future__ import annotations

import email
import io
import json
import os
import re
import select
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import click
import openpyxl
import pytest
import sqlalchemy as sa
from alembic import command as alembic
from click.testing import CliRunner

from conftest import empty_postgres
from provisioning import bulk
from provisioning.adapters.sql import migrations
from provisioning.cli import _base as cli_base
from provisioning.cli import _demo, main
from provisioning.cli._reference import helps, reference

SCRIPT = Path(sys.executable).parent / "provisioning"


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The console script with `args`, in `cwd`: its exit code, stdout and stderr."""
    return subprocess.run(
        [str(SCRIPT), *map(str, args)], cwd=cwd, capture_output=True, text=True, check=False
    )


def users_workbook(path: Path, *rows: list[Any]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Users"
    sheet.append(["First name", "Last name", "Email", "Personal mailbox", "Alternate email"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def initialised(folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    done = cli(
        *extra,
        "init",
        "--account",
        "Acme",
        "--domain",
        "acme.example",
        "--admin-email",
        "it@home.example",
        "--trust-domain",
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_init_import_and_report_from_the_console_script(tmp_path: Path) -> None:
    done = initialised(tmp_path)
    assert "domain acme.example: active" in done.stdout
    assert "set-password link is in a message to it@home.example" in done.stdout
    assert "1 message(s) wait for delivery: provisioning deliver" in done.stderr
    assert (tmp_path / "provisioning.db").exists()  # the default store, made on first use
    assert cli("template", "template.xlsx", cwd=tmp_path).returncode == 0
    assert openpyxl.load_workbook(tmp_path / "template.xlsx").sheetnames[:3] == [
        "Roles",
        "Permissions",
        "Users",
    ]
    upload = users_workbook(
        tmp_path / "users.xlsx",
        ["Ann", "Lee", "ann@acme.example", "Y", "ann@home.example"],
        ["Bob", "Ng", "bob@acme.example", "maybe", None],
        ["Cy", "Ode", "cy@acme.example", None, "cy@home.example"],
    )
    refused = cli("import", upload, "--annotate", "annotated.xlsx", cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1  # one line, no traceback
    assert "nothing was changed" in refused.stderr
    assert "Users!D3" in refused.stdout  # the issues, located to their cells
    assert "Issues" in openpyxl.load_workbook(tmp_path / "annotated.xlsx").sheetnames
    applied = cli("--format", "json", "import", upload, "--policy", "skip-invalid", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    document = json.loads(applied.stdout)
    assert (document["created"], document["skipped"]) == (2, 1)
    assert ("Users!D3", "bulk.yes_no_invalid") in {
        (i["cell"], i["code"]) for i in document["issues"]
    }
    again = cli("--format", "json", "import", upload, "--dry-run", cwd=tmp_path)
    assert json.loads(again.stdout)["unchanged"] == 2  # idempotent
    assert cli("report", "report.csv", cwd=tmp_path).returncode == 0
    lines = (tmp_path / "report.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 4  # the header, the super admin, Ann and Cy
    listed = json.loads(cli("--format", "json", "users", "acme", cwd=tmp_path).stdout)
    assert listed["total"] == 3
    shown = json.loads(
        cli("--format", "json", "user", "show", "ann@acme.example", cwd=tmp_path).stdout
    )
    assert shown["username"] == "ann@acme.example"
    assert not any("hash" in key for key in shown["credentials"])  # no secret is exported


def _link_of(mail: Path) -> dict[str, str]:
    """The query of the set-password link in a delivered e-mail's plain text."""
    message = email.message_from_bytes(mail.read_bytes())
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = text.get_payload(decode=True)
    assert isinstance(payload, bytes)
    (link,) = re.findall(r"https://\S+", payload.decode())
    return {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}


def test_json_output_holds_no_secret(tmp_path: Path) -> None:
    people, folder = tmp_path / "people", tmp_path / "programs"
    people.mkdir()
    folder.mkdir()
    shown = initialised(people).stdout
    delivered = cli(
        "deliver", "--to-dir", "mail", "--links", "https://p.example/?token={token}", cwd=people
    )
    assert delivered.returncode == 0, delivered.stderr
    assert "1 delivered into mail" in delivered.stdout
    (mail,) = (people / "mail").glob("*.eml")
    token = _link_of(mail)["token"]
    assert token not in shown  # init never prints it
    document = initialised(folder, "--format", "json").stdout
    parsed = json.loads(document)
    assert parsed["super_admin_setup"]["sent_to"] == "it@home.example"
    assert "token" not in json.dumps(parsed["super_admin_setup"])
    for listing in (
        cli("--format", "json", "audit", cwd=people).stdout,
        cli("--format", "json", "messages", cwd=people).stdout,
        cli("messages", cwd=people).stdout,
    ):
        assert token not in listing
    assert json.loads(cli("--format", "json", "messages", cwd=people).stdout)["total"] == 1
    for user in json.loads(cli("--format", "json", "users", cwd=folder).stdout)["users"]:
        assert not any("hash" in key or "secret" in key for key in user)


def test_deliver_needs_one_way_out_and_keeps_a_smtp_password_out_of_its_errors(
    tmp_path: Path,
) -> None:
    initialised(tmp_path)
    neither = cli("deliver", cwd=tmp_path)
    assert neither.returncode == 2
    assert "--smtp" in neither.stderr
    refused = subprocess.run(
        [str(SCRIPT), "deliver"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PROVISIONING_SMTP_URL": "smtp://u:hunter2@127.0.0.1:9?tls=none"},
    )
    assert refused.returncode == 1  # the message waits; nothing else went wrong
    assert "hunter2" not in refused.stdout + refused.stderr
    assert "1 to be tried again" in refused.stdout
    assert "1 waiting (the next is due at" in refused.stdout
    failed = json.loads(
        cli("--format", "json", "messages", "--status", "pending", cwd=tmp_path).stdout
    )
    assert [m["attempts"] for m in failed["messages"]] == [1]
    assert "hunter2" not in json.dumps(failed)
    from provisioning import Context  # noqa: PLC0415 - a message no one can send, put in by hand
    from provisioning.model import Message  # noqa: PLC0415

    ctx = Context.open(tmp_path / "provisioning.db")
    with ctx.store.unit_of_work() as uow:
        uow.enqueue([Message(template="no.such.kind", to="a@x.example")], now=ctx.clock.now())
        uow.commit()
    ctx.store.close()  # type: ignore[attr-defined]
    given_up = cli("deliver", "--to-dir", "mail", cwd=tmp_path)
    assert "1 given up" in given_up.stdout
    listed = cli("--format", "json", "messages", "--status", "failed", cwd=tmp_path).stdout
    assert json.loads(listed)["messages"][0]["failure"].startswith("message.template_unknown")
    again = cli("deliver", "--to-dir", "mail", "--retry-failed", cwd=tmp_path)
    assert "1 given up" in again.stdout  # put back in line, and tried once more


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["import", "corrupt.xlsx"], 2, "spreadsheet.unreadable"),
        (["import", "missing.xlsx"], 2, "cannot be read"),
        (["import", "corrupt.xlsx", "--policy", "wrong"], 2, "Invalid value for '--policy'"),
        (["--account", "Globex", "users"], 2, "no account 'Globex'"),
        (["--as", "nobody@acme.example", "users"], 2, "--as: no user 'nobody@acme.example'"),
        (["user", "show", "ghost@acme.example"], 1, "no user 'ghost@acme.example'"),
        (["--store", "/nonexistent/folder/x.db", "users"], 2, "there is no store at"),
        (
            [
                "--store",
                "/nonexistent/folder/x.db",
                "init",
                "--account",
                "A",
                "--domain",
                "a.example",
                "--admin-email",
                "i@b.example",
            ],
            2,
            "cannot be used",
        ),
        (["--store", "postgresql://ann:sekret@127.0.0.1:1/x", "users"], 2, "ann:***@127.0.0.1"),
        (["--store", "postgresql://ann:sekret@db:port/x", "users"], 2, "store.url_invalid"),
    ],
)
def test_unusable_input_and_refusals_end_in_one_line_and_their_exit_code(
    tmp_path: Path, args: list[str], code: int, says: str
) -> None:
    initialised(tmp_path)
    (tmp_path / "corrupt.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "sekret" not in done.stderr + done.stdout  # a URL's password is never shown


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    initialised(tmp_path)
    (tmp_path / "corrupt.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    done = cli("--debug", "import", "corrupt.xlsx", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" in done.stderr


def test_python_dash_m_is_the_same_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "provisioning", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "init" in done.stdout
    assert "import" in done.stdout


def test_a_postgresql_store(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provisioning.security import AesGcmSealer  # noqa: PLC0415

    empty_postgres(postgres_url).close()
    monkeypatch.delenv("PROVISIONING_SEALING_KEY", raising=False)
    refused = cli("--store", postgres_url, "users", cwd=tmp_path)
    assert refused.returncode == 2
    assert "store.key_required" in refused.stderr
    monkeypatch.setenv("PROVISIONING_SEALING_KEY", AesGcmSealer.new_key())
    initialised(tmp_path, "--store", postgres_url)
    listed = cli("--store", postgres_url, "--format", "json", "domains", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (domain,) = json.loads(listed.stdout)["domains"]
    assert (domain["name"], domain["status"]) == ("acme.example", "active")
    assert not (tmp_path / "provisioning.db").exists()


def test_in_process_with_click_s_runner(tmp_path: Path) -> None:
    """The same group, in process: what an application embedding it would test."""
    runner = CliRunner()
    store = str(tmp_path / "p.db")
    init = ["--store", store, "init", "--account", "Acme", "--domain", "acme.example"]
    done = runner.invoke(main, [*init, "--admin-email", "it@home.example", "--trust-domain"])
    assert done.exit_code == 0, done.output
    users_workbook(tmp_path / "u.xlsx", ["Ann", "Lee", "ann@acme.example", "N", None])
    done = runner.invoke(main, ["--store", store, "import", str(tmp_path / "u.xlsx"), "--dry-run"])
    assert done.exit_code == 0, done.output
    assert "ready, 1 change(s) planned" in done.output
    audit = runner.invoke(main, ["--store", store, "--format", "json", "audit", "--limit", "2"])
    latest = [event["action"] for event in json.loads(audit.output)["events"]]
    assert latest == ["VerifyDomain", "ActivateDomain"]  # the latest two, oldest first
    later = runner.invoke(
        main, ["--store", store, "--format", "json", "audit", "--since", "2999-01-01"]
    )
    assert json.loads(later.output)["events"] == []


def _commands(group: click.Group, prefix: str = "provisioning") -> Iterator[tuple[str, str]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command.get_short_help_str(limit=200)


def test_the_cli_page_lists_every_command_with_its_own_help() -> None:
    page = (Path(__file__).parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    listed = {
        line.split("|")[1].strip().strip("`"): line.split("|")[2].strip()
        for line in page.splitlines()
        if line.startswith("| `provisioning ")
    }
    assert listed == dict(_commands(main))


def test_the_readmes_verbs_run_on_the_demos_store_as_written(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n(.*?)```", readme, flags=re.DOTALL)
    (verbs,) = [block for block in blocks if "PROVISIONING_STORE" in block]
    assert cli("demo", cwd=tmp_path).returncode == 0
    environment = dict(os.environ)
    for line in verbs.strip().splitlines():
        if line.startswith("export "):
            name, value = line.removeprefix("export ").split("=", 1)
            environment[name] = value
            continue
        words = line.split()
        assert words[0] == ".venv/bin/provisioning"
        done = subprocess.run(
            [str(SCRIPT), *words[1:]],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, (line, done.stderr)
    audit = cli("--store", "provisioning-demo/demo.db", "--format", "json", "audit", cwd=tmp_path)
    actions = [event["action"] for event in json.loads(audit.stdout)["events"]]
    assert actions[-3:] == ["AddDomain", "VerifyDomain", "UpdateUser"]


def test_the_reference_page_is_every_commands_help_as_it_prints_it() -> None:
    page = (Path(__file__).parent.parent / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    assert page == reference(main), (
        "docs/cli-reference.md is out of date: python -m provisioning.cli._reference"
        " docs/cli-reference.md"
    )


def test_every_commands_help_ends_with_examples_that_name_the_command() -> None:
    for path, text in helps(main):
        tail = text.rstrip().rsplit("Examples:", 1)
        assert len(tail) == 2, f"{path} --help has no examples"
        examples = [line.strip() for line in tail[1].splitlines() if line.strip()]
        assert 1 <= len(examples) <= 3, path
        assert all("provisioning" in line for line in examples), path
        if path != "provisioning" and not isinstance(_command_at(path), click.Group):
            assert all(path.removeprefix("provisioning ") in line for line in examples), path


def _command_at(path: str) -> click.Command:
    command: click.Command = main
    for name in path.split()[1:]:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def test_the_demo_runs_the_whole_job_and_says_where_everything_went(tmp_path: Path) -> None:
    done = cli("--format", "json", "demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    folder = tmp_path / "provisioning-demo"
    assert document["store"] == str(Path("provisioning-demo") / "demo.db")
    assert (document["created"], document["skipped"]) == (
        _demo.ROWS - 7,
        7,
    )  # clashes take both rows
    located = {(issue["cell"], issue["code"]) for issue in document["issues"]}
    assert {
        ("Users!C12", "username.invalid"),
        ("Users!D37", "bulk.yes_no_invalid"),
        ("Users!E58", "bulk.mobile_lost_digits"),
        ("Users!C81", "bulk.duplicate_row"),
        ("Users!G120", "bulk.address_twice"),
    } <= located
    assert {path.name for path in folder.iterdir()} >= {
        "demo.db",
        "users.xlsx",
        "users-annotated.xlsx",
        "users-report.xlsx",
    }
    report = openpyxl.load_workbook(folder / "users-report.xlsx")["Users"]
    assert (
        report.max_row == 1 + _demo.ROWS - 7 + 1
    )  # the header, the imported users, the super admin
    mails = sorted((folder / "mail").glob("*.eml"))
    assert len(mails) == document["delivered"] == _demo.ROWS - 7 + 1
    _open_a_welcome(folder, mails)
    again = cli("demo", cwd=tmp_path)  # a second demo starts afresh in the same folder
    assert again.returncode == 0, again.stderr
    assert "each issue on its cell" in again.stdout


def _open_a_welcome(folder: Path, mails: list[Path]) -> None:
    """One of the demo's welcome e-mails sets a password that signs its user in."""
    from provisioning import (  # noqa: PLC0415 - the library, as the e-mail's portal uses it
        Actor,
        Authenticate,
        CompletePasswordSetup,
        Context,
        queries,
        run,
    )

    link = _link_of(mails[-1])
    user_id, token = link["user"], link["token"]
    ctx = Context.open(folder / "demo.db")
    password = "correct horse battery staple 42"
    run(
        ctx,
        Actor.anonymous(),
        CompletePasswordSetup(
            user_id=user_id, token=token, password=password, password_repeat=password
        ),
    )
    username = str(queries.get_user(ctx, Actor.platform(), user_id).username)
    signed_in = run(ctx, Actor.anonymous(), Authenticate(username=username, password=password))
    assert signed_in.user_id == user_id
    ctx.store.close()  # type: ignore[attr-defined]


def test_the_example_workbook_is_the_demo_s() -> None:
    shipped = bulk.read_workbook(Path(__file__).parent.parent / "examples" / "users.xlsx")
    assert shipped.sheets == bulk.read_workbook(_demo.users_workbook()).sheets
    rows = shipped.sheet("Users")
    assert rows is not None
    assert len(rows.rows) == _demo.ROWS + 1
    assert set(_demo.MISTAKES) <= set(range(2, _demo.ROWS + 2))


@pytest.mark.parametrize(
    "command",
    [
        ("users",),
        ("domains",),
        ("audit",),
        ("messages",),
        ("report", "out.xlsx"),
        ("deliver", "--to-dir", "mail"),
    ],
)
def test_a_command_on_no_store_says_so_and_creates_none(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    done = cli(*command, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    said = (
        "provisioning: there is no store at 'provisioning.db': create one with"
        " `provisioning init`, or name another with --store"
    )
    assert done.stderr.strip().splitlines() == [said]
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # no empty database left behind


def test_only_db_upgrade_migrates_an_older_store(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'provisioning.db'}")
    with engine.begin() as sql:
        settings = migrations.config()
        settings.attributes["connection"] = sql
        alembic.upgrade(settings, "0003")
    engine.dispose()
    refused = cli("users", cwd=tmp_path)
    assert refused.returncode == 2
    assert "run `provisioning db upgrade` first" in refused.stderr
    upgraded = cli("--format", "json", "db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert json.loads(upgraded.stdout)["upgraded"] is True
    initialised(tmp_path)  # the store is current now


def test_a_terminal_gets_a_progress_bar_on_stderr_and_a_pipe_does_not(tmp_path: Path) -> None:
    initialised(tmp_path)
    upload = users_workbook(
        tmp_path / "users.xlsx",
        *([f"U{n}", "Lee", f"u{n}@acme.example", "N", None] for n in range(300)),
    )
    main_end, terminal = os.openpty()
    done = subprocess.run(
        [str(SCRIPT), "import", str(upload), "--dry-run"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
        check=False,
    )
    os.close(terminal)
    drawn = b""
    while select.select([main_end], [], [], 0.2)[0]:
        try:
            chunk = os.read(main_end, 65536)
        except OSError:  # the terminal's other end is closed
            break
        if not chunk:
            break
        drawn += chunk
    os.close(main_end)
    assert done.returncode == 0, drawn
    assert b"checking" in drawn
    piped = cli("import", upload, "--dry-run", cwd=tmp_path)
    assert "checking" not in piped.stderr


def test_the_progress_bar_draws_without_a_thread_so_a_large_dry_run_may_fork(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    before = threading.active_count()
    with cli_base.progress("checking") as update:
        assert update is not None
        for done in range(1, 4):
            update(done, 3)
        assert threading.active_count() == before
    assert "checking" in terminal.getvalue()


def test_a_long_list_of_issues_shows_the_errors_first_and_counts_the_rest(tmp_path: Path) -> None:
    initialised(tmp_path)
    upload = users_workbook(
        tmp_path / "users.xlsx",
        *([f"U{n}", "Lee", f"u{n}@acme.example", "N", None] for n in range(120)),
        ["Bad", "Row", "not an address", "N", None],
    )
    done = cli("import", upload, "--dry-run", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.index("username.invalid") < done.stdout.index("user.no_recovery")
    assert "... and 71 more (user.no_recovery x71)" in done.stdout  # 121 issues, 50 shown
    everything = json.loads(cli("--format", "json", "import", upload, cwd=tmp_path).stdout)
    assert len(everything["issues"]) == 121


def test_without_the_cli_extra_the_command_says_what_to_install() -> None:
    script = (
        "import sys\n"
        "sys.modules['click'] = None  # as if provisioning[cli] were not installed\n"
        "from provisioning.__main__ import console\n"
        "console()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "provisioning: the command line needs the extra `provisioning[cli]` (click)"
    )
    assert "Traceback" not in done.stderr


def test_import_reads_a_file_past_the_default_row_limit_only_when_told(tmp_path: Path) -> None:
    initialised(tmp_path)
    rows = "\n".join(f"U{n},Lee,u{n}@acme.example" for n in range(6))
    (tmp_path / "users.csv").write_text(f"First name,Last name,Email\n{rows}\n", encoding="utf-8")
    small = cli("import", "users.csv", "--dry-run", "--max-rows", "4", cwd=tmp_path)
    assert small.returncode == 2
    assert "spreadsheet.too_many_rows" in small.stderr
    enough = cli(
        "import", "users.csv", "--dry-run", "--max-rows", "7", "--annotate", "a.xlsx", cwd=tmp_path
    )
    assert enough.returncode == 0, enough.stderr
    assert "6 change(s) planned" in enough.stdout
    assert cli("import", "users.csv", "--max-rows", "0", cwd=tmp_path).returncode == 2


def test_output_into_a_pipe_its_reader_closes_ends_quietly(tmp_path: Path) -> None:
    initialised(tmp_path)
    rows = "".join(f"ada{n}@acme.example,Ada,Lee{n},ada{n}@home.example\n" for n in range(1500))
    upload = tmp_path / "users.csv"
    upload.write_text("Email,First name,Last name,Alternate email\n" + rows)
    assert cli("import", upload, cwd=tmp_path).returncode == 0
    for command, starts in (
        (("report", "-"), b"Email,"),
        (("users", "--limit", "2000", "--format", "ndjson"), b'{"id": '),
    ):
        writer = subprocess.Popen(  # as `provisioning report - | head -c 100`
            [str(SCRIPT), *command],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert writer.stdout is not None
        assert writer.stderr is not None
        assert writer.stdout.read(100).lstrip(b"\xef\xbb\xbf").startswith(starts)
        writer.stdout.close()  # more than a pipe holds is still to come: it meets a closed pipe
        with writer.stderr:
            said = writer.stderr.read().decode()
        assert writer.wait(timeout=60) == 141  # 128 + SIGPIPE, as a shell's writer ends
        assert said == ""
