"""The `provisioning` command: the library's workflow and queries from a shell.

Installed with the extra `provisioning[cli]`, as the console script
`provisioning` (or `python -m provisioning`). It has no rules of its own:
each subcommand builds the library's commands (one, for a verb; any number,
from a document: `_documents`) or calls its queries, as the principal
chosen (`--as`, `--as-operator`, or the account's super admin), so every
permission check is the library's. What the subcommands share is in `_base`.

Exit codes: 0 done; 1 the request had blocking issues, or was refused, and
nothing was changed; 2 the input or the usage was unusable (a file that is
no workbook, bad flags, a store that cannot be opened); 70 a bug. Errors
are one line on stderr; `--debug` adds the traceback. `--format json`
prints one JSON document built with the library's export converter, which
leaves every secret out.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

import attrs
import click
from click.core import ParameterSource

from provisioning import (
    ActivateDomain,
    Actor,
    AddDomain,
    Context,
    CreateAccount,
    Issue,
    ProvisioningError,
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
from provisioning.cli._base import (
    DEFAULT_STORE,
    FORMATS,
    REFUSED,
    UNUSABLE,
    Failure,
    OneLineErrors,
    Options,
    account_listing,
    choose_actor,
    close,
    configure_logging,
    examples,
    in_account,
    input_name,
    issue_document,
    issues_table,
    listed,
    open_store,
    output,
    print_json,
    progress,
    read_input,
    reported,
    say,
    table,
    waiting_messages,
    waiting_note,
)
from provisioning.cli._demo import DOMAIN, MISTAKES, ROWS, users_workbook
from provisioning.cli._documents import DOCUMENTS
from provisioning.cli._verbs import VERBS
from provisioning.engine import collecting_less, retry_messages
from provisioning.engine import deliver as deliver_messages
from provisioning.model import (
    Account,
    AuditEvent,
    Domain,
    MessageStatus,
    QueuedMessage,
)
from provisioning.model._converter import to_export

__all__ = ["main"]

SHOWN_ROWS: Final = 50  # rows of a changes table; --format json has all


# -- the commands -------------------------------------------------------------------------------


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
    table(
        title,
        ("row", "user", "field", "now", "in the file"),
        [
            (f"{change.sheet}!{change.row}", change.email, field.field, field.old, field.new)
            for change in changes[:SHOWN_ROWS]
            for field in change.fields
        ],
    )
    if len(changes) > SHOWN_ROWS:
        click.echo(f"... and {len(changes) - SHOWN_ROWS:,} more rows: --format json has all")


@click.group(
    cls=OneLineErrors,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=examples(
        "provisioning init --account Acme --domain acme.example --admin-email it@home.example",
        "PROVISIONING_STORE=/etc/provisioning/store-url provisioning users --format csv",
    ),
)
@click.option(
    "--store",
    envvar="PROVISIONING_STORE",
    show_envvar=True,
    default=DEFAULT_STORE,
    show_default=True,
    help="A SQLite file, a postgresql:// URL, or a file holding that URL (chmod 600).",
)
@click.option(
    "--account",
    envvar="PROVISIONING_ACCOUNT",
    show_envvar=True,
    help="The account to act in, by id or name (default: the only one).",
)
@click.option(
    "--as",
    "acting_as",
    metavar="ADDRESS",
    envvar="PROVISIONING_AS",
    show_envvar=True,
    help="Act as this user, with the rights it holds (support:SESSION for a support session,"
    " an API client's pvc_ token for that client; default: the account's super admin).",
)
@click.option(
    "--as-operator",
    is_flag=True,
    envvar="PROVISIONING_AS_OPERATOR",
    show_envvar=True,
    help="Act as the platform operator, who may do anything (audited as platform:operator).",
)
@click.option(
    "--format",
    "chosen_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Tables for people, one JSON document, or (lists) JSON Lines or CSV.",
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
    as_operator: bool,
    chosen_format: str,
    debug: bool,
) -> None:
    """Provision an email platform's tenants: domains, users, access, from a shell.

    Every option here may also be given by its environment variable; an
    option given wins over its variable, which wins over the default.
    """
    configure_logging(debug=debug)
    context.obj = Options(
        store=store,
        account=account,
        acting_as=acting_as,
        as_operator=as_operator,
        format=chosen_format,
        debug=debug,
    )
    # The command line owns its process: large batches may collect garbage less often.
    context.with_resource(collecting_less())


@main.group(epilog=examples("provisioning db upgrade"))
def db() -> None:
    """The store's database."""


