"""`provisioning plan`, `apply` and `commands`: any command of the library, as a JSON document."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

import provisioning
from provisioning import Actor, Command, Context, queries
from provisioning.cli import main
from provisioning.cli._documents import KINDS
from provisioning.engine import command_fields

SECRET_WORDS = ("Sekret-Passw0rd-991", "otpauth://", "password_hash", "argon2")


@pytest.fixture
def store(tmp_path: Path) -> list[str]:
    """The options naming a store with the account Acme, its domain active."""
    options = ["--store", str(tmp_path / "t.db")]
    made = CliRunner().invoke(
        main,
        [
            *options,
            *("init", "--account", "Acme", "--domain", "acme.example"),
            *("--admin-email", "it@home.example", "--trust-domain"),
        ],
    )
    assert made.exit_code == 0, made.output
    return options


def invoke(*args: str | Path, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, [str(arg) for arg in args], input=stdin)


def document(folder: Path, commands: object, name: str = "doc.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(commands), encoding="utf-8")
    return path


def account_id(store: list[str]) -> str:
    ctx = Context.open(store[1], upgrade=False)
    try:
        (account,) = queries.accounts(ctx, Actor.platform()).items
        return account.id
    finally:
        ctx.store.close()  # type: ignore[attr-defined]


def one_line_error(done: Result) -> None:
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("provisioning: ")
    assert "Traceback" not in done.output


# -- every command, one road --------------------------------------------------------------------


def _placeholder(name: str, type_: str, account: str) -> object:  # noqa: PLR0911 - one per type
    """A value of the field's type: enough for the command to be built and reach its handler."""
    if type_.startswith("a list of"):
        return []
    if type_.startswith("a whole number"):
        return 1
    if type_.startswith("true or false"):
        return False
    if type_.startswith("one of "):
        return type_.removeprefix("one of ").split(",")[0].strip().strip("'")
    if name == "account_id":
        return account
    if any(part in name for part in ("username", "email", "address")):
        return "someone@acme.example"
    return "x"


def test_every_command_of_the_library_is_reachable_through_apply(
    tmp_path: Path, store: list[str]
) -> None:
    exported = {
        name
        for name in provisioning.__all__
        if isinstance(kind := getattr(provisioning, name), type)
        and issubclass(kind, Command)
        and kind is not Command
    }
    assert set(KINDS) == exported
    assert len(exported) >= 60
    assert all(field.name != "kind" for kind in KINDS.values() for field in command_fields(kind))
    account = account_id(store)
    commands = [
        {"kind": name}
        | {
            field.name: _placeholder(field.name, field.type, account)
            for field in command_fields(kind)
            if field.required
        }
        for name, kind in KINDS.items()
    ]
    done = invoke(
        *store, "--as-operator", "apply", document(tmp_path, commands), "--format", "json"
    )
    assert done.exit_code in (0, 1), done.output
    report = json.loads(done.stdout)
    assert report["commands"] == len(KINDS)
    assert report["kinds"] == dict.fromkeys(KINDS, 1)
    unbuilt = [
        (commands[issue["command"]]["kind"], issue["code"])
        for issue in report["issues"]
        if issue["code"].startswith(("command.", "value."))
    ]
    assert unbuilt == []  # every command was built from its document and planned by its handler


def test_a_document_of_an_operators_commands_is_applied_in_one_transaction(
    tmp_path: Path, store: list[str]
) -> None:
    commands = [
        {"kind": "CreateAccount", "name": "Parent", "account_id": "parent"},
        {
            "kind": "AddDomain",
            "account_id": "parent",
            "name": "parent.example",
            "admin_email": "boss@home.example",
        },
        {"kind": "CreateClassOfService", "account_id": "parent", "name": "std", "quota_mb": 512},
    ]
    path = document(tmp_path, commands)
    refused = invoke(*store, "apply", path)  # the super admin of Acme may not
    assert refused.exit_code == 1
    assert "permission.denied" in refused.output
    nothing = invoke(*store, "--as-operator", "--account", "Parent", "domains")
    assert "no account 'Parent' in this store" in nothing.stderr
    applied = invoke(*store, "--as-operator", "apply", path, "--format", "json")
    assert applied.exit_code == 0, applied.output
    results = json.loads(applied.stdout)["results"]
    assert [row["kind"] for row in results] == [
        "CreateAccount",
        "AddDomain",
        "CreateClassOfService",
    ]
    assert results[2]["result"]["quota_mb"] == 512
    listed = invoke(*store, "--account", "Parent", "--as-operator", "--format", "json", "domains")
    assert [d["name"] for d in json.loads(listed.stdout)["domains"]] == ["parent.example"]
    events = invoke(*store, "--account", "Parent", "--as-operator", "audit", "--format", "json")
    assert {event["actor"] for event in json.loads(events.stdout)["events"]} == {
        "platform:operator"
    }


