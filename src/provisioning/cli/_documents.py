"""Any command, as a document: `provisioning plan`, `provisioning apply`, `provisioning commands`.

A document is JSON: a list of commands, `{"commands": [...]}`, or JSON
Lines (one command a line). A command is an object with its `kind` (the
class's name, as `provisioning commands` lists them) and its fields, built
with `command_from`, so every command the library has is reachable through
the same road with no change here:

    [{"kind": "CreateRole", "name": "helpdesk", "permissions": ["users.read"]},
     {"kind": "VerifyDomain", "domain_id": "..."}]

A command with an `account_id` field that the document leaves out gets the
chosen account's (`--account`, or the store's only one).

`plan --out plan.json` saves a plan that is ok, to be applied later by
`apply plan.json`: as the same principal, on the same store, and while it is
fresh (`Context.fresh_for`, 15 minutes by default). A saved plan holds the
commands and never a secret: a document with a password or a code is
applied directly, never saved.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import attrs
import click

import provisioning
from provisioning import (
    Actor,
    Command,
    Context,
    Issue,
    ValidationFailed,
    apply,
    command_from,
    plan,
)
from provisioning.adapters.sql import redacted
from provisioning.cli._base import (
    REFUSED,
    UNUSABLE,
    Failure,
    Here,
    Options,
    close,
    examples,
    input_name,
    issue_document,
    issues_table,
    listed,
    open_store,
    output,
    print_json,
    read_input,
    reported,
    say,
    table,
    waiting_note,
)
from provisioning.engine import command_fields, json_schema
from provisioning.errors import codes
from provisioning.model import SECRET, Account
from provisioning.model._converter import to_export

__all__ = ["DOCUMENTS", "KINDS"]

CODES: Final = codes(
    invalid=(
        "command.invalid",
        "command.kind_missing",
        "command.kind_unknown",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

KINDS: Final[Mapping[str, type[Command[Any]]]] = {
    name: kind
    for name in sorted(provisioning.__all__)
    if isinstance(kind := getattr(provisioning, name), type)
    and issubclass(kind, Command)
    and kind is not Command
}
"""Every command of the library, by the name a document gives as its `kind`."""

PLAN_FORMAT: Final = "provisioning-plan/1"
"""What a saved plan's `format` says; another is refused."""

LARGEST_DOCUMENT: Final = 64 * 1024 * 1024
MOST_COMMANDS: Final = 100_000
_SHOWN_RESULTS: Final = 50
_CLOCK_SLACK: Final = timedelta(minutes=1)  # a plan saved by a clock a little ahead


@attrs.frozen
class _Document:
    """What a file held: its commands' entries, and the saved plan's header if it is one."""

    entries: list[object]
    saved: Mapping[str, Any] | None


def _parsed(data: bytes, name: str) -> _Document:
    """The entries of a JSON document or of JSON Lines; unusable input is exit 2."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Failure(f"{name}: not UTF-8 text (byte {error.start})", UNUSABLE) from None
    if not text.strip():
        raise Failure(f"{name}: holds no command", UNUSABLE)
    try:
        document = _json(text)
    except json.JSONDecodeError as error:
        if error.msg != "Extra data":
            raise Failure(
                f"{name}: not JSON: {error.msg} at line {error.lineno}, column {error.colno}",
                UNUSABLE,
            ) from None
        document = _lines(text, name)
    if isinstance(document, list):
        return _Document(entries=document, saved=None)
    if isinstance(document, dict) and "commands" in document:
        commands = document["commands"]
        if not isinstance(commands, list):
            raise Failure(f"{name}: `commands` is a list of commands", UNUSABLE)
        saved = document if "format" in document else None
        if saved is not None and saved.get("format") != PLAN_FORMAT:
            raise Failure(
                f"{name}: a saved plan of format {saved.get('format')!r}; this version reads"
                f" {PLAN_FORMAT!r}",
                UNUSABLE,
            )
        return _Document(entries=commands, saved=saved)
    if isinstance(document, dict) and "kind" in document:
        return _Document(entries=[document], saved=None)
    raise Failure(
        f'{name}: a document is a list of commands, {{"commands": [...]}}, or JSON Lines',
        UNUSABLE,
    )


def _json(text: str) -> object:
    """`json.loads`, with what it cannot hold (too deep, a number too long) said in one line."""
    try:
        return json.loads(text)
    except RecursionError:
        raise Failure("the document is nested too deeply", UNUSABLE) from None
    except ValueError as error:
        if isinstance(error, json.JSONDecodeError):
            raise
        raise Failure(f"the document holds a value it cannot: {error}", UNUSABLE) from None


def _lines(text: str, name: str) -> list[object]:
    """JSON Lines: one JSON value on each line that is not blank."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(_json(line))
        except json.JSONDecodeError as error:
            raise Failure(
                f"{name}: line {number}: not JSON: {error.msg} at column {error.colno}", UNUSABLE
            ) from None
    return entries


