"""What every subcommand shares: the store, the account and who acts; output; errors.

Each subcommand is a thin shell over the library. It opens the store
(`open_store`), chooses the account (`choose_account`) and the principal
that acts (`choose_actor`), calls one command or query, and prints what it
got (`say`, `listed`) in the format asked for. What the library raises
becomes one line on stderr and an exit code (`reported`).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
import os
import signal
import stat
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, NoReturn, TypeVar

import attrs
import click
from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text

from provisioning import (
    Actor,
    Context,
    Issue,
    NotFound,
    Progress,
    ProvisioningError,
    SpreadsheetError,
    StoreError,
    Unauthenticated,
    UsageError,
    ValidationFailed,
    bulk,
    queries,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.adapters.sql import redacted
from provisioning.model import Account, MessageStatus, QueuedMessage
from provisioning.model._converter import to_export
from provisioning.rules.clients import TOKEN_PREFIX

__all__ = [
    "DEFAULT_STORE",
    "REFUSED",
    "UNUSABLE",
    "Failure",
    "Here",
    "OneLineErrors",
    "Options",
    "account_listing",
    "all_of",
    "choose_account",
    "choose_actor",
    "close",
    "confirmed",
    "examples",
    "in_account",
    "input_name",
    "issue_document",
    "issues_table",
    "listed",
    "open_store",
    "output",
    "print_json",
    "progress",
    "quiet_after_a_closed_pipe",
    "read_input",
    "reported",
    "say",
    "table",
    "waiting_messages",
    "waiting_note",
]

DEFAULT_STORE: Final = "provisioning.db"
REFUSED: Final = 1
"""Exit code: blocking issues, or a refusal; nothing was changed."""
UNUSABLE: Final = 2
"""Exit code: unusable input or usage."""
INTERNAL: Final = 70
"""Exit code: a bug of the command line or the library (`EX_SOFTWARE`); `--debug` shows it."""

FORMATS: Final = ("text", "json", "ndjson", "csv", "xlsx")
"""Every output format some command prints; each command says which of them it takes."""

_SHOWN_ISSUES: Final = 50  # rows of an issues table; the rest are counted by code
_REDRAW: Final = 0.1  # seconds between two redraws of a progress bar
_URL_FILE_LARGEST: Final = 4096  # a file holding a store's URL is a line, not a database
_SQLITE_HEADER: Final = b"SQLite format 3\x00"
_INPUT_LARGEST: Final = bulk.DEFAULT_LIMITS.max_bytes

_T = TypeVar("_T")


@attrs.frozen
class Options:
    """The options every subcommand shares (given before it, or in the environment)."""

    store: str
    account: str | None
    acting_as: str | None
    as_operator: bool
    format: str
    debug: bool

    @property
    def json(self) -> bool:
        """Whether the output is one JSON document."""
        return self.format == "json"


class Failure(Exception):
    """A failure the command reports in one line and ends with `code`."""

    def __init__(self, message: str, code: int, document: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.document = document


# -- the store, the account and who acts ---------------------------------------------------------


def store_location(given: str) -> str:
    """The store `--store` names: a SQLite file or a URL, or a small file holding the URL.

    A file holding a `postgresql://` URL keeps the URL's password out of
    `ps`, the shell's history and the environment of every process the shell
    starts. The file should be readable by its owner alone; one that others
    may read is used, with a warning.
    """
    if "://" in given or given == ":memory:":
        return given
    path = Path(given)
    try:
        found = path.stat()
        if not stat.S_ISREG(found.st_mode) or found.st_size > _URL_FILE_LARGEST:
            return given
        with path.open("rb") as stream:
            head = stream.read(_URL_FILE_LARGEST)
    except OSError:
        return given  # not there (yet), or not ours to read: open_store says which
    if not head or head.startswith(_SQLITE_HEADER):
        return given
    text = head.decode("utf-8", errors="replace").strip()
    if "://" not in text or "\n" in text:
        return given
    if found.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        click.echo(
            f"provisioning: warning: {given} holds the store's URL and others may read it"
            f" (chmod 600 {given})",
            err=True,
        )
    return text


def open_store(
    options: Options, *, upgrade: bool = False, create: bool = False, dns: MemoryDns | None = None
) -> Context:
    """The context over `--store`; only `init`, `demo` and `db upgrade` create or migrate one.

    Any other command on a store file that is not there says so (exit 2)
    rather than leave an empty database behind.
    """
    ports: Any = {} if dns is None else {"dns": dns}
    store = store_location(options.store)
    if not create and "://" not in store and store != ":memory:" and not Path(store).exists():
        raise Failure(
            f"there is no store at {store!r}: create one with `provisioning init`, or name"
            " another with --store",
            UNUSABLE,
        )
    try:
        return Context.open(store, upgrade=upgrade, **ports)
    except ProvisioningError as error:
        older = getattr(error, "code", "") == "store.schema_older"
        hint = "; run `provisioning db upgrade` first" if older else ""
        raise Failure(
            f"the store {redacted(store)!r} cannot be used: {error}{hint}", UNUSABLE
        ) from error


def choose_account(ctx: Context, options: Options) -> Account:
    """The account `--account` names (by id or name), or the store's only one."""
    found = queries.every(
        lambda after: queries.accounts(ctx, Actor.platform(), limit=queries.MAX_PAGE, after=after)
    )
    if options.account is not None:
        wanted = options.account.casefold()
        for account in found:
            if wanted in (account.id.casefold(), account.name.casefold()):
                return account
        raise Failure(f"no account {options.account!r} in this store", UNUSABLE)
    if len(found) == 1:
        return found[0]
    if not found:
        raise Failure("the store has no account yet: run `provisioning init` first", UNUSABLE)
    names = ", ".join(account.name for account in found)
    raise Failure(f"the store has several accounts ({names}): choose one with --account", UNUSABLE)