@db.command(
    epilog=examples(
        "provisioning db upgrade",
        "PROVISIONING_STORE=postgresql://provisioning@db.internal/tenants provisioning db upgrade",
    )
)
@output("text", "json")
def upgrade(options: Options) -> None:
    """Create the database or migrate it to this version's schema."""
    with reported(options):
        close(open_store(options, upgrade=True, create=True))
        shown = redacted(options.store)
        say(options, {"store": shown, "upgraded": True}, f"{shown}: up to date")


@main.command(
    epilog=examples(
        "provisioning init --account Acme --domain acme.example --admin-email it@home.example",
        "provisioning init --account Trial --domain trial.example --admin-email me@home.example"
        " --trust-domain",
    )
)
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
@output("text", "json")
def init(
    options: Options,
    name: str,
    domain: str,
    admin_email: str,
    trust_domain: bool,  # noqa: FBT001 - a click flag
) -> None:
    """Create an account and its first domain, with its super admin, in one batch."""
    with reported(options):
        dns = MemoryDns()
        ctx = open_store(options, create=True, dns=dns)
        try:
            account, added = _tenant(ctx, dns, name, domain, admin_email, trusted=trust_domain)
            say(options, *_initialised(account, added, ctx, trusted=trust_domain))
            waiting_note(ctx)
        finally:
            close(ctx)


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
        (q for q in waiting_messages(ctx) if q.message.template == "admin.created"), None
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


@main.command(epilog=examples("provisioning template users.xlsx"))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@output("text", "json")
def template(options: Options, file: Path) -> None:
    """Write the account's import template (.xlsx)."""
    with reported(options):

        def write(ctx: Context, account: Account, actor: Actor) -> None:
            bulk.write_template(ctx, actor, account.id, file)

        in_account(options, write)
        say(options, {"template": str(file)}, f"wrote {file}")


@main.command(
    name="import",
    epilog=examples(
        "provisioning import users.xlsx --dry-run --annotate checked.xlsx",
        "cat google-users.csv | provisioning import - --updates --policy skip-invalid",
    ),
)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
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
@output("text", "json")
def import_(
    options: Options,
    *,
    file: Path,
    dry_run: bool,
    policy: str,
    annotate: Path | None,
    updates: bool,
    max_rows: int,
) -> None:
    """Import users (and their access) from a workbook or CSV.

    FILE `-` reads standard input. Rows of users that exist already change
    nothing unless --updates is given; either way, each field they would
    change is shown.
    """
    with reported(options):
        limits = _row_limits(max_rows)
        shown = input_name(file)

        def importing(ctx: Context, account: Account, actor: Actor) -> None:
            chosen: bulk.Policy = "skip_invalid" if policy == "skip-invalid" else "all_or_nothing"
            upload = read_input(file)
            with progress("checking") as checking:
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
                "file": shown,
                "ok": planned.ok,
                "dry_run": dry_run,
                "planned": len(planned.rows),
                "unchanged": len(planned.unchanged),
                "changed": len(planned.changed),
                "skipped": len(planned.skipped),
                "errors": len(planned.errors),
                "warnings": len(planned.warnings),
                "issues": [issue_document(issue) for issue in planned.issues],
                "changes": [_change_document(change) for change in planned.changed],
            }
            if not options.json and planned.issues:
                issues_table(planned.issues)
            if not options.json and planned.changed:
                _changes_table(planned.changed, applied=updates)
            if not planned.ok:
                message = f"{shown}: {len(planned.errors)} blocking issue(s); nothing was changed"
                raise Failure(message, REFUSED, document)
            held = "" if updates or not planned.changed else f", {len(planned.changed)} held back"
            if dry_run:
                say(
                    options,
                    document,
                    f"{shown}: ready, {len(planned.rows)} change(s) planned,"
                    f" {len(planned.unchanged)} unchanged, {len(planned.changed)} changed{held}",
                )
                return
            with progress("writing") as writing:
                result = bulk.apply_users(ctx, planned, progress=writing)
            document |= {"created": len(result.created), "updated": len(result.updated)}
            say(
                options,
                document,
                f"{shown}: {len(result.created)} created, {len(result.updated)} updated,"
                f" {len(result.unchanged)} unchanged, {len(planned.changed)} changed{held},"
                f" {len(result.skipped)} skipped",
            )
            waiting_note(ctx)

        in_account(options, importing)


