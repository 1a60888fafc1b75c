"""The verbs people type: each a thin shell over one of the library's commands.

`provisioning domain verify acme.example` finds the domain by name, builds
`VerifyDomain` and runs it as the chosen principal: the library checks the
rights, the rules and the DNS; the verb only turns names into ids and the
result into output. A verb that takes something away asks first on a
terminal (`--yes` in a script), typing the name again where the library
asks for it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, Protocol, TypeVar

import click

from provisioning import (
    UNCHANGED,
    ActivateDomain,
    Actor,
    AddDomain,
    ApproveSupportAccess,
    CloseSupportSession,
    Command,
    Context,
    CreateApiClient,
    CreateUser,
    DeactivateDomain,
    DeleteDomain,
    DeleteUser,
    EndSupportAccess,
    InvalidValue,
    InviteUser,
    NotFound,
    OpenSupportSession,
    ReinitializeMfa,
    RenameUser,
    RequestSupportAccess,
    ResetPassword,
    RevokeApiClient,
    RotateApiClientSecret,
    SetGrant,
    SetUpPhoneUser,
    UpdateUser,
    VerifyDomain,
    queries,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.cli._base import (
    SESSION_PREFIX,
    UNUSABLE,
    Failure,
    Here,
    Options,
    account_listing,
    all_of,
    close,
    confirmed,
    examples,
    flat,
    open_store,
    output,
    reported,
    say,
    table,
    waiting_note,
)
from provisioning.model import Domain, DomainName, User
from provisioning.model._converter import to_export

__all__ = ["VERBS"]

_R = TypeVar("_R")


_Build = Callable[[Here], Command[Any]]

_YES: Final = click.option("--yes", is_flag=True, help="Do not ask: confirmed (for scripts).")


def _act(
    options: Options,
    build: _Build,
    said: Callable[[Any], str],
    *,
    ask: Callable[[Here], tuple[str, str | None]] | None = None,
    yes: bool = False,
    dns: MemoryDns | None = None,
) -> None:
    """Build one command, confirm it if `ask`, run it as the chosen principal, say what it did.

    `ask` gives the question and the text to type again (or None for y/N);
    it is asked after the names are found, so a typo is said before any
    question.
    """
    with reported(options):
        ctx = open_store(options, dns=dns)
        try:
            here = Here(ctx, options)
            command = build(here)
            if ask is not None:
                question, typed = ask(here)
                confirmed(question, yes=yes, typed=typed)
            result = run(ctx, here.actor, command)
            document = {"done": type(command).__name__, "result": to_export(result)}
            say(options, document, said(result))
            waiting_note(ctx)
        finally:
            close(ctx)


# -- finding things by the names people use ------------------------------------------------------


def _domain_named(here: Here, name: str) -> Domain:
    """The account's domain called `name`, however it is spelt (Unicode or punycode, any case)."""
    try:
        wanted = DomainName.parse(name, field="domain").ascii
    except InvalidValue:
        raise NotFound(entity="domain", key=name[:253]) from None
    for domain in all_of(queries.domains, here.ctx, here.actor, here.account.id):
        if domain.name.ascii == wanted:
            return domain
    raise NotFound(entity="domain", key=name[:253])


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


_I = TypeVar("_I", bound=_Identified)


def _id_named(
    found: Iterable[_I],
    wanted: str,
    spelling: Callable[[_I], object],
    *,
    normal: Callable[[str], str] = str.casefold,
) -> str:
    """The id of what `wanted` names among `found`: by its id, or by how people spell it.

    `spelling` gives an item's name (or address, or number), compared with
    `wanted` once both are `normal`. When nothing matches, `wanted` itself
    is the answer: the library then refuses it as an id nobody holds.
    """
    wanted = wanted.strip()
    key = normal(wanted)
    return next(
        (item.id for item in found if item.id == wanted or normal(str(spelling(item))) == key),
        wanted,
    )