@attrs.frozen
class _Built:
    """A document's commands: those that could be built, where they were, and the issues."""

    commands: list[Command[Any]]
    positions: list[int]
    kinds: list[str]
    issues: list[Issue]
    entries: list[dict[str, Any]]


def _built(entries: Sequence[object], account: Account | None) -> _Built:
    """Each entry as a command of its kind; what cannot be one is an `Issue` at its position."""
    if len(entries) > MOST_COMMANDS:
        raise Failure(
            f"the document has {len(entries):,} commands, more than {MOST_COMMANDS:,}: split it",
            UNUSABLE,
        )
    built = _Built(commands=[], positions=[], kinds=[], issues=[], entries=[])
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            built.kinds.append("?")
            built.issues.append(
                Issue(
                    code="command.invalid",
                    message="a command is an object: its kind and its fields",
                    command=index,
                )
            )
            continue
        name = entry.get("kind")
        kind = KINDS.get(name) if isinstance(name, str) else None
        built.kinds.append(name[:80] if isinstance(name, str) else "?")
        if kind is None:
            built.issues.append(_unknown(name, index))
            continue
        fields = {key: value for key, value in entry.items() if key != "kind"}
        if account is not None and "account_id" not in fields and _takes_account(kind):
            fields["account_id"] = account.id
        try:
            command = command_from(kind, fields)
        except ValidationFailed as failed:
            built.issues.extend(issue.at(index) for issue in failed.issues)
            continue
        built.commands.append(command)
        built.positions.append(index)
        built.entries.append({"kind": name} | fields)
    return built


def _takes_account(kind: type) -> bool:
    return "account_id" in attrs.fields_dict(kind)


def _unknown(name: object, index: int) -> Issue:
    if not isinstance(name, str):
        return Issue(
            code="command.kind_missing",
            message="each command names its kind: see `provisioning commands`",
            field="kind",
            command=index,
        )
    close_to = difflib.get_close_matches(name, list(KINDS), n=1)
    hint = f" (did you mean {close_to[0]}?)" if close_to else ": see `provisioning commands`"
    return Issue(
        code="command.kind_unknown",
        message=f"no command is called {name[:80]!r}{hint}",
        field="kind",
        command=index,
    )