def test_drop_failing_applies_what_holds_and_lists_what_it_left_out(
    tmp_path: Path, store: list[str]
) -> None:
    commands: list[Any] = [
        {"kind": "CreateRole", "name": "helpdesk", "role_id": "r-help"},
        {"kind": "CreateUsr", "username": "x@acme.example"},  # no such kind
        {"kind": "CreateUser", "username": "ann@acme.example", "user_id": "u-ann"},
        {"kind": "CreateUser", "username": "ann@acme.example"},  # taken by the one above
        {"kind": "AddRoleMember", "role_id": "r-help", "user_id": "u-ann"},
        {"kind": "AddRoleMember", "role_id": "r-help", "user_id": "u-nobody"},
    ]
    path = document(tmp_path, commands)
    assert invoke(*store, "apply", path).exit_code == 1  # without it: nothing is changed
    preview = invoke(*store, "apply", path, "--drop-failing", "--dry-run", "--format", "json")
    assert preview.exit_code == 0, preview.output
    assert invoke(*store, "--format", "json", "roles").stdout.count("helpdesk") == 0
    done = invoke(*store, "apply", path, "--drop-failing", "--format", "json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert [row["command"] for row in report["results"]] == [0, 2, 4]
    assert [(i["command"], i["code"]) for i in report["left_out"]] == [
        (1, "command.kind_unknown"),
        (3, "address.taken"),
        (5, "user.not_found"),
    ]
    text = invoke(*store, "apply", path, "--drop-failing")  # again: all but the user are taken
    assert "Left out" in text.stdout
    assert "command(s) applied" in text.stderr + text.stdout


def test_a_commands_account_is_the_chosen_one_when_the_document_leaves_it_out(
    tmp_path: Path, store: list[str]
) -> None:
    path = document(tmp_path, [{"kind": "CreateRole", "name": "helpdesk"}])
    assert invoke(*store, "apply", path).exit_code == 0
    again = invoke(*store, "apply", path, "--format", "json")
    assert again.exit_code == 1
    assert [i["code"] for i in json.loads(again.stdout)["issues"]] == ["role.name_taken"]


def test_every_issue_of_a_document_is_reported_at_once_with_its_position(
    tmp_path: Path, store: list[str]
) -> None:
    commands: list[Any] = [
        {"kind": "CreateRole", "name": "helpdesk"},
        {"kind": "CreateUsr", "username": "x@acme.example"},
        ["not", "a", "command"],
        {"username": "no-kind@acme.example"},
        {"kind": "CreateUser", "username": "bob@acme.example", "bogus": 1},
        {"kind": "CreateUser"},
        {"kind": "CreateClassOfService", "name": "std", "features": "imap"},
        {"kind": "UpdateUser", "user_id": "nobody", "version": 1},
    ]
    done = invoke(*store, "plan", document(tmp_path, commands), "--format", "json")
    assert done.exit_code == 1
    found = {(i["command"], i["code"], i["field"]) for i in json.loads(done.stdout)["issues"]}
    assert found >= {
        (1, "command.kind_unknown", "kind"),
        (2, "command.invalid", None),
        (3, "command.kind_missing", "kind"),
        (4, "value.unknown_field", "bogus"),
        (5, "value.missing", "username"),
        (6, "value.type", "features"),
        (7, "user.not_found", None),
    }
    assert "did you mean CreateUser?" in done.stdout
    assert "8 blocking issue(s)" not in done.stderr  # the count is of issues, said once
    text = invoke(*store, "plan", document(tmp_path, commands))
    assert "command 4" in text.stdout
    assert "bogus" in text.stdout
    one_line_error(text)
    assert invoke(*store, "--format", "json", "roles-that-do-not-exist").exit_code == 2


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "holds no command"),
        (b"   \n", "holds no command"),
        (b"[{]", "not JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b'{"kind": "CreateRole"}\n{oops}\n', "line 2: not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"[" + b"9" * 5000 + b"]", "holds a value it cannot"),
        (b'"a string"', "a document is a list of commands"),
        (b'{"commands": "CreateRole"}', "`commands` is a list"),
        (b'{"format": "provisioning-plan/9", "commands": []}', "this version reads"),
    ],
)
def test_a_document_that_is_not_one_is_unusable_input_in_one_line(
    tmp_path: Path, store: list[str], content: bytes, says: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    for verb in ("plan", "apply"):
        done = invoke(*store, verb, path)
        assert done.exit_code == 2, done.output
        assert says in done.stderr
        one_line_error(done)


def test_too_many_commands_are_refused_before_any_is_built(
    tmp_path: Path, store: list[str]
) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text('{"kind": "CreateRole", "name": "r"}\n' * 100_001, encoding="utf-8")
    done = invoke(*store, "plan", path)
    assert done.exit_code == 2
    assert "more than 100,000: split it" in done.stderr


def test_json_lines_from_standard_input(store: list[str]) -> None:
    lines = '{"kind": "CreateRole", "name": "a"}\n\n{"kind": "CreateRole", "name": "b"}\n'
    planned = invoke(*store, "plan", "-", stdin=lines)
    assert planned.exit_code == 0, planned.output
    assert "standard input: ok, 2 command(s) planned" in planned.stdout
    applied = invoke(*store, "apply", "-", "--format", "json", stdin=lines)
    assert json.loads(applied.stdout)["applied"] == 2


# -- saved plans ----------------------------------------------------------------------------------


def test_a_saved_plan_is_applied_by_its_principal_while_fresh_and_unaltered(
    tmp_path: Path, store: list[str]
) -> None:
    invoke(*store, "user", "add", "ann@acme.example", "--alternate-email", "ann@home.example")
    path = document(tmp_path, [{"kind": "CreateRole", "name": "helpdesk"}])
    saved = tmp_path / "plan.json"
    planned = invoke(*store, "plan", path, "--out", saved)
    assert planned.exit_code == 0, planned.output
    header = json.loads(saved.read_text())
    assert header["format"] == "provisioning-plan/1"
    assert header["commands"][0]["account_id"] == account_id(store)

    other = invoke(*store, "--as", "ann@acme.example", "apply", saved)
    assert other.exit_code == 2
    assert "apply it as the same principal" in other.stderr

    altered = tmp_path / "altered.json"
    altered.write_text(saved.read_text().replace("helpdesk", "admins"))
    assert "altered after it was planned" in invoke(*store, "apply", altered).stderr

    stale = tmp_path / "stale.json"
    old = datetime.now(UTC) - timedelta(minutes=16)
    stale.write_text(json.dumps(header | {"planned_at": old.isoformat()}))
    too_old = invoke(*store, "apply", stale, "--format", "json")
    assert too_old.exit_code == 1
    assert json.loads(too_old.stdout)["error"] == "plan.too_old"

    ahead = tmp_path / "ahead.json"
    later = datetime.now(UTC) + timedelta(hours=1)
    ahead.write_text(json.dumps(header | {"planned_at": later.isoformat()}))
    assert invoke(*store, "apply", ahead).exit_code == 2

    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps(header | {"store": "other.db"}))
    assert "another store" in invoke(*store, "apply", elsewhere).stderr

    assert "helpdesk" not in invoke(*store, "audit").stdout  # nothing of it was applied yet
    applied = invoke(*store, "apply", saved)
    assert applied.exit_code == 0, applied.output
    again = invoke(*store, "apply", saved)  # checked again against the store as it is now
    assert again.exit_code == 1
    assert "role.name_taken" in again.output


