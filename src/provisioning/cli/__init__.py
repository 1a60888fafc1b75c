"""The `provisioning` command: the library's workflow and queries from a shell.

Installed with the extra `provisioning[cli]`, as the console script
`provisioning` (or `python -m provisioning`). It has no rules of its own:
each subcommand builds the library's commands or calls its queries, acting
as the account's super admin (or `--as` another of its administrators), so
every permission check is the library's.

Exit codes: 0 done; 1 the request had blocking issues, or was refused, and
nothing was changed; 2 the input or the usage was unusable (a file that is
no workbook, bad flags, a store that cannot be opened). Errors are one line
on stderr; `--debug` adds the traceback. `--format json` prints one JSON
document built with the library's export converter, which leaves every
secret out.
"""

from __future__ import annotations

import json
import logging
import stat
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Final, NoReturn, TypeVar

import attrs
import click
from click.core import ParameterSource
from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text

from provisioning import (
    ActivateDomain,
    Actor,
    AddDomain,
    Context,
    CreateAccount,
    Issue,
    Progress,
    ProvisioningError,
    SpreadsheetError,
    StoreError,
    UsageError,
    ValidationFailed,
    VerifyDomain,
    apply,
    bulk,
    plan,
    queries,
    run,
)
from provisioning.adapters.mail import EmlFolder, SmtpNotifier
from provisioning.adapters.memory import MemoryDns
from provisioning.adapters.sql import redacted
from provisioning.cli._demo import DOMAIN, MISTAKES, ROWS, users_workbook
from provisioning.engine import collecting_less, retry_messages
from provisioning.engine import deliver as deliver_messages
from provisioning.model import (
    Account,
    AuditEvent,
    Domain,
    MessageStatus,
    QueuedMessage,
    User,
)
from provisioning.model._converter import to_export

__all__ = ["main"]

DEFAULT_STORE: Final = "provisioning.db"
_T = TypeVar("_T")

_SHOWN_ISSUES: Final = 50  # rows of an issues table; the rest are counted by code
_REFUSED: Final = 1  # blocking issues, or a refusal: nothing was changed
_UNUSABLE: Final = 2  # unusable input or usage
_REDRAW: Final = 0.1  # seconds between two redraws of a progress bar


@attrs.frozen
class _Options:
    store: str
    account: str | None
    acting_as: str | None
    json: bool
    debug: bool