def _digest(entries: Sequence[object]) -> str:
    canonical = json.dumps(entries, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _has_secret(commands: Sequence[Command[Any]]) -> bool:
    return any(
        getattr(command, field.name) not in (None, "")
        for command in commands
        for field in command_fields(type(command))
        if field.secret
    )


# -- the plan and its issues --------------------------------------------------------------------


@attrs.frozen
class _Planned:
    built: _Built
    planned: provisioning.Plan | None
    issues: list[Issue]
    left_out: list[Issue] = attrs.Factory(list)
    """With `--drop-failing`: the blocking issues of the commands left out."""

    @property
    def applied_positions(self) -> list[int]:
        """The position in the document of each command the plan holds."""
        kept = None if self.planned is None else self.planned.kept
        positions = self.built.positions
        return positions if kept is None else [positions[i] for i in kept]

    @property
    def ok(self) -> bool:
        return not any(issue.blocking for issue in self.issues)


def _plan_document(
    ctx: Context,
    actor: Actor,
    document: _Document,
    account: Account | None,
    *,
    drop_failing: bool = False,
) -> _Planned:
    """Plan every command that could be built; every issue, at its position in the document.

    With `drop_failing`, the entries that are no command and the commands
    refused are left out (`_Planned.left_out`), and the rest planned again.
    """
    built = _built(document.entries, None if document.saved is not None else account)
    planned = (
        plan(ctx, actor, built.commands, drop_failing=drop_failing) if built.commands else None
    )

    def placed(found: Sequence[Issue]) -> list[Issue]:
        return [i if i.command is None else i.at(built.positions[i.command]) for i in found]

    issues = list(built.issues)
    left_out: list[Issue] = []
    if drop_failing:
        left_out = [issue for issue in issues if issue.blocking and issue.command is not None]
        issues = [issue for issue in issues if issue not in left_out]
    if planned is not None:
        issues += placed(planned.issues)
        left_out += placed(planned.dropped)
    for found in (issues, left_out):
        found.sort(key=lambda issue: (issue.command is None, issue.command or 0))
    return _Planned(built=built, planned=planned, issues=issues, left_out=left_out)


def _summary(name: str, done: _Planned) -> dict[str, Any]:
    return {
        "file": name,
        "ok": done.ok,
        "commands": len(done.built.kinds),
        "kinds": dict(Counter(done.built.kinds)),
        "errors": sum(issue.blocking for issue in done.issues),
        "warnings": sum(not issue.blocking for issue in done.issues),
        "issues": [issue_document(issue) for issue in done.issues],
    }


def _show_issues(options: Options, done: _Planned) -> None:
    if done.issues and not options.json:
        issues_table(done.issues, kinds=done.built.kinds)


def _show_left_out(options: Options, done: _Planned) -> None:
    if done.left_out and not options.json:
        issues_table(done.left_out, kinds=done.built.kinds, title="Left out")


def _refuse_unless_ok(name: str, done: _Planned, document: Mapping[str, Any]) -> None:
    if not done.ok:
        errors = sum(issue.blocking for issue in done.issues)
        raise Failure(f"{name}: {errors} blocking issue(s); nothing was changed", REFUSED, document)


def _load(file: Path) -> tuple[str, _Document]:
    name = input_name(file)
    return name, _parsed(read_input(file, largest=LARGEST_DOCUMENT), name)


# -- the commands -------------------------------------------------------------------------------


@click.command(
    name="plan",
    epilog=examples(
        "provisioning plan changes.json",
        "provisioning plan changes.json --out plan.json && provisioning apply plan.json",
    ),
)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan, if it is ok, for `provisioning apply` to write while it is fresh.",
)
@output("text", "json")
def plan_command(options: Options, file: Path, out: Path | None) -> None:
    """Check the commands of the document FILE (`-`: standard input); change nothing.

    Every issue is printed at once, located to its command and field. Exit 0
    when the plan is ok (warnings allowed), 1 when an issue blocks it.
    """
    with reported(options):
        name, document = _load(file)
        ctx = open_store(options)
        try:
            here = Here(ctx, options)
            actor, account = here.actor, here.some_account  # documents may span accounts
            done = _plan_document(ctx, actor, document, account)
            if out is not None and _has_secret(done.built.commands):
                raise Failure(
                    "a plan holding a password or a code is never written to a file:"
                    " apply the document itself; nothing was saved",
                    UNUSABLE,
                )
            summary = _summary(name, done)
            _show_issues(options, done)
            _refuse_unless_ok(name, done, summary)
            if out is not None:
                saved = _save(ctx, options, actor=actor, account=account, done=done, out=out)
                summary |= {"saved": str(out), "fresh_until": saved}
        finally:
            close(ctx)
        fresh = f"; saved to {out}, to apply until {summary['fresh_until']}" if out else ""
        say(
            options,
            summary,
            f"{name}: ok, {summary['commands']} command(s) planned,"
            f" {summary['warnings']} warning(s){fresh}",
        )