@main.command(
    epilog=examples(
        "provisioning report users.xlsx",
        "provisioning report - --format csv | grep -c ',true,'",
    )
)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@output("text", "json", "csv", "xlsx")
def report(options: Options, file: Path) -> None:
    """Write the users report to FILE: .csv by its name, .xlsx otherwise; `-` is stdout.

    --format csv or xlsx chooses the bytes whatever the name (to standard
    output: csv unless xlsx is asked for, and xlsx only into a pipe or a file).
    """
    with reported(options):
        to_stdout = str(file) == "-"
        chosen = options.format if options.format in ("csv", "xlsx") else None
        if chosen is None:
            chosen = "csv" if to_stdout or file.suffix.casefold() == ".csv" else "xlsx"
        if to_stdout and chosen == "xlsx" and sys.stdout.isatty():
            raise Failure("an .xlsx report is not for a terminal: redirect it to a file", UNUSABLE)
        format_: Literal["csv", "xlsx"] = "csv" if chosen == "csv" else "xlsx"

        def write(ctx: Context, account: Account, actor: Actor) -> int:
            destination = sys.stdout.buffer if to_stdout else file
            return bulk.write_users_report(ctx, actor, account.id, destination, format=format_)

        count = in_account(options, write)
        if to_stdout:  # standard output holds the report alone
            click.echo(f"wrote {count} user(s) to standard output", err=True)
            return
        say(options, {"report": str(file), "users": count}, f"wrote {count} user(s) to {file}")


@main.command(
    epilog=examples(
        "provisioning users ann --limit 10",
        "provisioning users --format csv > users.csv",
    )
)
@click.argument("search", required=False)
@click.option("--sort", type=click.Choice(["email", "-email"]), default="email", show_default=True)
@click.option("--limit", type=click.IntRange(1, queries.MAX_PAGE), default=50, show_default=True)
@output("text", "json", "ndjson", "csv")
def users(options: Options, search: str | None, sort: str, limit: int) -> None:
    """List the account's users (searching usernames, names and directory services)."""
    with reported(options):

        def listing(ctx: Context, account: Account, actor: Actor) -> queries.UserPage:
            return queries.users(
                ctx, actor, account.id, search=search, descending=sort == "-email", limit=limit
            )

        page = in_account(options, listing)
        listed(
            options,
            "users",
            to_export(list(page.items)),
            total=page.total,
            text=lambda: table(
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
            ),
        )


@main.command(epilog=examples("provisioning domains", "provisioning domains --format ndjson"))
@output("text", "json", "ndjson", "csv")
def domains(options: Options) -> None:
    """List the account's domains."""
    account_listing(
        options,
        queries.domains,
        ("domains", "Domains"),
        ("name", "status", "id"),
        lambda d: (d.name, d.status, d.id),
    )


@main.command(
    epilog=examples(
        "provisioning audit --since 2026-12-01 --limit 500",
        "provisioning audit --format ndjson | jq .action",
    )
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
    help="Only events from then on (UTC).",
)
@click.option("--limit", type=click.IntRange(1, queries.MAX_PAGE), default=100, show_default=True)
@output("text", "json", "ndjson", "csv")
def audit(options: Options, since: datetime | None, limit: int) -> None:
    """The account's latest audit events."""
    with reported(options):

        def reading(
            ctx: Context, account: Account, actor: Actor
        ) -> tuple[list[AuditEvent], dict[str, str]]:
            """The latest `limit` events (since `since`), oldest first as a log reads.

            And the username of each user that acted, where the reader may read it.
            """
            page = queries.audit_log(ctx, actor, account.id, limit=limit, newest_first=True)
            latest = list(page)
            if since is not None:
                latest = [e for e in latest if e.occurred_at.replace(tzinfo=None) >= since]
            return latest[::-1], _actor_names(ctx, actor, {str(e.actor) for e in latest})

        events, names = in_account(options, reading)
        listed(
            options,
            "events",
            to_export(events),
            text=lambda: table(
                "Audit",
                ("when", "who", "action", "what", "detail"),
                [
                    (
                        e.occurred_at.isoformat(timespec="seconds"),
                        names.get(str(e.actor), str(e.actor)),
                        e.action,
                        f"{e.entity} {e.entity_id}",
                        e.detail,
                    )
                    for e in events
                ],
            ),
        )