SESSION_PREFIX: Final = "support:"
"""How `--as` names a support session, as an audit event names its actor."""


def choose_actor(ctx: Context, options: Options, account: Account | None) -> Actor:
    """Who acts: `--as-operator`, the principal `--as` names, or the account's super admin.

    `--as ADDRESS` is any user of the store, with the rights it holds
    however they were granted (a role, a grant on the account, a support
    relationship's session with `--as support:SESSION_ID`); `--as` an API
    client's token (`pvc_...`) is that client, once the token is checked.
    The library checks each of them. Without either option, the account's
    super admin acts: the administrator `init` made.
    """
    if options.as_operator and options.acting_as is not None:
        raise Failure("give --as or --as-operator, not both", UNUSABLE)
    if options.as_operator:
        return Actor.platform()
    if options.acting_as is not None:
        wanted = options.acting_as.strip()
        if wanted.startswith(SESSION_PREFIX):
            return Actor.support(wanted.removeprefix(SESSION_PREFIX))
        if wanted.startswith(TOKEN_PREFIX):
            try:
                return queries.authenticate_client(ctx, wanted)
            except Unauthenticated:
                raise Failure("--as: that token is no live API client's", UNUSABLE) from None
        try:
            return Actor.user(queries.find_user(ctx, Actor.platform(), address=wanted).id)
        except NotFound:
            raise Failure(f"--as: no user {wanted!r} in this store", UNUSABLE) from None
    if account is None:
        raise Failure("choose who acts: --as ADDRESS or --as-operator", UNUSABLE)
    admins = all_of(queries.admins, ctx, Actor.platform(), account.id)
    chosen = next((user for user in admins if user.super_admin), None)
    if chosen is None:
        raise Failure(
            f"the account {account.name!r} has no super admin: choose who acts with --as",
            UNUSABLE,
        )
    return Actor.user(chosen.id)


def all_of(
    query: Callable[..., queries.Page[_T]], ctx: Context, actor: Actor, account_id: str | None
) -> list[_T]:
    """Every item of an account's listing (`queries.domains`, `roles` ...), page after page."""
    return queries.every(
        lambda after: query(ctx, actor, account_id, limit=queries.MAX_PAGE, after=after)
    )


class Here:
    """Where a command acts: the store, the principal, and the account when one is needed.

    The account is chosen when first asked for (`--account`, or the store's
    only one), so a command that names its target by address or id works in
    a store of many accounts when `--as` or `--as-operator` says who acts;
    without either, the acting super admin needs its account.
    """

    def __init__(self, ctx: Context, options: Options) -> None:
        self.ctx = ctx
        self._options = options
        self._account: Account | None = None
        self._actor: Actor | None = None

    @property
    def account(self) -> Account:
        """The chosen account."""
        if self._account is None:
            self._account = choose_account(self.ctx, self._options)
        return self._account

    @property
    def some_account(self) -> Account | None:
        """The chosen account if one is named or is the store's only one; None otherwise."""
        if self._account is None and self._options.account is None:
            found = queries.accounts(self.ctx, Actor.platform(), limit=2).items
            return found[0] if len(found) == 1 else None
        return self.account

    @property
    def actor(self) -> Actor:
        """Who acts: `--as`, `--as-operator`, or the chosen account's super admin."""
        if self._actor is None:
            named = self._options.as_operator or self._options.acting_as is not None
            self._actor = choose_actor(self.ctx, self._options, None if named else self.account)
        return self._actor