def _role_ids(ctx: Context, actor: Actor, account_id: str, names: Iterable[str]) -> frozenset[str]:
    """The ids of the roles `names` names (by name or id)."""
    wanted = list(names)
    if not wanted:
        return frozenset()
    roles = all_of(queries.roles, ctx, actor, account_id)
    return frozenset(_id_named(roles, name, lambda role: role.name) for name in wanted)


def _cos_id(ctx: Context, actor: Actor, account_id: str | None, name: str | None) -> str | None:
    """The id of the class of service `name` names (by name or id)."""
    if name is None or account_id is None:
        return name
    found = all_of(queries.classes_of_service, ctx, actor, account_id)
    return _id_named(found, name, lambda cos: cos.name)


def _digits(text: str) -> str:
    return "".join(character for character in text if character.isdigit())


def _named(result: object) -> str:
    """How a result reads in one line: its name or address, and its state."""
    if result is None:
        return "done"
    name = next(
        (
            str(value)
            for attribute in ("username", "name", "email", "address")
            if (value := getattr(result, attribute, None)) is not None
        ),
        getattr(result, "id", ""),
    )
    state = getattr(result, "status", None)
    kind = type(result).__name__.lower()
    return f"{kind} {name}" + (f": {state}" if state is not None else "")


# -- domain -------------------------------------------------------------------------------------


@click.group(
    epilog=examples(
        "provisioning domain add sales.acme.example",
        "provisioning domain verify sales.acme.example",
    )
)
def domain() -> None:
    """Add a domain, verify it by DNS, activate, deactivate or delete it."""


@domain.command(
    name="add",
    epilog=examples("provisioning domain add sales.acme.example"),
)
@click.argument("name")
@click.option("--admin-email", help="Its super admin's primary email (the account's first).")
@output("text", "json")
def domain_add(options: Options, name: str, admin_email: str | None) -> None:
    """Add the domain NAME to the account; it stays pending until verified."""

    def build(here: Here) -> Command[Any]:
        account = here.account
        return AddDomain(account_id=account.id, name=name, admin_email=admin_email)

    _act(
        options,
        build,
        lambda added: (
            f"domain {added.name}: {added.status}; publish this TXT record at"
            f" {added.name}: {added.verification_token}, then: provisioning domain verify {name}"
        ),
    )


@domain.command(
    name="verify",
    epilog=examples(
        "provisioning domain verify sales.acme.example",
        "provisioning --as-operator domain verify sales.acme.example --trust",
    ),
)
@click.argument("name")
@click.option(
    "--trust",
    is_flag=True,
    help="Mark it verified without DNS (a local trial; the platform operator only).",
)
@output("text", "json")
def domain_verify(options: Options, name: str, trust: bool) -> None:  # noqa: FBT001 - a flag
    """Check the domain's TXT record in DNS; verified, it may be activated.

    The record to publish is shown first, so a failed check says what is missing.
    """
    if trust and not options.as_operator:
        with reported(options):
            raise Failure(
                "--trust skips DNS: only the platform operator may (--as-operator)", UNUSABLE
            )
    dns = MemoryDns() if trust else None

    def build(here: Here) -> Command[Any]:
        found = _domain_named(here, name)
        if dns is not None:
            dns.publish(found.name.unicode, found.verification_token)
        elif not options.json:
            click.echo(f"TXT record at {found.name}: {found.verification_token}", err=True)
        return VerifyDomain(domain_id=found.id)

    _act(options, build, _named, dns=dns)


@domain.command(name="activate", epilog=examples("provisioning domain activate sales.acme.example"))
@click.argument("name")
@output("text", "json")
def domain_activate(options: Options, name: str) -> None:
    """Activate a verified domain: its users may sign in and receive mail."""
    _act(
        options,
        lambda here: ActivateDomain(domain_id=_domain_named(here, name).id),
        _named,
    )