def _save(
    ctx: Context,
    options: Options,
    *,
    actor: Actor,
    account: Account | None,
    done: _Planned,
    out: Path,
) -> str:
    """Write the plan to `out`; return until when it may be applied."""
    assert done.planned is not None  # an ok plan of at least one command  # noqa: S101
    planned_at = done.planned.planned_at
    fresh_until = (planned_at + ctx.fresh_for).isoformat(timespec="seconds")
    saved = {
        "format": PLAN_FORMAT,
        "planned_at": planned_at.isoformat(),
        "fresh_until": fresh_until,
        "store": redacted(options.store),
        "account": None if account is None else account.id,
        "actor": str(actor),
        "digest": _digest(done.built.entries),
        "warnings": [issue_document(issue) for issue in done.issues],
        "commands": done.built.entries,
    }
    text = json.dumps(saved, indent=2, ensure_ascii=False, default=str) + "\n"
    try:
        if out.is_symlink() or (out.exists() and not out.is_file()):
            raise Failure(f"{out} is not a regular file: it is not replaced", UNUSABLE)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise Failure(f"{out} cannot be written: {exc.strerror or exc}", UNUSABLE) from exc
    return fresh_until


def _check_saved(ctx: Context, options: Options, actor: Actor, saved: Mapping[str, Any]) -> None:
    """A saved plan is applied as planned: unaltered, by its principal, on its store, fresh."""
    if _digest(saved.get("commands", [])) != saved.get("digest"):
        raise Failure("the saved plan was altered after it was planned: plan it again", UNUSABLE)
    if saved.get("actor") != str(actor):
        raise Failure(
            f"the plan was made by {saved.get('actor')}; apply it as the same principal", UNUSABLE
        )
    if saved.get("store") != redacted(options.store):
        raise Failure("the plan was made on another store", UNUSABLE)
    try:
        planned_at = datetime.fromisoformat(str(saved.get("planned_at")))
    except ValueError:
        raise Failure("the saved plan has no valid planned_at", UNUSABLE) from None
    now = ctx.clock.now()
    if planned_at.tzinfo is None or planned_at > now + _CLOCK_SLACK:
        raise Failure("the saved plan's planned_at is not a time before now", UNUSABLE)
    if now - planned_at > ctx.fresh_for:
        raise Failure(
            f"plan.too_old: planned at {planned_at:%Y-%m-%d %H:%M:%S} UTC, more than"
            f" {ctx.fresh_for} ago; plan it again",
            REFUSED,
            {"error": "plan.too_old", "planned_at": planned_at.isoformat()},
        )


@click.command(
    name="apply",
    epilog=examples(
        "provisioning apply changes.json",
        "provisioning plan changes.json --out plan.json && provisioning apply plan.json",
        "generate-changes | provisioning apply - --format json",
    ),
)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Plan and report; change nothing (as `plan`).")
@click.option(
    "--drop-failing",
    is_flag=True,
    help="Leave out the commands that fail, and apply the rest (those left out are listed).",
)
@output("text", "json")
def apply_command(
    options: Options,
    file: Path,
    dry_run: bool,  # noqa: FBT001 - a flag
    drop_failing: bool,  # noqa: FBT001 - a flag
) -> None:
    """Plan the commands of FILE (a document or a saved plan) and apply them in one transaction.

    Nothing is changed unless the whole plan is ok; with --drop-failing, the
    commands that fail (and those relying on them) are left out and listed,
    and the rest is applied, still in one transaction. A saved plan is
    applied only by the principal that made it, on its store, while it is
    fresh; it is checked again against the store as it is now.
    """
    with reported(options):
        name, document = _load(file)
        ctx = open_store(options)
        try:
            here = Here(ctx, options)
            actor, account = here.actor, here.some_account  # documents may span accounts
            if document.saved is not None:
                _check_saved(ctx, options, actor, document.saved)
            done = _plan_document(ctx, actor, document, account, drop_failing=drop_failing)
            summary = _summary(name, done) | {"dry_run": dry_run}
            if drop_failing:
                summary["left_out"] = [issue_document(issue) for issue in done.left_out]
            _show_issues(options, done)
            _show_left_out(options, done)
            _refuse_unless_ok(name, done, summary)
            if dry_run or done.planned is None:
                say(options, summary, f"{name}: ok, {summary['commands']} command(s) planned")
                return
            outcome = apply(ctx, done.planned)
            positions = done.applied_positions
            results = [
                {"command": position, "kind": kind_of, "result": to_export(result)}
                for position, kind_of, result in zip(
                    positions,
                    (type(command).__name__ for command in done.planned.commands),
                    outcome.results,
                    strict=True,
                )
            ]
            summary |= {"applied": len(results), "results": results}
            if not options.json:
                _results_table(results)
            dropped = len({issue.command for issue in done.left_out})
            left = f", {dropped} left out" if drop_failing else ""
            say(options, summary, f"{name}: {len(results)} command(s) applied{left}")
            _withheld(outcome.results, positions)
            waiting_note(ctx)
        finally:
            close(ctx)