class _Failure(Exception):
    """A failure the command reports in one line and ends with `code`."""

    def __init__(self, message: str, code: int, document: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.document = document


# -- the store, the account and the actor --------------------------------------------------------


def _open(
    options: _Options, *, upgrade: bool = False, create: bool = False, dns: MemoryDns | None = None
) -> Context:
    """The context over `--store`; only `init` and `db upgrade` create or migrate one.

    Any other command on a store file that is not there says so (exit 2)
    rather than leave an empty database behind.
    """
    ports: Any = {} if dns is None else {"dns": dns}
    store = options.store
    if not create and "://" not in store and store != ":memory:" and not Path(store).exists():
        raise _Failure(
            f"there is no store at {store!r}: create one with `provisioning init`, or name"
            " another with --store",
            _UNUSABLE,
        )
    try:
        return Context.open(options.store, upgrade=upgrade, **ports)
    except ProvisioningError as error:
        older = getattr(error, "code", "") == "store.schema_older"
        hint = "; run `provisioning db upgrade` first" if older else ""
        raise _Failure(
            f"the store {redacted(options.store)!r} cannot be used: {error}{hint}", _UNUSABLE
        ) from error


def _account(ctx: Context, options: _Options) -> Account:
    """The account `--account` names (by id or name), or the store's only one."""
    found = queries.every(
        lambda after: queries.accounts(ctx, Actor.platform(), limit=queries.MAX_PAGE, after=after)
    )
    if options.account is not None:
        wanted = options.account.casefold()
        for account in found:
            if wanted in (account.id.casefold(), account.name.casefold()):
                return account
        raise _Failure(f"no account {options.account!r} in this store", _UNUSABLE)
    if len(found) == 1:
        return found[0]
    if not found:
        raise _Failure("the store has no account yet: run `provisioning init` first", _UNUSABLE)
    names = ", ".join(account.name for account in found)
    raise _Failure(
        f"the store has several accounts ({names}): choose one with --account", _UNUSABLE
    )


def _actor(ctx: Context, account: Account, acting_as: str | None) -> Actor:
    """The account's super admin, or the administrator `acting_as` names (`--as`)."""
    admins = queries.every(
        lambda after: queries.admins(
            ctx, Actor.platform(), account.id, limit=queries.MAX_PAGE, after=after
        )
    )
    if acting_as is None:
        chosen = next((user for user in admins if user.super_admin), None)
        if chosen is None:
            raise _Failure(f"the account {account.name!r} has no super admin", _UNUSABLE)
        return Actor.user(chosen.id)
    wanted = acting_as.strip().casefold()
    for user in admins:
        if user.username.key == wanted or str(user.username).casefold() == wanted:
            return Actor.user(user.id)
    raise _Failure(f"{acting_as} is not an administrator of {account.name!r}", _UNUSABLE)


# -- output -----------------------------------------------------------------------------------


def _print_json(document: object) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A table of values printed as text: a name such as `[/x]` is never read as markup."""
    table = Table(title=Text(title))
    for column in columns:
        table.add_column(Text(column))
    for row in rows:
        table.add_row(*(Text("" if value is None else str(value)) for value in row))
    Console().print(table)


def _issue_document(issue: Issue) -> dict[str, object]:
    where = issue.location
    return {
        "code": issue.code,
        "severity": str(issue.severity),
        "message": issue.message,
        "sheet": where.sheet if where is not None else None,
        "row": where.row if where is not None else None,
        "column": where.column if where is not None else None,
        "cell": str(where) if where is not None else None,
    }


def _change_document(change: bulk.RowChange) -> dict[str, object]:
    return {
        "sheet": change.sheet,
        "row": change.row,
        "user": change.email,
        "fields": [
            {
                "field": field.field,
                "old": field.old,
                "new": field.new,
                "added": list(field.added),
                "removed": list(field.removed),
            }
            for field in change.fields
        ],
    }


def _changes_table(changes: Sequence[bulk.RowChange], *, applied: bool) -> None:
    """Each field the file changes for users that exist, from what to what."""
    title = "Changes to existing users" + ("" if applied else " (held back: --updates applies)")
    _table(
        title,
        ("row", "user", "field", "now", "in the file"),
        [
            (f"{change.sheet}!{change.row}", change.email, field.field, field.old, field.new)
            for change in changes[:_SHOWN_ISSUES]
            for field in change.fields
        ],
    )
    if len(changes) > _SHOWN_ISSUES:
        click.echo(f"... and {len(changes) - _SHOWN_ISSUES:,} more rows: --format json has all")


def _issues_table(issues: Sequence[Issue]) -> None:
    """The first issues, errors before warnings, and a count by code of the rest."""
    ordered = sorted(issues, key=lambda issue: not issue.blocking)
    shown, rest = ordered[:_SHOWN_ISSUES], ordered[_SHOWN_ISSUES:]
    _table(
        "Issues",
        ("where", "severity", "code", "message"),
        [(i.location or i.field or "", i.severity, i.code, i.message) for i in shown],
    )
    if rest:
        counts = Counter(issue.code for issue in rest)
        listed = ", ".join(f"{code} x{count:,}" for code, count in counts.most_common())
        click.echo(f"... and {len(rest):,} more ({listed}): --annotate or --format json has all")


# -- running a subcommand -----------------------------------------------------------------------


@contextmanager
def _reported(options: _Options) -> Iterator[None]:
    """Turn what the library raises into one line on stderr and an exit code."""
    try:
        yield
    except _Failure as failure:
        _fail(options, str(failure), failure.code, failure.document)
    except ValidationFailed as failed:
        document = {"error": failed.code, "issues": [_issue_document(i) for i in failed.issues]}
        if not options.json:
            _issues_table(failed.issues)
        codes = sorted({issue.code for issue in failed.issues if issue.blocking})
        _fail(options, f"refused, nothing was changed: {', '.join(codes)}", _REFUSED, document)
    except (SpreadsheetError, UsageError, StoreError) as unusable:
        _fail(options, str(unusable), _UNUSABLE, {"error": unusable.code})
    except ProvisioningError as refused:
        _fail(options, str(refused), _REFUSED, {"error": getattr(refused, "code", "error")})


def _fail(options: _Options, message: str, code: int, document: object) -> NoReturn:
    if options.debug:
        traceback.print_exc(file=sys.stderr)
    if options.json and document is not None:
        _print_json(document)
    click.echo(f"provisioning: {message}", err=True)
    sys.exit(code)


def _in_account(options: _Options, work: Callable[[Context, Account, Actor], _T]) -> _T:
    """`work` in the chosen account, as the chosen administrator; the store closed after."""
    ctx = _open(options)
    try:
        account = _account(ctx, options)
        return work(ctx, account, _actor(ctx, account, options.acting_as))
    finally:
        _close(ctx)


# -- the commands -------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    default=DEFAULT_STORE,
    show_default=True,
    help="A SQLite file (created on first use) or a postgresql:// URL.",
)
@click.option("--account", help="The account to act in, by id or name (default: the only one).")
@click.option("--as", "acting_as", metavar="ADDRESS", help="Act as this administrator.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Tables for people, or one JSON document.",
)
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.version_option(package_name="provisioning")
@click.pass_context
def main(
    context: click.Context,
    *,
    store: str,
    account: str | None,
    acting_as: str | None,
    output: str,
    debug: bool,
) -> None:
    """Provision an email platform's tenants: domains, users, access, from a shell."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.ERROR,
        format="provisioning: %(levelname)s: %(message)s",
    )
    context.obj = _Options(
        store=store, account=account, acting_as=acting_as, json=output == "json", debug=debug
    )
    # The command line owns its process: large batches may collect garbage less often.
    context.with_resource(collecting_less())