@domain.command(
    name="deactivate", epilog=examples("provisioning domain deactivate old.acme.example --yes")
)
@click.argument("name")
@_YES
@output("text", "json")
def domain_deactivate(options: Options, name: str, yes: bool) -> None:  # noqa: FBT001 - a flag
    """Deactivate a domain: its users can no longer sign in."""
    _act(
        options,
        lambda here: DeactivateDomain(domain_id=_domain_named(here, name).id),
        _named,
        ask=lambda *_: (f"Deactivate {name}? Its users can no longer sign in.", None),
        yes=yes,
    )


@domain.command(name="delete", epilog=examples("provisioning domain delete old.acme.example --yes"))
@click.argument("name")
@click.option("--remove-dependents", is_flag=True, help="Also delete its users and mailboxes.")
@_YES
@output("text", "json")
def domain_delete(
    options: Options,
    name: str,
    remove_dependents: bool,  # noqa: FBT001 - a flag
    yes: bool,  # noqa: FBT001 - a flag
) -> None:
    """Delete a domain for good; the library asks for its name again, and so does this."""
    _act(
        options,
        lambda here: DeleteDomain(
            domain_id=_domain_named(here, name).id,
            confirm_name=name,
            remove_dependents=remove_dependents,
        ),
        lambda _: f"domain {name}: deleted",
        ask=lambda *_: (f"Delete the domain {name} for good?", name),
        yes=yes,
    )


# -- user ---------------------------------------------------------------------------------------


@click.group(
    epilog=examples(
        "provisioning user show ann@acme.example", "provisioning user disable ann@acme.example"
    )
)
def user() -> None:
    """Add, show, change, rename, disable, enable or delete one user."""


def _profile(function: Callable[..., _R]) -> Callable[..., _R]:
    """The options of a user's profile, shared by `user add` and `user update`."""
    for option in reversed(
        (
            click.option("--first-name"),
            click.option("--last-name"),
            click.option("--display-name"),
            click.option("--alternate-email", help="Where its messages go."),
            click.option("--mobile", help="A phone number, e.g. +44 20 7946 0000."),
            click.option("--timezone", help="An IANA time zone, e.g. Europe/Paris."),
            click.option("--cos", help="Its class of service, by name or id."),
            click.option("--alias", "aliases", multiple=True, help="An alias (repeat for more)."),
            click.option("--mfa-required/--no-mfa-required", default=None),
        )
    ):
        function = option(function)
    return function


def _given(**fields: object) -> dict[str, object]:
    """The fields an option was given for; the rest stay as they are."""
    return {name: value for name, value in fields.items() if value not in (None, ())}


@user.command(
    name="add",
    epilog=examples(
        "provisioning user add ann@acme.example --first-name Ann --last-name Lee"
        " --alternate-email ann@home.example",
    ),
)
@click.argument("address")
@_profile
@click.option("--disabled", is_flag=True, help="Create it disabled.")
@click.option("--personal-mailbox", is_flag=True, help="Give it a personal mailbox.")
@output("text", "json")
def user_add(options: Options, address: str, cos: str | None, **profile: Any) -> None:  # noqa: ANN401
    """Add the user ADDRESS; its set-password link goes by message (see `deliver`)."""
    disabled, personal = profile.pop("disabled"), profile.pop("personal_mailbox")

    def build(here: Here) -> Command[Any]:
        ctx, account, actor = here.ctx, here.account, here.actor
        return CreateUser(
            account_id=account.id,
            username=address,
            enabled=not disabled,
            personal_mailbox=personal,
            cos_id=_cos_id(ctx, actor, account.id, cos),
            **_given(**profile),  # type: ignore[arg-type]
        )

    _act(options, build, _named)


@user.command(name="show", epilog=examples("provisioning user show ann@acme.example --format json"))
@click.argument("address")
@output("text", "json")
def user_show(options: Options, address: str) -> None:
    """Show the user whose username (or alias) is ADDRESS, in full."""
    with reported(options):
        ctx = open_store(options)
        try:
            here = Here(ctx, options)
            found = queries.find_user(ctx, here.actor, address=address)
        finally:
            close(ctx)
        document = to_export(found)
        if options.json:
            say(options, document, "")
            return
        table(str(found.username), ("field", "value"), list(flat(document)))