_SHOWN_BY: Final = {
    "ApiClientIssued": "`provisioning client add` and `client rotate` show a client's token",
    "": "`provisioning user reset-password` shows a new password",
}
"""Which verb shows the secret a kind of result holds, once."""


def _withheld(results: Sequence[object], positions: Sequence[int]) -> None:
    """Say on stderr which results held a secret this output leaves out (and what shows it)."""
    for position, result in zip(positions, results, strict=True):
        kind = type(result)
        if attrs.has(kind) and any(field.metadata.get(SECRET) for field in attrs.fields(kind)):
            click.echo(
                f"provisioning: command {position} returned a secret ({kind.__name__}) that is"
                f" never printed here: {_SHOWN_BY.get(kind.__name__, _SHOWN_BY[''])}",
                err=True,
            )


def _results_table(results: Sequence[Mapping[str, Any]]) -> None:
    def named(result: object) -> str:
        if not isinstance(result, dict):
            return "" if result is None else str(result)[:80]
        for key in ("username", "name", "email", "address", "id"):
            if result.get(key):
                return str(result[key])
        return ""

    table(
        "Applied",
        ("command", "kind", "what", "id", "status"),
        [
            (
                row["command"],
                row["kind"],
                named(row["result"]),
                row["result"].get("id", "") if isinstance(row["result"], dict) else "",
                row["result"].get("status", "") if isinstance(row["result"], dict) else "",
            )
            for row in results[:_SHOWN_RESULTS]
        ],
    )
    if len(results) > _SHOWN_RESULTS:
        click.echo(f"... and {len(results) - _SHOWN_RESULTS:,} more: --format json has all")


@click.command(
    name="commands",
    epilog=examples(
        "provisioning commands CreateUser",
        "provisioning commands --schema > provisioning-commands.schema.json",
    ),
)
@click.argument("kind", required=False)
@click.option(
    "--schema",
    is_flag=True,
    help="Print the JSON Schema of a document instead (for an editor to check one as it is typed).",
)
@output("text", "json", "ndjson", "csv")
def commands_command(options: Options, kind: str | None, schema: bool) -> None:  # noqa: FBT001
    """List the kinds of command a document may hold, or the fields of one KIND."""
    with reported(options):
        if schema:
            print_json(json_schema(KINDS, filled=("account_id",)))
            return
        if kind is not None and kind not in KINDS:
            issue = _unknown(kind, 0)
            raise Failure(f"{issue.message}", UNUSABLE, {"error": issue.code})
        chosen = [kind] if kind is not None else list(KINDS)
        described = [_described(name) for name in chosen]
        if kind is None:
            listed(
                options,
                "commands",
                described,
                text=lambda: table(
                    f"{len(described)} kinds of command (provisioning commands KIND: its fields)",
                    ("kind", "what it does"),
                    [(entry["kind"], entry["summary"]) for entry in described],
                ),
            )
            return
        (entry,) = described

        def fields() -> None:
            click.echo(entry["summary"])
            table(
                str(kind),
                ("field", "type", "required", "default"),
                [
                    (
                        f["name"] + (" (secret)" if f["secret"] else ""),
                        f["type"],
                        "yes" if f["required"] else "",
                        "" if f["default"] is None else f["default"],
                    )
                    for f in entry["fields"]
                ],
            )

        listed(options, "commands", described, text=fields)


def _described(name: str) -> dict[str, Any]:
    kind = KINDS[name]
    doc = (kind.__doc__ or "").strip().splitlines()
    return {
        "kind": name,
        "summary": doc[0] if doc else "",
        "fields": [attrs.asdict(field) for field in command_fields(kind)],
    }


DOCUMENTS: Final = (plan_command, apply_command, commands_command)
"""The document commands, added to `provisioning` by the package."""