@main.group()
def db() -> None:
    """The store's database."""


@db.command()
@click.pass_obj
def upgrade(options: _Options) -> None:
    """Create the database or migrate it to this version's schema."""
    with _reported(options):
        _close(_open(options, upgrade=True, create=True))
        shown = redacted(options.store)
        _say(options, {"store": shown, "upgraded": True}, f"{shown}: up to date")


@main.command()
@click.option("--account", "name", required=True, help="The new account's name.")
@click.option("--domain", required=True, help="Its first domain, e.g. acme.example.")
@click.option(
    "--admin-email",
    required=True,
    help="The super admin's primary email: its set-password link goes there.",
)
@click.option(
    "--trust-domain",
    is_flag=True,
    help="Mark the domain verified and active without DNS (for local trials).",
)
@click.pass_obj
def init(
    options: _Options,
    name: str,
    domain: str,
    admin_email: str,
    trust_domain: bool,  # noqa: FBT001 - a click flag
) -> None:
    """Create an account and its first domain, with its super admin, in one batch."""
    with _reported(options):
        dns = MemoryDns()
        ctx = _open(options, create=True, dns=dns)
        try:
            account, added = _tenant(ctx, dns, name, domain, admin_email, trusted=trust_domain)
            _say(options, *_initialised(account, added, ctx, trusted=trust_domain))
            _waiting_note(ctx)
        finally:
            _close(ctx)


def _tenant(
    ctx: Context, dns: MemoryDns, name: str, domain: str, admin_email: str, *, trusted: bool
) -> tuple[Account, Domain]:
    """The account and its first domain (verified and active if `trusted`), as one batch."""
    operator = Actor.platform()
    account_id = ctx.ids.new_id()
    planned = plan(
        ctx,
        operator,
        [
            CreateAccount(name=name, account_id=account_id),
            AddDomain(account_id=account_id, name=domain, admin_email=admin_email),
        ],
    )
    planned.raise_for_issues()
    account, added = apply(ctx, planned).results
    if trusted:
        dns.publish(domain, added.verification_token)
        run(ctx, operator, VerifyDomain(domain_id=added.id))
        added = run(ctx, operator, ActivateDomain(domain_id=added.id))
    return account, added