def _on_user(
    options: Options,
    address: str,
    build: Callable[[User], Command[Any]],
    said: Callable[[Any], str],
    *,
    ask: str | None = None,
    typed: bool = False,
    yes: bool = False,
) -> None:
    """Run the command `build` makes of the user `address`, asking first if `ask`."""
    found: list[User] = []

    def building(here: Here) -> Command[Any]:
        found.append(queries.find_user(here.ctx, here.actor, address=address))
        return build(found[0])

    _act(
        options,
        building,
        said,
        ask=None
        if ask is None
        else lambda *_: (
            ask.format(user=found[0].username),
            str(found[0].username) if typed else None,
        ),
        yes=yes,
    )


@user.command(
    name="update",
    epilog=examples("provisioning user update ann@acme.example --mobile '+44 20 7946 0000'"),
)
@click.argument("address")
@_profile
@output("text", "json")
def user_update(options: Options, address: str, cos: str | None, **profile: Any) -> None:  # noqa: ANN401
    """Change the fields given of the user ADDRESS; the others stay as they are."""

    def build(here: Here) -> Command[Any]:
        ctx, actor = here.ctx, here.actor
        found = queries.find_user(ctx, actor, address=address)
        fields = _given(**profile)
        if "aliases" in fields:
            fields["aliases"] = tuple(fields["aliases"])  # type: ignore[arg-type]
        chosen = _cos_id(ctx, actor, found.account_id, cos)
        return UpdateUser(
            user_id=found.id,
            version=found.version,
            cos_id=UNCHANGED if chosen is None else chosen,
            **fields,  # type: ignore[arg-type]
        )

    _act(options, build, _named)


@user.command(
    name="rename",
    epilog=examples("provisioning user rename ann@acme.example ann.lee@acme.example --keep-alias"),
)
@click.argument("address")
@click.argument("new_address")
@click.option("--keep-alias", is_flag=True, help="Keep the old address as an alias.")
@output("text", "json")
def user_rename(options: Options, address: str, new_address: str, keep_alias: bool) -> None:  # noqa: FBT001
    """Give the user ADDRESS the username NEW_ADDRESS."""
    _on_user(
        options,
        address,
        lambda found: RenameUser(
            user_id=found.id,
            version=found.version,
            username=new_address,
            keep_old_as_alias=keep_alias,
        ),
        _named,
    )


@user.command(name="disable", epilog=examples("provisioning user disable ann@acme.example --yes"))
@click.argument("address")
@_YES
@output("text", "json")
def user_disable(options: Options, address: str, yes: bool) -> None:  # noqa: FBT001 - a flag
    """Disable the user ADDRESS: it can no longer sign in; nothing of it is deleted."""
    _on_user(
        options,
        address,
        lambda found: UpdateUser(user_id=found.id, version=found.version, enabled=False),
        lambda done: f"user {done.username}: disabled",
        ask="Disable {user}? It can no longer sign in.",
        yes=yes,
    )


@user.command(name="enable", epilog=examples("provisioning user enable ann@acme.example"))
@click.argument("address")
@output("text", "json")
def user_enable(options: Options, address: str) -> None:
    """Enable the user ADDRESS again."""
    _on_user(
        options,
        address,
        lambda found: UpdateUser(user_id=found.id, version=found.version, enabled=True),
        lambda done: f"user {done.username}: enabled",
    )


@user.command(name="delete", epilog=examples("provisioning user delete ann@acme.example --yes"))
@click.argument("address")
@_YES
@output("text", "json")
def user_delete(options: Options, address: str, yes: bool) -> None:  # noqa: FBT001 - a flag
    """Delete the user ADDRESS for good; you type the address again to confirm."""
    _on_user(
        options,
        address,
        lambda found: DeleteUser(user_id=found.id, version=found.version),
        lambda _: f"user {address}: deleted",
        ask="Delete the user {user} for good?",
        typed=True,
        yes=yes,
    )