def test_a_plan_that_is_not_ok_or_holds_a_secret_is_never_saved(
    tmp_path: Path, store: list[str]
) -> None:
    saved = tmp_path / "plan.json"
    refused = invoke(*store, "plan", document(tmp_path, [{"kind": "DeleteUser", "user_id": "x"}]))
    assert refused.exit_code == 1
    assert not saved.exists()
    secret = [
        {
            "kind": "CreateUser",
            "username": "lee@acme.example",
            "password": SECRET_WORDS[0],
            "password_repeat": SECRET_WORDS[0],
        }
    ]
    done = invoke(*store, "plan", document(tmp_path, secret), "--out", saved)
    assert done.exit_code == 2
    assert "never written to a file" in done.stderr
    assert not saved.exists()
    assert SECRET_WORDS[0] not in done.output


def test_applying_never_prints_a_secret_and_says_what_it_withheld(
    tmp_path: Path, store: list[str]
) -> None:
    made = invoke(
        *store,
        "apply",
        document(
            tmp_path,
            [
                {
                    "kind": "CreateUser",
                    "username": "lee@acme.example",
                    "password": SECRET_WORDS[0],
                    "password_repeat": SECRET_WORDS[0],
                }
            ],
        ),
        "--format",
        "json",
    )
    assert made.exit_code == 0, made.output
    lee = json.loads(made.stdout)["results"][0]["result"]["id"]
    for kind in ("EnrollMfa", "ResetPassword"):
        done = invoke(
            *store,
            "apply",
            document(tmp_path, [{"kind": kind, "user_id": lee}]),
            "--format",
            "json",
        )
        assert done.exit_code == 0, done.output
        json.loads(done.stdout)
        assert "returned a secret" in done.stderr
        for word in SECRET_WORDS:
            assert word not in done.output
        assert "secret" not in json.loads(done.stdout)["results"][0]["result"]