def _initialised(
    account: Account, domain: Domain, ctx: Context, *, trusted: bool
) -> tuple[dict[str, object], str]:
    """What `init` made, as a JSON document and as lines for people (never the link's token)."""
    welcome = next(
        (q for q in _waiting_messages(ctx) if q.message.template == "admin.created"), None
    )
    document: dict[str, object] = {
        "account": to_export(account),
        "domain": to_export(domain),
        "dns_txt": domain.verification_token,
        "super_admin_setup": None
        if welcome is None
        else {"user_id": welcome.message.data.get("user_id"), "sent_to": welcome.message.to},
    }
    lines = [f"account {account.name} ({account.id}), domain {domain.name}: {domain.status}"]
    if not trusted:
        lines.append(f"publish this TXT record at {domain.name}: {domain.verification_token}")
    if welcome is not None:
        lines.append(
            f"the super admin's one-time set-password link is in a message to"
            f" {welcome.message.to} (until {welcome.message.data.get('link_expires_at')})"
        )
    return document, "\n".join(lines)


def _waiting_messages(ctx: Context) -> list[QueuedMessage]:
    """The messages of the outbox that wait for delivery (their secrets left out)."""
    found, _ = ctx.store.queued_messages(
        status=MessageStatus.PENDING, offset=0, limit=queries.MAX_PAGE
    )
    return found


def _waiting_note(ctx: Context) -> None:
    """Say, on standard error, how many messages wait for `provisioning deliver`."""
    _, waiting = ctx.store.queued_messages(status=MessageStatus.PENDING, offset=0, limit=1)
    if waiting:
        click.echo(f"{waiting} message(s) wait for delivery: provisioning deliver", err=True)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def template(options: _Options, file: Path) -> None:
    """Write the account's import template (.xlsx)."""
    with _reported(options):

        def write(ctx: Context, account: Account, actor: Actor) -> None:
            bulk.write_template(ctx, actor, account.id, file)

        _in_account(options, write)
        _say(options, {"template": str(file)}, f"wrote {file}")


@main.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Plan and report; change nothing.")
@click.option(
    "--policy",
    type=click.Choice(["all-or-nothing", "skip-invalid"]),
    default="all-or-nothing",
    show_default=True,
)
@click.option(
    "--annotate",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a copy of the workbook with every issue and change on its cell.",
)
@click.option(
    "--updates",
    is_flag=True,
    help="Also change existing users whose rows differ (shown either way).",
)
@click.option(
    "--max-rows",
    type=click.IntRange(1, 10_000_000),
    default=bulk.DEFAULT_LIMITS.max_rows,
    show_default=True,
    help="The most rows a sheet may have; raise it for a larger file.",
)
@click.pass_obj
def import_(
    options: _Options,
    *,
    file: Path,
    dry_run: bool,
    policy: str,
    annotate: Path | None,
    updates: bool,
    max_rows: int,
) -> None:
    """Import users (and their access) from a workbook or CSV.

    Rows of users that exist already change nothing unless --updates is
    given; either way, each field they would change is shown.
    """
    with _reported(options):
        limits = _row_limits(max_rows)

        def importing(ctx: Context, account: Account, actor: Actor) -> None:
            chosen: bulk.Policy = "skip_invalid" if policy == "skip-invalid" else "all_or_nothing"
            upload = _read(file)
            with _progress("checking") as checking:
                planned = bulk.plan_users(
                    ctx,
                    actor,
                    account.id,
                    upload,
                    policy=chosen,
                    progress=checking,
                    updates=updates,
                    workers=None,  # every core: the command line owns its process
                    limits=limits,
                    dry_run=dry_run,
                )
            if annotate is not None:
                bulk.write_annotated(
                    upload, planned.issues, annotate, changes=planned.changed, limits=limits
                )
            document: dict[str, object] = {
                "file": str(file),
                "ok": planned.ok,
                "dry_run": dry_run,
                "planned": len(planned.rows),
                "unchanged": len(planned.unchanged),
                "changed": len(planned.changed),
                "skipped": len(planned.skipped),
                "errors": len(planned.errors),
                "warnings": len(planned.warnings),
                "issues": [_issue_document(issue) for issue in planned.issues],
                "changes": [_change_document(change) for change in planned.changed],
            }
            if not options.json and planned.issues:
                _issues_table(planned.issues)
            if not options.json and planned.changed:
                _changes_table(planned.changed, applied=updates)
            if not planned.ok:
                message = f"{file}: {len(planned.errors)} blocking issue(s); nothing was changed"
                raise _Failure(message, _REFUSED, document)
            held = "" if updates or not planned.changed else f", {len(planned.changed)} held back"
            if dry_run:
                _say(
                    options,
                    document,
                    f"{file}: ready, {len(planned.rows)} change(s) planned,"
                    f" {len(planned.unchanged)} unchanged, {len(planned.changed)} changed{held}",
                )
                return
            with _progress("writing") as writing:
                result = bulk.apply_users(ctx, planned, progress=writing)
            document |= {"created": len(result.created), "updated": len(result.updated)}
            _say(
                options,
                document,
                f"{file}: {len(result.created)} created, {len(result.updated)} updated,"
                f" {len(result.unchanged)} unchanged, {len(planned.changed)} changed{held},"
                f" {len(result.skipped)} skipped",
            )
            _waiting_note(ctx)

        _in_account(options, importing)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def report(options: _Options, file: Path) -> None:
    """Write the users report: .csv by its name, .xlsx otherwise."""
    with _reported(options):
        as_csv = file.suffix.casefold() == ".csv"

        def write(ctx: Context, account: Account, actor: Actor) -> int:
            if as_csv:
                return bulk.write_users_report(ctx, actor, account.id, file, format="csv")
            return bulk.write_users_report(ctx, actor, account.id, file)

        count = _in_account(options, write)
        _say(options, {"report": str(file), "users": count}, f"wrote {count} user(s) to {file}")