def in_account(options: Options, work: Callable[[Context, Account, Actor], _T]) -> _T:
    """`work` in the chosen account, by the chosen principal; the store closed after."""
    ctx = open_store(options)
    try:
        here = Here(ctx, options)
        return work(ctx, here.account, here.actor)
    finally:
        close(ctx)


def close(ctx: Context) -> None:
    """Close the context's store (an in-memory store has nothing to close)."""
    shut = getattr(ctx.store, "close", None)
    if shut is not None:
        shut()


# -- input --------------------------------------------------------------------------------------


def input_name(file: Path) -> str:
    """How messages name an input: its path, or "standard input" for `-`."""
    return "standard input" if str(file) == "-" else str(file)


def read_input(file: Path, *, largest: int = _INPUT_LARGEST) -> bytes:
    """A regular file's bytes (or standard input's, for `-`), at most `largest` of them.

    The size is checked before a file is read: a FIFO or a device would never end.
    """
    if str(file) == "-":
        data = sys.stdin.buffer.read(largest + 1)
        if len(data) > largest:
            raise Failure(f"standard input has more than {largest:,} bytes", UNUSABLE)
        return data
    try:
        found = file.stat()
        if not stat.S_ISREG(found.st_mode):
            raise Failure(f"{file} is not a regular file", UNUSABLE)
        if found.st_size > largest:
            raise Failure(
                f"{file} has {found.st_size:,} bytes, more than {largest:,} (too_large)",
                UNUSABLE,
            )
        with file.open("rb") as stream:
            return stream.read(largest + 1)
    except OSError as exc:
        raise Failure(f"{file} cannot be read: {exc.strerror or exc}", UNUSABLE) from exc