def _actor_names(ctx: Context, reader: Actor, actors: set[str]) -> dict[str, str]:
    """Who acted, by name: a user's username, an API client's name, where the reader may read it.

    The others stay as the audit log has them (`platform:operator`, an id).
    """
    named: dict[str, Callable[[str], str]] = {
        "user": lambda user_id: str(queries.get_user(ctx, reader, user_id).username),
        "client": lambda client_id: (
            f"{queries.get_api_client(ctx, reader, client_id).name} (API client)"
        ),
    }
    names = {}
    for actor in actors:
        kind, _, actor_id = actor.partition(":")
        if kind not in named:
            continue
        try:
            names[actor] = named[kind](actor_id)
        except ProvisioningError:
            continue
    return names


@main.command(epilog=examples("provisioning roles", "provisioning roles --format csv"))
@output("text", "json", "ndjson", "csv")
def roles(options: Options) -> None:
    """List the roles of the account and of the platform: the names `--role` takes."""
    account_listing(
        options,
        queries.roles,
        ("roles", "Roles"),
        ("name", "scope", "permissions", "id"),
        lambda r: (r.name, r.scope, ", ".join(sorted(r.permissions)), r.id),
    )


DEMO_LINKS: Final = "https://portal.example/set-password?user={user_id}&token={token}"
"""How the demo's welcome e-mails spell their set-password links."""

SMTP_URL_VARIABLE: Final = "PROVISIONING_SMTP_URL"
"""The environment variable `provisioning deliver` reads its SMTP server's URL from."""