@main.command()
@click.argument("search", required=False)
@click.option("--sort", type=click.Choice(["email", "-email"]), default="email", show_default=True)
@click.option("--limit", type=click.IntRange(1, queries.MAX_PAGE), default=50, show_default=True)
@click.pass_obj
def users(options: _Options, search: str | None, sort: str, limit: int) -> None:
    """List the account's users (searching usernames, names and directory services)."""
    with _reported(options):

        def listing(ctx: Context, account: Account, actor: Actor) -> queries.UserPage:
            return queries.users(
                ctx, actor, account.id, search=search, descending=sort == "-email", limit=limit
            )

        page = _in_account(options, listing)
        if options.json:
            _print_json({"total": page.total, "users": to_export(list(page.items))})
            return
        _table(
            f"{page.total:,} user(s)",
            ("email", "name", "enabled", "MFA required", "MFA set up"),
            [
                (
                    u.username,
                    u.full_name,
                    _yes(u.enabled),
                    _yes(u.mfa_required),
                    _yes(u.mfa_initialised),
                )
                for u in page.items
            ],
        )


@main.command()
@click.pass_obj
def domains(options: _Options) -> None:
    """List the account's domains."""
    with _reported(options):
        found = _in_account(
            options,
            lambda ctx, account, actor: queries.every(
                lambda after: queries.domains(
                    ctx, actor, account.id, limit=queries.MAX_PAGE, after=after
                )
            ),
        )
        if options.json:
            _print_json({"domains": to_export(found)})
            return
        _table(
            "Domains",
            ("name", "status", "id"),
            [(d.name, d.status, d.id) for d in found],
        )


@main.group()
def show() -> None:
    """Show one thing in full."""


@show.command(name="user")
@click.argument("address")
@click.pass_obj
def show_user(options: _Options, address: str) -> None:
    """Show the user whose username is ADDRESS."""
    with _reported(options):

        def finding(ctx: Context, account: Account, actor: Actor) -> User:
            page = queries.users(ctx, actor, account.id, search=address, limit=queries.MAX_PAGE)
            wanted = address.strip().casefold()
            for summary in page.items:
                if summary.username.casefold() == wanted:
                    return queries.get_user(ctx, actor, summary.id)
            raise _Failure(
                f"no user {address} in {account.name!r}", _REFUSED, {"error": "user.not_found"}
            )

        user = _in_account(options, finding)
        document = to_export(user)
        if options.json:
            _print_json(document)
            return
        _table(str(user.username), ("field", "value"), list(_flat(document)))


