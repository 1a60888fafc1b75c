"""Real delivery: e-mail through an SMTP server, `.eml` files in a folder, routing by channel.

Each renders a message with its template (`provisioning.adapters.templates`)
and passes the message's stable id on as the e-mail's `Message-ID`, so that a
receiver can drop a message delivered twice. A message that cannot be sent
as it is (no template of its kind, a recipient that is no address) raises
`UndeliverableMessage`; a server that refuses, times out or drops the
connection raises what `smtplib` raised, and `deliver` tries it again later.

Examples:
    >>> notifier = SmtpNotifier("smtps://mailer:s3cret@mail.example.com", sender="it@acme.example")
    >>> notifier
    SmtpNotifier('smtps://mailer:***@mail.example.com:465', sender='it@acme.example')
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Collection, Mapping
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, unquote, urlsplit

import attrs

from provisioning.adapters.templates import CATALOGUE, Rendered, Template, render
from provisioning.errors import UndeliverableMessage, UsageError, codes
from provisioning.model import Message
from provisioning.ports import Notifier

__all__ = ["ByChannel", "EmlFolder", "SmtpNotifier", "email_of"]

CODES: Final = codes(
    invalid=(
        "message.recipient_invalid",
        "smtp.url_invalid",
    ),
    usage=("message.channel_unknown",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

_ADDRESS: Final = re.compile(
    r"[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+"
)
_DOMAIN: Final = "provisioning.invalid"  # the right-hand side of every Message-ID we make


def email_of(message: Message, rendered: Rendered, sender: str) -> EmailMessage:
    """The e-mail of `message`: plain text and HTML, its id as `Message-ID`."""
    if message.channel != "email":
        raise UndeliverableMessage(
            code="message.channel_unknown", reason=f"{message.channel!r} is not e-mail"
        )
    if not _ADDRESS.fullmatch(message.to):
        raise UndeliverableMessage(
            code="message.recipient_invalid", reason="the recipient is not an e-mail address"
        )
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = rendered.subject
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = f"<{message.id or 'unsent'}@{_DOMAIN}>"
    mail["X-Provisioning-Kind"] = message.template
    mail.set_content(rendered.text)
    mail.add_alternative(rendered.html, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mail.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.name
        )
    return mail


@attrs.define(repr=False)
class SmtpNotifier:
    """Sends e-mail through the SMTP server `url` names, one connection for a run of messages.

    `smtp://user:password@host:587` speaks STARTTLS (refusing a server that
    does not offer it), `smtps://...:465` TLS from the start; add
    `?tls=none` for a server on this machine that speaks neither. A user
    and password in the URL (percent-encoded) authenticate. `links` makes a
    message's link from its token. The URL's password never appears in a
    repr, a log or an error.
    """

    url: str
    sender: str = attrs.field(kw_only=True)
    links: str = attrs.field(default="{token}", kw_only=True)
    catalogue: Mapping[str, Template] = attrs.field(default=CATALOGUE, kw_only=True)
    timeout: float = attrs.field(default=30.0, kw_only=True)
    _connection: smtplib.SMTP | None = attrs.field(default=None, init=False)
    _parts: tuple[str, str, int, str | None, str | None, str] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._parts = _parsed(self.url)

    def __repr__(self) -> str:
        scheme, host, port, user, _, _ = self._parts
        who = f"{user}:***@" if user else ""
        return f"SmtpNotifier('{scheme}://{who}{host}:{port}', sender={self.sender!r})"

    def send(self, messages: Collection[Message], /) -> None:
        """Send each message, in order, over one connection (opened on the first)."""
        for message in messages:
            mail = email_of(
                message, render(message, catalogue=self.catalogue, links=self.links), self.sender
            )
            connection = self._connected()
            try:
                connection.send_message(mail)
            except BaseException:
                self.close()  # the next message starts on a fresh connection
                raise

    def close(self) -> None:
        """Say goodbye to the server, if a connection is open."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def _connected(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        scheme, host, port, user, password, tls = self._parts
        context = ssl.create_default_context()
        connection: smtplib.SMTP
        if scheme == "smtps":
            connection = smtplib.SMTP_SSL(host, port, timeout=self.timeout, context=context)
        else:
            connection = smtplib.SMTP(host, port, timeout=self.timeout)
        try:
            if scheme == "smtp" and tls != "none":
                connection.starttls(context=context)
            if user is not None:
                connection.login(user, password or "")
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection


def _parsed(url: str) -> tuple[str, str, int, str | None, str | None, str]:
    """Scheme, host, port, user, password and TLS mode of an SMTP URL; `UsageError` if none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise UsageError(
            code="smtp.url_invalid",
            reason="an SMTP URL reads smtp://user:password@host:587 or smtps://...:465",
        )
    tls = parse_qs(parts.query).get("tls", ["starttls" if parts.scheme == "smtp" else "tls"])[0]
    if tls not in {"starttls", "tls", "none"}:
        raise UsageError(code="smtp.url_invalid", reason="tls= is starttls, tls or none")
    default_port = 465 if parts.scheme == "smtps" else 587
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return parts.scheme, parts.hostname, port or default_port, user, password, tls


@attrs.frozen
class EmlFolder:
    """Writes each message into `folder` as a file: an e-mail as `<id>.eml`, a text as `<id>.txt`.

    For trials and the demo: open the files with a mail program. A message
    delivered again overwrites its own file.
    """

    folder: Path = attrs.field(converter=Path)
    sender: str = attrs.field(default="provisioning@localhost", kw_only=True)
    links: str = attrs.field(default="{token}", kw_only=True)
    catalogue: Mapping[str, Template] = attrs.field(default=CATALOGUE, kw_only=True)

    def send(self, messages: Collection[Message], /) -> None:
        """Write each message's file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for message in messages:
            rendered = render(message, catalogue=self.catalogue, links=self.links)
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", message.id or "unsent")
            if message.channel == "email":
                mail = email_of(message, rendered, self.sender)
                (self.folder / f"{name}.eml").write_bytes(mail.as_bytes())
            else:
                text = f"To: {message.to} ({message.channel})\n\n{rendered.text}\n"
                (self.folder / f"{name}.txt").write_text(text, encoding="utf-8")


@attrs.frozen
class ByChannel:
    """Hands each message to the notifier of its channel (`email`, `sms` ...)."""

    notifiers: Mapping[str, Notifier]

    def send(self, messages: Collection[Message], /) -> None:
        """Send each message through its channel's notifier, in order."""
        for message in messages:
            notifier = self.notifiers.get(message.channel)
            if notifier is None:
                raise UndeliverableMessage(
                    code="message.channel_unknown",
                    reason=f"no notifier for the channel {message.channel!r}",
                )
            notifier.send([message])

    def close(self) -> None:
        """Close each notifier that can be closed."""
        for notifier in self.notifiers.values():
            close = getattr(notifier, "close", None)
            if callable(close):
                close()