@user.command(
    name="reset-password",
    epilog=examples(
        "provisioning user reset-password ann@acme.example",
        "provisioning user reset-password ann@acme.example --yes --show-password"
        " | pass insert -m ann",
    ),
)
@click.argument("address")
@click.option(
    "--show-password",
    is_flag=True,
    help="Print the new password even when standard output is no terminal (a pipe, a file).",
)
@_YES
@output("text")
def user_reset_password(
    options: Options,
    address: str,
    show_password: bool,  # noqa: FBT001 - a flag
    yes: bool,  # noqa: FBT001 - a flag
) -> None:
    """Give ADDRESS a generated password, shown this once; it must change it at its next sign-in.

    The password is printed on the terminal, and nowhere else: not in a log,
    not in JSON. Without a terminal, --show-password says where it may go;
    otherwise nothing is changed, so no password is made that nobody saw.
    """
    if not (show_password or sys.stdout.isatty()):
        with reported(options):
            raise Failure(
                "the new password is shown once, on a terminal: run this at one, or give"
                " --show-password to print it into this pipe or file; nothing was changed",
                UNUSABLE,
            )
    _on_user(
        options,
        address,
        lambda found: ResetPassword(user_id=found.id),
        lambda done: (
            f"the new password of {done.user.username}, shown this once"
            f" (it must be changed at the next sign-in):\n{done.password}"
        ),
        ask="Reset the password of {user}? Its current one stops working.",
        yes=yes,
    )


@user.command(
    name="reset-mfa", epilog=examples("provisioning user reset-mfa ann@acme.example --yes")
)
@click.argument("address")
@_YES
@output("text", "json")
def user_reset_mfa(options: Options, address: str, yes: bool) -> None:  # noqa: FBT001 - a flag
    """Reset the two-factor set-up of ADDRESS: it enrols again at its next sign-in."""
    _on_user(
        options,
        address,
        lambda found: ReinitializeMfa(user_id=found.id),
        lambda _: (
            f"user {address}: two-factor set-up reset; it enrols its authenticator again"
            " at its next sign-in"
        ),
        ask="Reset the two-factor set-up of {user}?",
        yes=yes,
    )


# -- invitations, grants, phones ----------------------------------------------------------------


@click.command(
    epilog=examples("provisioning invite lee@partner.example --role helpdesk --days 7"),
)
@click.argument("email")
@click.option("--role", "roles", multiple=True, help="A role to hold, by name or id (repeat).")
@click.option("--permission", "permissions", multiple=True, help="A permission to hold (repeat).")
@click.option("--days", type=int, default=None, help="How long the invitation is valid.")
@output("text", "json")
def invite(
    options: Options,
    email: str,
    roles: Sequence[str],
    permissions: Sequence[str],
    days: int | None,
) -> None:
    """Invite EMAIL into the account; the invitation goes by message."""

    def build(here: Here) -> Command[Any]:
        ctx, account, actor = here.ctx, here.account, here.actor
        fields: dict[str, Any] = {} if days is None else {"valid_for_days": days}
        return InviteUser(
            account_id=account.id,
            email=email,
            role_ids=_role_ids(ctx, actor, account.id, roles),
            permissions=frozenset(permissions),
            **fields,
        )

    _act(
        options,
        build,
        lambda made: (
            f"invitation to {made.invitation.email}: {made.invitation.status};"
            " it waits in the outbox for `provisioning deliver`"
        ),
    )