def confirmed(question: str, *, yes: bool, typed: str | None = None) -> None:
    """Go on only when the person at the terminal agrees (or `--yes` was given).

    With `typed`, the person types it again (a name, as the library asks for
    a domain's name before it deletes it); otherwise answers y. Without a
    terminal and without `--yes` it refuses (exit 2): a script says `--yes`.
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise Failure(f"{question} Confirm on a terminal, or give --yes.", UNUSABLE)
    if typed is None:
        if not click.confirm(question, default=False, err=True):
            raise Failure("not confirmed; nothing was changed", REFUSED)
        return
    answer = click.prompt(f"{question} Type {typed} to confirm", default="", err=True)
    if answer.strip().casefold() != typed.casefold():
        raise Failure("not confirmed; nothing was changed", REFUSED)


# -- output -------------------------------------------------------------------------------------


def output(*formats: str) -> Callable[[Callable[..., _T]], Callable[..., _T]]:
    """Give a subcommand `--format` (one of `formats`), and hand it the options it runs with.

    The global `--format` (before the subcommand) is the default; the
    subcommand's own (after it) wins. A format the subcommand does not
    print is refused (exit 2).
    """

    def decorate(function: Callable[..., _T]) -> Callable[..., _T]:
        @click.option(
            "--format",
            "chosen_format",
            type=click.Choice(formats),
            default=None,
            help=f"{' | '.join(formats)} (default: the --format given before the command, or text)",
        )
        @click.pass_context
        @functools.wraps(function)
        def command(
            context: click.Context, /, *args: object, chosen_format: str | None, **kwargs: object
        ) -> _T:
            options: Options = context.find_object(Options)  # type: ignore[assignment]
            chosen = chosen_format or options.format
            if chosen not in formats:
                fail(
                    attrs.evolve(options, format="text"),
                    f"{context.command_path} prints {' or '.join(formats)}, not {chosen}",
                    UNUSABLE,
                    None,
                )
            return function(attrs.evolve(options, format=chosen), *args, **kwargs)

        return command

    return decorate


def examples(*lines: str) -> str:
    """A command's help epilog: its examples, each on a line of its own as typed."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def print_json(document: object) -> None:
    """One JSON document on standard output."""
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A table of values printed as text: a name such as `[/x]` is never read as markup."""
    shown = Table(title=Text(title))
    for column in columns:
        shown.add_column(Text(column))
    for row in rows:
        shown.add_row(*(Text("" if value is None else str(value)) for value in row))
    Console().print(shown)


def say(options: Options, document: object, text: str) -> None:
    """`document` as JSON, or `text` for people."""
    if options.json:
        print_json(document)
    else:
        click.echo(text)


def flat(document: object, prefix: str = "") -> Iterator[tuple[str, object]]:
    """(dotted field, value) of an exported entity, nested records spelled out."""
    if isinstance(document, dict) and document:
        for key, value in document.items():
            yield from flat(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, document


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(_cell(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def listed(
    options: Options,
    name: str,
    items: Sequence[Mapping[str, object]],
    *,
    text: Callable[[], None],
    total: int | None = None,
) -> None:
    """A list: a table for people, one JSON document, JSON Lines, or CSV.

    `items` are exported documents (no secret in them). The JSON document
    is `{name: items}` (with `total` when the list is a page of more); JSON
    Lines is one item a line; CSV has a column per (dotted) field, lists
    joined by `;`.
    """
    if options.format == "json":
        print_json(({"total": total} if total is not None else {}) | {name: list(items)})
    elif options.format == "ndjson":
        for item in items:
            click.echo(json.dumps(item, ensure_ascii=False, default=str))
    elif options.format == "csv":
        rows = [dict(flat(dict(item))) for item in items]
        if not rows:
            return  # no item, no columns: an empty file
        columns = list(dict.fromkeys(column for row in rows for column in row))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(row.get(column)) for column in columns] for row in rows)
        click.echo(buffer.getvalue(), nl=False)
    else:
        text()


def account_listing(
    options: Options,
    query: Callable[..., queries.Page[Any]],
    names: tuple[str, str],
    header: tuple[str, ...],
    row: Callable[[Any], tuple[object, ...]],
) -> None:
    """Every item of one of the chosen account's listings, `listed` (`names`: key, title).

    `query` is a paged query of an account (`queries.domains` ...), read
    page after page by the chosen principal; `row` is an item's line of the
    table people read.
    """
    with reported(options):
        found = in_account(
            options, lambda ctx, account, actor: all_of(query, ctx, actor, account.id)
        )
        key, title = names
        listed(
            options,
            key,
            to_export(found),
            text=lambda: table(title, header, [row(item) for item in found]),
        )


def issue_document(issue: Issue) -> dict[str, object]:
    """An issue as JSON: its code, severity, words and where (a cell, or a command's field)."""
    where = issue.location
    return {
        "code": issue.code,
        "severity": str(issue.severity),
        "message": issue.message,
        "command": issue.command,
        "field": issue.field,
        "sheet": where.sheet if where is not None else None,
        "row": where.row if where is not None else None,
        "column": where.column if where is not None else None,
        "cell": str(where) if where is not None else None,
        "count": issue.count,
    }


def _where(issue: Issue, kinds: Sequence[str] | None) -> str:
    if issue.location is not None:
        return str(issue.location)
    if issue.command is None or kinds is None:
        return issue.field or ""
    kind = f" {kinds[issue.command]}" if issue.command < len(kinds) else ""
    field = f" {issue.field}" if issue.field else ""
    return f"command {issue.command}{kind}{field}"


def issues_table(
    issues: Sequence[Issue], *, kinds: Sequence[str] | None = None, title: str = "Issues"
) -> None:
    """The first issues, errors before warnings, and a count by code of the rest.

    `kinds` names the command at each position, for issues of a document's commands.
    """
    ordered = sorted(issues, key=lambda issue: not issue.blocking)
    shown, rest = ordered[:_SHOWN_ISSUES], ordered[_SHOWN_ISSUES:]
    table(
        title,
        ("where", "severity", "code", "message"),
        [(_where(i, kinds), i.severity, i.code, i.message) for i in shown],
    )
    if rest:
        counts = Counter(issue.code for issue in rest)
        named = ", ".join(f"{code} x{count:,}" for code, count in counts.most_common())
        click.echo(f"... and {len(rest):,} more ({named}): --annotate or --format json has all")


def waiting_messages(ctx: Context) -> list[QueuedMessage]:
    """The messages of the outbox that wait for delivery (their secrets left out)."""
    found, _ = ctx.store.queued_messages(
        status=MessageStatus.PENDING, offset=0, limit=queries.MAX_PAGE
    )
    return found


def waiting_note(ctx: Context) -> None:
    """Say, on standard error, how many messages wait for `provisioning deliver`."""
    _, waiting = ctx.store.queued_messages(status=MessageStatus.PENDING, offset=0, limit=1)
    if waiting:
        click.echo(f"{waiting} message(s) wait for delivery: provisioning deliver", err=True)


@contextmanager
def progress(what: str) -> Iterator[Progress | None]:
    """A progress bar on stderr when stderr is a terminal; no callback otherwise.

    The bar is redrawn by the callback, a few times a second at most, and
    not by a thread of its own: a process with a second thread never forks,
    so a large file's dry run would keep to one core.
    """
    if not sys.stderr.isatty():
        yield None
        return
    with RichProgress(console=Console(stderr=True), transient=True, auto_refresh=False) as bar:
        task = bar.add_task(what, total=None)
        drawn = [0.0]

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            now = time.monotonic()
            if now - drawn[0] >= _REDRAW or done == total:
                drawn[0] = now
                bar.refresh()

        yield update


# -- errors -------------------------------------------------------------------------------------


@contextmanager
def reported(options: Options, *, kinds: Sequence[str] | None = None) -> Iterator[None]:
    """Turn what the library raises into one line on stderr and an exit code."""
    try:
        yield
    except Failure as failure:
        fail(options, str(failure), failure.code, failure.document)
    except ValidationFailed as failed:
        document = {"error": failed.code, "issues": [issue_document(i) for i in failed.issues]}
        if not options.json:
            issues_table(failed.issues, kinds=kinds)
        codes = sorted({issue.code for issue in failed.issues if issue.blocking})
        fail(options, f"refused, nothing was changed: {', '.join(codes)}", REFUSED, document)
    except (SpreadsheetError, UsageError, StoreError) as unusable:
        if isinstance(unusable.__cause__, BrokenPipeError):  # a report into `| head`
            quiet_after_a_closed_pipe()
        fail(options, str(unusable), UNUSABLE, {"error": unusable.code})
    except ProvisioningError as refused:
        fail(options, str(refused), REFUSED, {"error": getattr(refused, "code", "error")})
    except BrokenPipeError:  # `| head`: the reader had enough
        quiet_after_a_closed_pipe()
    except Exception as bug:  # noqa: BLE001 - a bug is said in one line too, never a traceback
        fail(
            options,
            f"internal error ({type(bug).__name__}); --debug shows where",
            INTERNAL,
            {"error": "internal"},
        )


def quiet_after_a_closed_pipe() -> NoReturn:
    """End as a pipeline's writer does when its reader stops reading: quietly, status 141."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush finds no pipe
    sys.exit(128 + signal.SIGPIPE)


_KIND_OF_FAILURE: Final = {REFUSED: "refused", UNUSABLE: "unusable", INTERNAL: "internal"}


def fail(options: Options, message: str, code: int, document: object) -> NoReturn:
    """Print `message` on stderr and exit with `code`; with `--format json`, a document too.

    The document on standard output is `document` (the error's code, its
    issues) with the message, or, for a failure of the command line's own,
    `{"error": "unusable" | "refused" | "internal", "message": ...}`: a
    script that reads JSON always gets some.
    """
    if options.debug:
        traceback.print_exc(file=sys.stderr)
    if options.json:
        said = document if isinstance(document, dict) else {"error": _KIND_OF_FAILURE.get(code)}
        print_json({**said, "message": message})
    click.echo(f"provisioning: {message}", err=True)
    sys.exit(code)


class _UsageInOneLine(click.ClickException):
    """A usage error said in one line, as every other error is: exit 2."""

    exit_code = UNUSABLE

    def show(self, file: Any = None) -> None:  # noqa: ANN401, ARG002 - click's signature
        click.echo(f"provisioning: {self.format_message()}", err=True)


def _one_line(error: click.UsageError) -> _UsageInOneLine:
    where = error.ctx.command_path if error.ctx is not None else "provisioning"
    return _UsageInOneLine(f"{error.format_message()} (see `{where} --help`)")


class OneLineErrors(click.Group):
    """The `provisioning` group: a usage error (a missing argument, a bad flag) is one line too."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,  # noqa: ANN401 - click's context settings
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as error:
            raise _one_line(error) from None

    def invoke(self, ctx: click.Context) -> Any:  # noqa: ANN401 - what the subcommand returns
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise _one_line(error) from None


def configure_logging(*, debug: bool) -> None:
    """The library's log on stderr: errors only, or everything with `--debug`."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.ERROR,
        format="provisioning: %(levelname)s: %(message)s",
    )