# -- the kinds and their fields -------------------------------------------------------------------


def test_the_kinds_and_their_fields_are_listed_from_the_classes() -> None:
    listed = invoke("commands", "--format", "json")
    assert listed.exit_code == 0
    kinds = {entry["kind"]: entry for entry in json.loads(listed.stdout)["commands"]}
    assert set(kinds) == set(KINDS)
    fields = {f["name"]: f for f in kinds["CreateUser"]["fields"]}
    assert fields["username"] == {
        "name": "username",
        "type": "text",
        "required": True,
        "secret": False,
        "default": None,
    }
    assert fields["password"]["secret"]
    assert fields["aliases"]["type"] == "a list of text"
    one = invoke("commands", "UpdateUser")
    assert "user_id" in one.stdout
    assert "unchanged" in one.stdout
    lines = invoke("commands", "--format", "ndjson").stdout.splitlines()
    assert len(lines) == len(KINDS)
    assert all(json.loads(line)["kind"] in KINDS for line in lines)
    csv = invoke("commands", "--format", "csv").stdout.splitlines()
    assert csv[0].startswith("kind,summary,fields")
    unknown = invoke("commands", "CreateUsr")
    assert unknown.exit_code == 2
    assert "did you mean CreateUser?" in unknown.stderr


def test_the_schema_checks_a_document_as_the_command_line_reads_it(
    tmp_path: Path, store: list[str]
) -> None:
    printed = invoke("commands", "--schema")
    assert printed.exit_code == 0
    schema = json.loads(printed.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    check = jsonschema.Draft202012Validator(schema)
    page = (Path(__file__).parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```json\n(.*?)```", page, flags=re.DOTALL)
    documented = json.loads(example)
    assert list(check.iter_errors(documented)) == []  # the page's example, account_id left out
    assert list(check.iter_errors({"commands": documented})) == []
    applied = invoke(*store, "apply", document(tmp_path, documented))
    assert applied.exit_code == 0, applied.output  # the page's example works as it stands
    for wrong in (
        [{"kind": "CreateUsr", "username": "x@acme.example"}],
        [{"kind": "CreateUser"}],
        [{"kind": "CreateUser", "username": "x@acme.example", "bogus": 1}],
        [{"kind": "CreateClassOfService", "name": "std", "features": "imap"}],
        [{"kind": "UpdateUser", "user_id": "u", "version": 0}],
        [{"kind": "CreateRole", "name": "r", "scope": "galaxy"}],
        [{"kind": "CreateUser", "username": "x" * 321}],
    ):
        assert list(check.iter_errors(wrong)), wrong
        assert invoke(*store, "plan", document(tmp_path, wrong)).exit_code == 1  # so does plan


def test_a_document_reaching_into_another_tenant_learns_nothing(
    tmp_path: Path, store: list[str]
) -> None:
    other = [
        {"kind": "CreateAccount", "name": "Other", "account_id": "other"},
        {
            "kind": "AddDomain",
            "account_id": "other",
            "name": "other.example",
            "admin_email": "boss@home.example",
        },
    ]
    assert invoke(*store, "--as-operator", "apply", document(tmp_path, other)).exit_code == 0
    boss = json.loads(
        invoke(
            *store, "--as-operator", "--format", "json", "user", "show", "postmaster@other.example"
        ).stdout
    )
    reaching = [
        {
            "kind": "UpdateUser",
            "user_id": boss["id"],
            "version": boss["version"],
            "first_name": "X",
        },
        {"kind": "CreateUser", "account_id": "other", "username": "spy@other.example"},
        {"kind": "DeleteUser", "user_id": boss["id"]},
    ]
    done = invoke(
        *store, "--account", "Acme", "plan", document(tmp_path, reaching), "--format", "json"
    )
    assert done.exit_code == 1
    codes = [issue["code"] for issue in json.loads(done.stdout)["issues"]]
    assert set(codes) <= {"user.not_found", "account.not_found", "permission.denied"}, codes
    assert "postmaster@other.example" not in done.stdout
    assert "boss@home.example" not in done.stdout
    after = invoke(
        *store, "--as-operator", "--format", "json", "user", "show", "postmaster@other.example"
    )
    assert json.loads(after.stdout)["version"] == boss["version"]