@main.command()
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
    help="Only events from then on (UTC).",
)
@click.option("--limit", type=click.IntRange(1, queries.MAX_PAGE), default=100, show_default=True)
@click.pass_obj
def audit(options: _Options, since: datetime | None, limit: int) -> None:
    """The account's latest audit events."""
    with _reported(options):

        def reading(ctx: Context, account: Account, actor: Actor) -> list[AuditEvent]:
            """The latest `limit` events (since `since`), oldest first as a log reads."""
            page = queries.audit_log(ctx, actor, account.id, limit=limit, newest_first=True)
            latest = list(page)
            if since is not None:
                latest = [e for e in latest if e.occurred_at.replace(tzinfo=None) >= since]
            return latest[::-1]

        events = _in_account(options, reading)
        if options.json:
            _print_json({"events": to_export(events)})
            return
        _table(
            "Audit",
            ("when", "who", "action", "what", "detail"),
            [
                (
                    e.occurred_at.isoformat(timespec="seconds"),
                    e.actor,
                    e.action,
                    f"{e.entity} {e.entity_id}",
                    e.detail,
                )
                for e in events
            ],
        )


DEMO_LINKS: Final = "https://portal.example/set-password?user={user_id}&token={token}"
"""How the demo's welcome e-mails spell their set-password links."""

SMTP_URL_VARIABLE: Final = "PROVISIONING_SMTP_URL"
"""The environment variable `provisioning deliver` reads its SMTP server's URL from."""


@main.command()
@click.option(
    "--smtp",
    "smtp_url",
    envvar=SMTP_URL_VARIABLE,
    show_envvar=True,
    help="The SMTP server: smtp://user:password@host:587 (STARTTLS) or smtps://...:465.",
)
@click.option(
    "--to-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each message as an .eml file into this folder instead of sending it.",
)
@click.option("--sender", default="provisioning@localhost", show_default=True, help="From:")
@click.option(
    "--links",
    default="{token}",
    show_default=True,
    help="How a message's link reads, e.g. https://portal.example/set-password?token={token}.",
)
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Put the messages given up on back in line first (see `provisioning messages`).",
)
@click.pass_obj
def deliver(
    options: _Options,
    *,
    smtp_url: str | None,
    to_dir: Path | None,
    sender: str,
    links: str,
    limit: int,
    retry_failed: bool,
) -> None:
    """Deliver the messages waiting in the store's outbox (welcomes, invitations, codes).

    Give the SMTP server's URL with --smtp or in PROVISIONING_SMTP_URL (so
    that its password stays out of `ps` and the shell's history), or write
    the messages into a folder with --to-dir. Run it again, or from cron:
    what fails is tried again later, and nothing is sent twice.
    """
    with _reported(options):
        if (smtp_url is None) == (to_dir is None):
            raise _Failure("give --smtp (or PROVISIONING_SMTP_URL) or --to-dir", _UNUSABLE)
        notifier = (
            EmlFolder(to_dir, sender=sender, links=links)
            if to_dir is not None
            else SmtpNotifier(str(smtp_url), sender=sender, links=links)
        )
        ctx = _open(options)
        try:
            if retry_failed:
                _retry_failed(ctx)
            done = deliver_messages(ctx, notifier, limit=limit, prepare=bulk.attach_reports(ctx))
            pending, waiting = ctx.store.queued_messages(
                status=MessageStatus.PENDING, offset=0, limit=queries.MAX_PAGE
            )
        finally:
            _close(ctx)
        due = min((q.next_attempt_at for q in pending), default=None)
        document = {
            "delivered": len(done.delivered),
            "retrying": len(done.retrying),
            "failed": len(done.failed),
            "waiting": waiting,
            "next_attempt_at": None if due is None else due.isoformat(timespec="seconds"),
        }
        where = f" into {to_dir}" if to_dir is not None else ""
        when = "" if due is None else f" (the next is due at {due:%Y-%m-%d %H:%M:%S} UTC)"
        _say(
            options,
            document,
            f"{len(done.delivered)} delivered{where}, {len(done.retrying)} to be tried again,"
            f" {len(done.failed)} given up; {waiting} waiting{when}",
        )
        if done.retrying or done.failed:
            raise _Failure("some messages were not delivered: see `provisioning messages`", 1)