@click.command(
    epilog=examples(
        "provisioning grant ann@acme.example --role helpdesk",
        "provisioning grant ann@acme.example --mailbox sales@acme.example --permission mail.read",
    ),
)
@click.argument("address")
@click.option("--role", "roles", multiple=True, help="A role to hold, by name or id (repeat).")
@click.option("--permission", "permissions", multiple=True, help="A permission to hold (repeat).")
@click.option("--mailbox", help="The shared mailbox the grant is for (default: the account).")
@output("text", "json")
def grant(
    options: Options,
    address: str,
    roles: Sequence[str],
    permissions: Sequence[str],
    mailbox: str | None,
) -> None:
    """Set what the user ADDRESS holds in the account (or a mailbox): this replaces it.

    With no --role and no --permission, the grant is taken away.
    """

    def build(here: Here) -> Command[Any]:
        ctx, account, actor = here.ctx, here.account, here.actor
        found = queries.find_user(ctx, actor, address=address)
        mailbox_id = None
        if mailbox is not None:
            boxes = all_of(queries.mailboxes, ctx, actor, account.id)
            mailbox_id = _id_named(boxes, mailbox, lambda box: box.address)
        return SetGrant(
            user_id=found.id,
            account_id=account.id,
            mailbox_id=mailbox_id,
            role_ids=_role_ids(ctx, actor, account.id, roles),
            permissions=frozenset(permissions),
        )

    _act(options, build, lambda _: f"grant of {address}: set")


@click.group(
    epilog=examples(
        "provisioning phone setup ann@acme.example --first-name Ann --last-name Lee"
        " --email ann@acme.example --station basic --extension 2001"
    )
)
def phone() -> None:
    """The phone system's users."""


@phone.command(
    name="setup",
    epilog=examples(
        "provisioning phone setup ann@acme.example --first-name Ann --last-name Lee"
        " --email ann@acme.example --station basic --extension 2001",
    ),
)
@click.argument("username")
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@click.option("--email", required=True, help="Where its welcome message goes.")
@click.option("--station", required=True, help="A station package of the account, by name.")
@click.option("--number", help="A free number of the account, e.g. +44 20 7946 0001.")
@click.option("--extension", help="Its extension's digits.")
@click.option("--application", "applications", multiple=True, help="An application (repeat).")
@output("text", "json")
def phone_setup(
    options: Options,
    username: str,
    number: str | None,
    applications: Sequence[str],
    **fields: str | None,
) -> None:
    """Make USERNAME a user of the phone system: its station and its number or extension."""

    def build(here: Here) -> Command[Any]:
        ctx, account, actor = here.ctx, here.account, here.actor
        number_id = None
        if number is not None:
            numbers = all_of(queries.phone_numbers, ctx, actor, account.id)
            number_id = _id_named(numbers, number, lambda free: free.number, normal=_digits)
        return SetUpPhoneUser(
            account_id=account.id,
            username=username,
            number_id=number_id,
            applications=frozenset(applications),
            **fields,  # type: ignore[arg-type]
        )

    _act(
        options,
        build,
        lambda seat: (
            f"phone user {username}: set up"
            + (f", extension {seat.extension}" if seat.extension else "")
        ),
    )


# -- support ------------------------------------------------------------------------------------


@click.group(
    epilog=examples(
        "provisioning --account Parent support request Acme --role administrator",
        "provisioning support list",
    )
)
def support() -> None:
    """A parent account's time-limited, audited support access to a customer."""


@support.command(
    name="request",
    epilog=examples("provisioning --account Parent support request Acme --role administrator"),
)
@click.argument("customer")
@click.option("--role", "roles", multiple=True, required=True, help="A role (repeat).")
@click.option("--days", type=int, default=30, show_default=True, help="How long it lasts.")
@output("text", "json")
def support_request(options: Options, customer: str, roles: Sequence[str], days: int) -> None:
    """Ask the customer account CUSTOMER (a name or id) for support access."""

    def build(here: Here) -> Command[Any]:
        ctx, account, actor = here.ctx, here.account, here.actor
        return RequestSupportAccess(
            parent_id=account.id,
            customer_id=_id_named(
                all_of(queries.customers, ctx, actor, account.id), customer, lambda c: c.name
            ),
            role_ids=_role_ids(ctx, actor, account.id, roles),
            duration_days=days,
        )

    _act(options, build, lambda made: f"support relationship {made.id}: {made.status}")