@main.command(
    epilog=examples(
        "provisioning deliver --to-dir mail",
        "PROVISIONING_SMTP_URL=smtp://mailer:secret@mail.example:587 provisioning deliver"
        " --sender it@acme.example",
    )
)
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
@output("text", "json")
def deliver(
    options: Options,
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
    with reported(options):
        if (smtp_url is None) == (to_dir is None):
            raise Failure("give --smtp (or PROVISIONING_SMTP_URL) or --to-dir", UNUSABLE)
        notifier = (
            EmlFolder(to_dir, sender=sender, links=links)
            if to_dir is not None
            else SmtpNotifier(str(smtp_url), sender=sender, links=links)
        )
        ctx = open_store(options)
        try:
            if retry_failed:
                _retry_failed(ctx)
            done = deliver_messages(ctx, notifier, limit=limit, prepare=bulk.attach_reports(ctx))
            pending, waiting = ctx.store.queued_messages(
                status=MessageStatus.PENDING, offset=0, limit=queries.MAX_PAGE
            )
        finally:
            close(ctx)
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
        say(
            options,
            document,
            f"{len(done.delivered)} delivered{where}, {len(done.retrying)} to be tried again,"
            f" {len(done.failed)} given up; {waiting} waiting{when}",
        )
        if done.retrying or done.failed:
            raise Failure("some messages were not delivered: see `provisioning messages`", 1)


@main.command(
    epilog=examples(
        "provisioning messages --status failed", "provisioning messages --format csv > outbox.csv"
    )
)
@click.option(
    "--status",
    type=click.Choice(["pending", "failed", "delivered", "all"]),
    default="all",
    show_default=True,
)
@click.option("--limit", type=click.IntRange(1, queries.MAX_PAGE), default=50, show_default=True)
@output("text", "json", "ndjson", "csv")
def messages(options: Options, status: str, limit: int) -> None:
    """List the outbox's messages: kind, recipient, state, attempts (never a link or code)."""
    with reported(options):
        chosen = None if status == "all" else MessageStatus(status)
        ctx = open_store(options)
        try:
            page = queries.messages(ctx, Actor.platform(), status=chosen, limit=limit)
        finally:
            close(ctx)
        listed(
            options,
            "messages",
            [_message_document(q) for q in page],
            total=page.total,
            text=lambda: table(
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
            ),
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


@main.command(
    epilog=examples("provisioning demo", "provisioning demo --output /tmp/trial --format json")
)
@click.option(
    "--output",
    "folder_name",
    type=click.Path(file_okay=False, path_type=Path),
    default="provisioning-demo",
    show_default=True,
    help="The folder the demo writes its store and workbooks to.",
)
@output("text", "json")
def demo(options: Options, folder_name: Path) -> None:
    """Try the whole job: a trial tenant, an import with mistakes, its fixes, the report."""
    with reported(options):
        root = click.get_current_context().find_root()
        named = root.get_parameter_source("store") not in (ParameterSource.DEFAULT, None)
        folder = _demo_folder(folder_name)
        store = options.store if named else str(folder / "demo.db")
        dns = MemoryDns()
        ctx = open_store(attrs.evolve(options, store=store), create=True, dns=dns)
        try:
            account, _ = _tenant(ctx, dns, "Acme Trial", DOMAIN, "it@home.example", trusted=True)
            trial = attrs.evolve(options, acting_as=None, as_operator=False)
            actor = choose_actor(ctx, trial, account)  # the trial account's super admin
            document, issues = _demo_import(ctx, account, actor, folder)
            mail = folder / "mail"
            sent = deliver_messages(
                ctx, EmlFolder(mail, sender=f"it@{DOMAIN}", links=DEMO_LINKS), limit=100_000
            )
            document["mail"] = str(mail)
            document["delivered"] = len(sent.delivered)
        finally:
            close(ctx)
        shown = redacted(store)
        document["store"] = shown
        if options.json:
            print_json(document | {"issues": [issue_document(issue) for issue in issues]})
            return
        click.echo(f"1. a trial account {account.name!r}, its domain {DOMAIN} trusted")
        click.echo(
            f"2. {document['users_workbook']}: {ROWS} user rows, {len(MISTAKES)} of them wrong"
            " on purpose; every issue, located to its cell:"
        )
        issues_table([issue for issue in issues if issue.blocking])
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
        first = document["first_user"]
        click.echo(f"the store: {shown}; next, try:")
        for line in (
            "users ada",
            "domain add sales.example",
            "--as-operator domain verify sales.example --trust",
            f"user disable {first}",
        ):
            click.echo(f"  provisioning --store {shown} {line}")


def _demo_folder(output: Path) -> Path:
    """The demo's folder, emptied of what an earlier demo left there."""
    try:
        output.mkdir(parents=True, exist_ok=True)
        for name in _DEMO_FILES:
            (output / name).unlink(missing_ok=True)
        for old in (output / "mail").glob("*.eml"):
            old.unlink()
    except OSError as exc:
        raise Failure(f"{output} cannot be used: {exc.strerror or exc}", UNUSABLE) from exc
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
    ctx: Context, account: Account, actor: Actor, folder: Path
) -> tuple[dict[str, Any], tuple[Issue, ...]]:
    """Import the demo workbook as the super admin, skipping the wrong rows; write it all out.

    Returns what was done, as a JSON document, and the import's issues.
    """
    upload = users_workbook()
    workbook, annotated, report = (folder / name for name in _DEMO_FILES[3:])
    workbook.write_bytes(upload)
    planned = bulk.plan_users(ctx, actor, account.id, upload, policy="skip_invalid", workers=None)
    bulk.write_annotated(upload, planned.issues, annotated)
    result = bulk.apply_users(ctx, planned)
    reported = bulk.write_users_report(ctx, actor, account.id, report)
    first = queries.get_user(ctx, actor, result.created[0][1]) if result.created else None
    return {
        "account": account.name,
        "users_workbook": str(workbook),
        "annotated": str(annotated),
        "report": str(report),
        "created": len(result.created),
        "skipped": len(result.skipped),
        "reported": reported,
        "first_user": None if first is None else str(first.username),
    }, planned.issues


def _row_limits(max_rows: int) -> bulk.ReadLimits:
    """The read limits with `max_rows`, and as many cells again as the default gives a row."""
    default = bulk.DEFAULT_LIMITS
    per_row = default.max_cells // default.max_rows
    return attrs.evolve(
        default, max_rows=max_rows, max_cells=max(default.max_cells, max_rows * per_row)
    )


def _yes(value: bool) -> str:  # noqa: FBT001 - a table cell
    return "yes" if value else "no"


for _command in (*DOCUMENTS, *VERBS):
    main.add_command(_command)