@main.command()
@click.option(
    "--status",
    type=click.Choice(["pending", "failed", "delivered", "all"]),
    default="all",
    show_default=True,
)
@click.option("--limit", type=click.IntRange(1, queries.MAX_PAGE), default=50, show_default=True)
@click.pass_obj
def messages(options: _Options, status: str, limit: int) -> None:
    """List the outbox's messages: kind, recipient, state, attempts (never a link or code)."""
    with _reported(options):
        chosen = None if status == "all" else MessageStatus(status)
        ctx = _open(options)
        try:
            page = queries.messages(ctx, Actor.platform(), status=chosen, limit=limit)
        finally:
            _close(ctx)
        if options.json:
            _print_json({"total": page.total, "messages": [_message_document(q) for q in page]})
            return
        _table(
            f"Messages ({len(page)} of {page.total})",
            ("id", "kind", "to", "status", "attempts", "why"),
            [
                (
                    q.id,
                    q.message.template,
                    q.message.to,
                    q.status.value,
                    q.attempts,
                    q.failure or "",
                )
                for q in page
            ],
        )


def _retry_failed(ctx: Context) -> None:
    """Put every message given up on back in line, as the platform's operator."""
    while True:
        failed, _ = ctx.store.queued_messages(
            status=MessageStatus.FAILED, offset=0, limit=queries.MAX_PAGE
        )
        if not failed:
            return
        retry_messages(ctx, Actor.platform(), [q.id for q in failed])


def _message_document(queued: QueuedMessage) -> dict[str, object]:
    return {
        "id": queued.id,
        "kind": queued.message.template,
        "channel": queued.message.channel,
        "to": queued.message.to,
        "status": queued.status.value,
        "attempts": queued.attempts,
        "created_at": queued.created_at.isoformat(),
        "delivered_at": None if queued.delivered_at is None else queued.delivered_at.isoformat(),
        "failure": queued.failure,
    }


@main.command()
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default="provisioning-demo",
    show_default=True,
    help="The folder the demo writes its store and workbooks to.",
)
@click.pass_context
def demo(context: click.Context, output: Path) -> None:
    """Try the whole job: a trial tenant, an import with mistakes, its fixes, the report."""
    options: _Options = context.obj
    with _reported(options):
        named = context.find_root().get_parameter_source("store") is not ParameterSource.DEFAULT
        folder = _demo_folder(output)
        store = options.store if named else str(folder / "demo.db")
        dns = MemoryDns()
        ctx = _open(attrs.evolve(options, store=store), create=True, dns=dns)
        try:
            account, _ = _tenant(ctx, dns, "Acme Trial", DOMAIN, "it@home.example", trusted=True)
            document, issues = _demo_import(ctx, account, folder)
            mail = folder / "mail"
            sent = deliver_messages(
                ctx, EmlFolder(mail, sender=f"it@{DOMAIN}", links=DEMO_LINKS), limit=100_000
            )
            document["mail"] = str(mail)
            document["delivered"] = len(sent.delivered)
        finally:
            _close(ctx)
        shown = redacted(store)
        document["store"] = shown
        if options.json:
            _print_json(document | {"issues": [_issue_document(issue) for issue in issues]})
            return
        click.echo(f"1. a trial account {account.name!r}, its domain {DOMAIN} trusted")
        click.echo(
            f"2. {document['users_workbook']}: {ROWS} user rows, {len(MISTAKES)} of them wrong"
            " on purpose; every issue, located to its cell:"
        )
        _issues_table([issue for issue in issues if issue.blocking])
        click.echo(f"3. {document['annotated']}: the same workbook, each issue on its cell")
        click.echo(
            f"4. the {document['created']} valid rows applied in one transaction;"
            f" {document['skipped']} rows left for you to fix (a clash holds back both its rows)"
        )
        click.echo(f"5. {document['report']}: the users report")
        click.echo(
            f"6. {document['mail']}: {document['delivered']} welcome emails, each with its"
            " set-password link (open one with a mail program)"
        )
        click.echo(f"the store: {shown}; next, try: provisioning --store {shown} users")