@support.command(
    name="approve",
    epilog=examples("provisioning --account Acme support approve REL_ID"),
)
@click.argument("relationship_id")
@output("text", "json")
def support_approve(options: Options, relationship_id: str) -> None:
    """Approve the support relationship RELATIONSHIP_ID (the customer's owner)."""
    _act(
        options,
        lambda *_: ApproveSupportAccess(relationship_id=relationship_id),
        lambda done: f"support relationship {done.id}: {done.status}",
    )


@support.command(name="end", epilog=examples("provisioning support end REL_ID --yes"))
@click.argument("relationship_id")
@_YES
@output("text", "json")
def support_end(options: Options, relationship_id: str, yes: bool) -> None:  # noqa: FBT001
    """End the support relationship RELATIONSHIP_ID (either side); its sessions end too."""
    _act(
        options,
        lambda *_: EndSupportAccess(relationship_id=relationship_id),
        lambda done: f"support relationship {done.id}: {done.status}",
        ask=lambda *_: (f"End the support relationship {relationship_id}?", None),
        yes=yes,
    )


@support.command(
    name="open",
    epilog=examples(
        "provisioning --as agent@parent.example support open REL_ID --reason 'ticket 42'"
    ),
)
@click.argument("relationship_id")
@click.option("--minutes", type=int, default=60, show_default=True)
@click.option("--reason", default="", help="Why: kept in the audit log.")
@output("text", "json")
def support_open(options: Options, relationship_id: str, minutes: int, reason: str) -> None:
    """Open a support session in the customer; act in it with --as support:SESSION_ID."""
    _act(
        options,
        lambda *_: OpenSupportSession(
            relationship_id=relationship_id, minutes=minutes, reason=reason
        ),
        lambda made: (
            f"support session {made.id}: open until {made.expires_at:%Y-%m-%d %H:%M} UTC;"
            f" act in it with --as {SESSION_PREFIX}{made.id}"
        ),
    )


@support.command(name="close", epilog=examples("provisioning support close SESSION_ID"))
@click.argument("session_id")
@output("text", "json")
def support_close(options: Options, session_id: str) -> None:
    """Close the support session SESSION_ID."""
    _act(
        options,
        lambda *_: CloseSupportSession(session_id=session_id),
        lambda done: f"support session {done.id}: closed",
    )


@support.command(name="list", epilog=examples("provisioning support list --format json"))
@output("text", "json", "ndjson", "csv")
def support_list(options: Options) -> None:
    """The account's support relationships, as parent or as customer."""
    account_listing(
        options,
        queries.support_relationships,
        ("relationships", "Support relationships"),
        ("id", "parent", "customer", "status"),
        lambda r: (r.id, r.parent_id, r.customer_id, r.status),
    )


# -- API clients ---------------------------------------------------------------------------------


@click.group(
    epilog=examples(
        "provisioning client add 'Okta provisioning' --role administrator --directory okta",
        "provisioning client list",
    )
)
def client() -> None:
    """The account's API clients: machines (an identity provider, a script) that act in it."""


_SHOW_TOKEN: Final = click.option(
    "--show-token",
    is_flag=True,
    help="Print the token even when standard output is no terminal (a pipe, a file).",
)


def _token_shown(options: Options, *, show_token: bool) -> None:
    """Refuse, before anything changes, to make a token nobody would see."""
    if not (show_token or sys.stdout.isatty()):
        with reported(options):
            raise Failure(
                "the token is shown once, on a terminal: run this at one, or give --show-token"
                " to print it into this pipe or file; nothing was changed",
                UNUSABLE,
            )


def _client_named(here: Here, name: str) -> tuple[str, int | None]:
    """The id and version of the account's client `name` names (the library refuses no match)."""
    found = all_of(queries.api_clients, here.ctx, here.actor, here.account.id)
    wanted = _id_named(found, name, lambda c: c.name)
    return wanted, next((c.version for c in found if c.id == wanted), None)


