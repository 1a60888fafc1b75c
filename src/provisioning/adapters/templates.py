"""The catalogue of messages: for each kind, its channel, subject, body, fields and secrets.

A notifier renders a `Message` with the `Template` of its kind: `$name`
stands for `data["name"]` (or the secret of that name), `$link` for the
recipient's link when the message carries a token (`links`, a format string
with `{token}`, says where it points). The HTML body is the plain text,
escaped, in paragraphs, with the link made a link. An application passes
its own catalogue (a copy of `CATALOGUE` with kinds replaced or added).

Examples:
    >>> from provisioning.model import Message
    >>> welcome = Message(
    ...     template="user.created",
    ...     to="ann@acme.example",
    ...     data={"username": "ann@acme.example", "account": "Acme",
    ...           "link_expires_at": "2026-12-08 10:00 UTC"},
    ...     secrets={"token": "t0k3n"},
    ... )
    >>> mail = render(welcome, links="https://portal.example/set-password?token={token}")
    >>> mail.subject
    'Welcome to Acme'
    >>> "https://portal.example/set-password?token=t0k3n" in mail.text
    True
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from html import escape
from types import MappingProxyType
from typing import Final

import attrs

from provisioning.errors import UndeliverableMessage, codes
from provisioning.model import Message

__all__ = ["CATALOGUE", "Rendered", "Template", "render"]

CODES: Final = codes(
    usage=(
        "message.fields_missing",
        "message.template_unknown",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


@attrs.frozen
class Template:
    """How one kind of message reads.

    `fields` are the `data` it uses, `carries` the names of the secrets it
    carries (a token becomes `$link`); `channel` is how it travels (`email`,
    `sms`).
    """

    kind: str
    subject: str
    text: str
    fields: tuple[str, ...] = ()
    carries: tuple[str, ...] = ()
    channel: str = "email"


@attrs.frozen
class Rendered:
    """A message as it is sent: its subject, plain text, and HTML."""

    subject: str
    text: str
    html: str


def _t(kind: str, subject: str, text: str, *fields: str, carries: tuple[str, ...] = ()) -> Template:
    return Template(kind=kind, subject=subject, text=text, fields=fields, carries=carries)


_SETUP = (
    "Set your password here: $link\n\n"
    "The link works once, until $link_expires_at. If you did not expect this"
    " message, ignore it: nothing happens until the link is used."
)

CATALOGUE: Final[Mapping[str, Template]] = MappingProxyType(
    {
        template.kind: template
        for template in (
            _t(
                "user.created",
                "Welcome to $account",
                "Hello,\n\nan account was created for you at $account: $username.\n\n" + _SETUP,
                "username",
                "account",
                "link_expires_at",
                carries=("token",),
            ),
            _t(
                "user.enabled",
                "Your account $username is enabled",
                "Hello,\n\nyour account $username can be used now.\n\n" + _SETUP,
                "username",
                "link_expires_at",
                carries=("token",),
            ),
            _t(
                "user.adopted",
                "Your account $username moved to $account",
                "Hello,\n\nyour account $username now belongs to $account.\n\n" + _SETUP,
                "username",
                "account",
                "link_expires_at",
                carries=("token",),
            ),
            _t(
                "admin.created",
                "You are an administrator: $username",
                "Hello,\n\nyou were made $role with the sign-in $username.\n\n" + _SETUP,
                "username",
                "role",
                "link_expires_at",
                carries=("token",),
            ),
            _t(
                "password.recovery",
                "Your code to recover $username",
                "Hello,\n\nyour one-time code to set a new password for $username is"
                " $code. It works until $expires_at. If you did not ask for it, ignore"
                " this message.",
                "username",
                "expires_at",
                carries=("code",),
            ),
            Template(
                kind="password.recovery.sms",
                subject="",
                text="Your code for $username: $code (until $expires_at)",
                fields=("username", "expires_at"),
                carries=("code",),
                channel="sms",
            ),
            _t(
                "invitation.registered",
                "You are invited to $account",
                "Hello,\n\nyou are invited to join $account. Accept here: $link",
                "account",
                carries=("token",),
            ),
            _t(
                "invitation.unregistered",
                "You are invited to $account",
                "Hello,\n\nyou are invited to join $account. Register and accept here: $link",
                "account",
                carries=("token",),
            ),
            _t(
                "invitation.accepted",
                "$invitee accepted your invitation",
                "Hello,\n\n$invitee accepted your invitation.",
                "invitee",
            ),
            _t(
                "invitation.declined",
                "$invitee declined your invitation",
                "Hello,\n\n$invitee declined your invitation.",
                "invitee",
            ),
            _t(
                "report.users",
                "The users report of $account",
                "Hello,\n\nthe users report of $account you asked for is attached, as the"
                " account stood when this message was sent.",
                "account",
            ),
            _t(
                "support.requested",
                "$parent asks for support access",
                "Hello,\n\n$parent asks for support access to your account for"
                " $duration_days day(s), with the roles: $roles. Approve or refuse it in"
                " your administration.",
                "parent",
                "duration_days",
                "roles",
            ),
        )
    }
)
"""The messages the library makes, by kind."""

_URL: Final = re.compile(r"https?://[^\s<]+")


def _kind(message: Message) -> str:
    """The catalogue's kind of a message: its template, by channel past e-mail."""
    return (
        message.template if message.channel == "email" else f"{message.template}.{message.channel}"
    )


def render(
    message: Message,
    *,
    catalogue: Mapping[str, Template] = CATALOGUE,
    links: str = "{token}",
) -> Rendered:
    """`message` as its template reads; `UndeliverableMessage` when it cannot be.

    `links` makes the recipient's link of a message with a token: a format
    string of the token and the message's fields
    (`https://portal.example/set-password?user={user_id}&token={token}`);
    the default shows the token itself.
    """
    template = catalogue.get(_kind(message))
    if template is None:
        raise UndeliverableMessage(
            code="message.template_unknown", reason=f"no template for {_kind(message)!r}"
        )
    values = {**message.data, **message.secrets}
    token = message.secrets.get("token")
    try:
        if token is not None:
            values["link"] = links.format_map({**message.data, "token": token})
        subject = string.Template(template.subject).substitute(values)
        text = string.Template(template.text).substitute(values)
    except (KeyError, ValueError) as missing:
        raise UndeliverableMessage(
            code="message.fields_missing",
            reason=f"the message lacks a field its template needs ({type(missing).__name__})",
        ) from None
    return Rendered(subject=subject, text=text, html=_html(text))


def _html(text: str) -> str:
    paragraphs = []
    for paragraph in text.split("\n\n"):
        shown = escape(paragraph)
        shown = _URL.sub(lambda found: f'<a href="{found.group(0)}">{found.group(0)}</a>', shown)
        paragraphs.append("<p>" + shown.replace("\n", "<br>") + "</p>")
    return "<!DOCTYPE html><html><body>" + "".join(paragraphs) + "</body></html>"