def _demo_folder(output: Path) -> Path:
    """The demo's folder, emptied of what an earlier demo left there."""
    try:
        output.mkdir(parents=True, exist_ok=True)
        for name in _DEMO_FILES:
            (output / name).unlink(missing_ok=True)
        for old in (output / "mail").glob("*.eml"):
            old.unlink()
    except OSError as exc:
        raise _Failure(f"{output} cannot be used: {exc.strerror or exc}", _UNUSABLE) from exc
    return output


_DEMO_FILES: Final = (
    "demo.db",
    "demo.db-wal",
    "demo.db-shm",
    "users.xlsx",
    "users-annotated.xlsx",
    "users-report.xlsx",
)


def _demo_import(
    ctx: Context, account: Account, folder: Path
) -> tuple[dict[str, Any], tuple[Issue, ...]]:
    """Import the demo workbook as the super admin, skipping the wrong rows; write it all out.

    Returns what was done, as a JSON document, and the import's issues.
    """
    actor = _actor(ctx, account, None)  # the trial account's super admin
    upload = users_workbook()
    workbook, annotated, report = (folder / name for name in _DEMO_FILES[3:])
    workbook.write_bytes(upload)
    planned = bulk.plan_users(ctx, actor, account.id, upload, policy="skip_invalid", workers=None)
    bulk.write_annotated(upload, planned.issues, annotated)
    result = bulk.apply_users(ctx, planned)
    reported = bulk.write_users_report(ctx, actor, account.id, report)
    return {
        "account": account.name,
        "users_workbook": str(workbook),
        "annotated": str(annotated),
        "report": str(report),
        "created": len(result.created),
        "skipped": len(result.skipped),
        "reported": reported,
    }, planned.issues


@contextmanager
def _progress(what: str) -> Iterator[Progress | None]:
    """A progress bar on stderr when stderr is a terminal; no callback otherwise.

    The bar is redrawn by the callback, a few times a second at most, and
    not by a thread of its own: a process with a second thread never forks,
    so a large file's dry run would keep to one core (see `_forked`).
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


def _row_limits(max_rows: int) -> bulk.ReadLimits:
    """The read limits with `max_rows`, and as many cells again as the default gives a row."""
    default = bulk.DEFAULT_LIMITS
    per_row = default.max_cells // default.max_rows
    return attrs.evolve(
        default, max_rows=max_rows, max_cells=max(default.max_cells, max_rows * per_row)
    )


def _read(file: Path) -> bytes:
    """A regular file's bytes, its size checked before it is read (a FIFO would never end)."""
    try:
        found = file.stat()
        if not stat.S_ISREG(found.st_mode):
            raise _Failure(f"{file} is not a regular file", _UNUSABLE)
        if found.st_size > bulk.DEFAULT_LIMITS.max_bytes:
            raise _Failure(
                f"{file} has {found.st_size:,} bytes, more than"
                f" {bulk.DEFAULT_LIMITS.max_bytes:,} (spreadsheet.too_large)",
                _UNUSABLE,
            )
        with file.open("rb") as stream:
            return stream.read(bulk.DEFAULT_LIMITS.max_bytes + 1)
    except OSError as exc:
        raise _Failure(f"{file} cannot be read: {exc.strerror or exc}", _UNUSABLE) from exc


def _say(options: _Options, document: object, text: str) -> None:
    if options.json:
        _print_json(document)
    else:
        click.echo(text)


def _yes(value: bool) -> str:  # noqa: FBT001 - a table cell
    return "yes" if value else "no"


def _flat(document: object, prefix: str = "") -> Iterator[tuple[str, object]]:
    """(dotted field, value) of an exported entity, nested records spelled out."""
    if isinstance(document, dict) and document:
        for key, value in document.items():
            yield from _flat(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, document


def _close(ctx: Context) -> None:
    close = getattr(ctx.store, "close", None)
    if close is not None:
        close()