def _issued(done: Any) -> str:  # noqa: ANN401 - an ApiClientIssued
    return (
        f"API client {done.client.name!r} ({done.client.id}); its token, shown this once"
        f" (act with it: --as TOKEN):\n{done.token}"
    )


@client.command(
    name="add",
    epilog=examples(
        "provisioning client add 'Okta provisioning' --role administrator --directory okta",
        "provisioning client add nightly --permission users.read --days 90 --show-token"
        " | vault kv put secret/nightly token=-",
    ),
)
@click.argument("name")
@click.option("--role", "roles", multiple=True, help="A role it holds, by name or id (repeat).")
@click.option("--permission", "permissions", multiple=True, help="A permission (repeat).")
@click.option("--directory", help="The directory service it speaks for (its users are that's).")
@click.option("--days", type=int, help="It ends this many days from now (default: never).")
@click.option("--description", default="", help="What it is for.")
@_SHOW_TOKEN
@output("text")
def client_add(
    options: Options,
    name: str,
    roles: Sequence[str],
    show_token: bool,  # noqa: FBT001 - a flag
    **fields: Any,  # noqa: ANN401 - the command's own fields, as click gives them
) -> None:
    """Make the API client NAME; its token is printed this once, on the terminal only."""
    _token_shown(options, show_token=show_token)

    def build(here: Here) -> Command[Any]:
        return CreateApiClient(
            account_id=here.account.id,
            name=name,
            role_ids=_role_ids(here.ctx, here.actor, here.account.id, roles),
            permissions=frozenset(fields["permissions"]),
            directory_service=fields["directory"],
            valid_days=fields["days"],
            description=fields["description"],
        )

    _act(options, build, _issued)


@client.command(name="list", epilog=examples("provisioning client list --format json"))
@output("text", "json", "ndjson", "csv")
def client_list(options: Options) -> None:
    """The account's API clients, revoked ones too."""
    account_listing(
        options,
        queries.api_clients,
        ("clients", "API clients"),
        ("name", "id", "roles", "directory", "ends", "revoked"),
        lambda c: (
            c.name,
            c.id,
            ", ".join(sorted(c.role_ids | c.permissions)),
            c.directory_service or "",
            "" if c.expires_at is None else f"{c.expires_at:%Y-%m-%d}",
            "" if c.revoked_at is None else f"{c.revoked_at:%Y-%m-%d}",
        ),
    )


@client.command(
    name="rotate",
    epilog=examples("provisioning client rotate 'Okta provisioning' --yes --show-token"),
)
@click.argument("name")
@_YES
@_SHOW_TOKEN
@output("text")
def client_rotate(
    options: Options,
    name: str,
    yes: bool,  # noqa: FBT001 - a flag
    show_token: bool,  # noqa: FBT001 - a flag
) -> None:
    """Give the API client NAME a new token, shown this once; its old token stops at once."""
    _token_shown(options, show_token=show_token)

    def build(here: Here) -> Command[Any]:
        client_id, version = _client_named(here, name)
        return RotateApiClientSecret(client_id=client_id, version=version)

    _act(
        options,
        build,
        _issued,
        ask=lambda _: (f"Give {name!r} a new token? Its current one stops working.", None),
        yes=yes,
    )


@client.command(name="revoke", epilog=examples("provisioning client revoke nightly --yes"))
@click.argument("name")
@_YES
@output("text", "json")
def client_revoke(options: Options, name: str, yes: bool) -> None:  # noqa: FBT001 - a flag
    """Revoke the API client NAME for good: its token stops working."""

    def build(here: Here) -> Command[Any]:
        client_id, version = _client_named(here, name)
        return RevokeApiClient(client_id=client_id, version=version)

    _act(
        options,
        build,
        lambda done: f"API client {done.name!r}: revoked",
        ask=lambda _: (f"Revoke the API client {name!r} for good?", None),
        yes=yes,
    )


VERBS: Final = (domain, user, invite, grant, phone, support, client)
"""The verbs' commands and groups, added to `provisioning` by the package."""
