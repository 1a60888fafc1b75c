"""Delivery through a real SMTP server (aiosmtpd, in this process), on every store.

The server authenticates, accepts, refuses, drops the connection or never
answers; each time the outbox keeps what it could not deliver, and no link
of a message reaches an error, a log or a listing.
"""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Iterator
from email.message import Message as Mail
from typing import Any

import attrs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from conftest import FAST_HASHER, OPERATOR, active_domain
from provisioning import (
    Actor,
    Authenticate,
    CompletePasswordSetup,
    Context,
    CreateAccount,
    CreateUser,
    deliver,
    queries,
    run,
)
from provisioning.adapters.mail import SmtpNotifier
from provisioning.adapters.memory import FixedClock, MemoryDns, Outbox
from provisioning.errors import UsageError
from provisioning.model import MessageStatus
from provisioning.ports import Store

LINKS = "https://portal.example/set-password?token={token}"


@attrs.define
class _Server:
    """What the SMTP server does with a message: keep it, refuse it, or hang up."""

    answer: str = "250 OK"
    received: list[Mail] = attrs.Factory(list)
    logins: list[str] = attrs.Factory(list)

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        del server, session
        if self.answer == "hang up":
            raise ConnectionResetError
        if self.answer.startswith("250"):
            content = envelope.content
            assert isinstance(content, bytes)
            self.received.append(email.message_from_bytes(content))
        return self.answer

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        del server, session, envelope, mechanism
        ok = isinstance(data, LoginPassword) and data.password == b"p@ss:w/rd"
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[tuple[_Server, int]]:
    server = _Server()
    port = _free_port()
    controller = Controller(
        server,
        hostname="127.0.0.1",
        port=port,
        authenticator=server.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield server, port
    controller.stop()


@pytest.fixture
def acme(store: Store, clock: FixedClock, dns: MemoryDns) -> Context:
    ctx = Context(store=store, clock=clock, dns=dns, hasher=FAST_HASHER, notifier=None)
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    active_domain(ctx, dns, "acme", "acme.example", admin_email="it@holding.example")
    deliver(ctx, Outbox())
    return ctx


def _notifier(port: int, *, user: str = "mailer", timeout: float = 5.0) -> SmtpNotifier:
    return SmtpNotifier(
        f"smtp://{user}:p%40ss%3Aw%2Frd@127.0.0.1:{port}?tls=none",
        sender="it@acme.example",
        links=LINKS,
        timeout=timeout,
    )


def _body(mail: Mail, kind: str) -> str:
    part = next(p for p in mail.walk() if p.get_content_type() == kind)
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_a_welcome_email_opens_a_link_that_signs_the_user_in(
    acme: Context, smtp: tuple[_Server, int]
) -> None:
    server, port = smtp
    run(acme, OPERATOR, CreateUser(account_id="acme", username="ann@acme.example"))
    done = deliver(acme, _notifier(port))
    assert len(done.delivered) == 1
    assert server.logins == ["mailer"]
    (mail,) = server.received
    assert mail["To"] == "ann@acme.example"
    assert mail["Message-ID"] == f"<{done.delivered[0]}@provisioning.invalid>"
    text, html = _body(mail, "text/plain"), _body(mail, "text/html")
    token = text.split("token=", 1)[1].split()[0]
    assert f'href="https://portal.example/set-password?token={token}"' in html
    user = queries.users(acme, OPERATOR, "acme", search="ann@acme.example")[0]
    password = "correct horse battery staple 42"
    run(
        acme,
        Actor.anonymous(),
        CompletePasswordSetup(
            user_id=user.id, token=token, password=password, password_repeat=password
        ),
    )
    signed_in = run(
        acme, Actor.anonymous(), Authenticate(username="ann@acme.example", password=password)
    )
    assert signed_in.user_id == user.id


@pytest.mark.parametrize("answer", ["550 5.7.1 no relay for you", "hang up"])
def test_a_refusal_or_a_dropped_connection_leaves_the_message_pending(
    acme: Context, smtp: tuple[_Server, int], answer: str, caplog: pytest.LogCaptureFixture
) -> None:
    server, port = smtp
    server.answer = answer
    run(acme, OPERATOR, CreateUser(account_id="acme", username="ann@acme.example"))
    run(acme, OPERATOR, CreateUser(account_id="acme", username="bob@acme.example"))
    done = deliver(acme, _notifier(port))
    assert len(done.retrying) == 2
    pending, _ = acme.store.queued_messages(status=MessageStatus.PENDING, offset=0, limit=9)
    assert [q.attempts for q in pending] == [1, 1]
    assert all(q.failure and q.failure.startswith("delivery.failed: SMTP") for q in pending)
    for text in [*(r.getMessage() for r in caplog.records), *(q.failure or "" for q in pending)]:
        assert "token" not in text
        assert "no relay" not in text  # the server's words stay out
    server.answer = "250 OK"
    acme.clock.advance(minutes=2)  # type: ignore[attr-defined]
    assert len(deliver(acme, _notifier(port)).delivered) == 2


def test_a_wrong_password_is_a_failed_attempt_without_the_password(
    acme: Context, smtp: tuple[_Server, int], caplog: pytest.LogCaptureFixture
) -> None:
    _, port = smtp
    run(acme, OPERATOR, CreateUser(account_id="acme", username="ann@acme.example"))
    wrong = SmtpNotifier(
        f"smtp://mailer:nope-secret@127.0.0.1:{port}?tls=none",
        sender="it@acme.example",
        timeout=1.0,
    )
    assert "nope-secret" not in repr(wrong)
    done = deliver(acme, wrong)
    assert len(done.retrying) == 1
    (queued,), _ = acme.store.queued_messages(status=MessageStatus.PENDING, offset=0, limit=9)
    assert queued.failure is not None
    assert queued.failure.startswith("delivery.failed: SMTP")  # refused, then hung up on
    assert all("nope-secret" not in r.getMessage() for r in caplog.records)


def test_a_server_that_never_answers_times_out_and_the_message_waits(acme: Context) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    port = silent.getsockname()[1]
    run(acme, OPERATOR, CreateUser(account_id="acme", username="ann@acme.example"))
    try:
        done = deliver(acme, _notifier(port, timeout=0.5))
    finally:
        silent.close()
    assert len(done.retrying) == 1
    (queued,), _ = acme.store.queued_messages(status=MessageStatus.PENDING, offset=0, limit=9)
    assert queued.failure is not None
    assert queued.failure.startswith("delivery.failed:")


@pytest.mark.parametrize(
    "url",
    ["http://mail.example", "smtp://", "smtp://mail.example:99999", "smtp://x?tls=maybe", ""],
)
def test_a_url_that_is_no_smtp_url_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        SmtpNotifier(url, sender="it@acme.example")
    assert caught.value.code == "smtp.url_invalid"


def test_messages_sent_in_a_burst_share_one_connection(
    acme: Context, smtp: tuple[_Server, int]
) -> None:
    server, port = smtp
    for n in range(12):
        run(acme, OPERATOR, CreateUser(account_id="acme", username=f"u{n}@acme.example"))
    done = deliver(acme, _notifier(port))
    assert len(done.delivered) == 12
    assert server.logins == ["mailer"]  # one connection, one login
    assert len({m["Message-ID"] for m in server.received}) == 12


def test_the_server_runs_in_its_own_thread() -> None:
    """The fixture's server answers while the test's thread blocks in smtplib."""
    assert threading.current_thread() is threading.main_thread()


def test_a_server_without_starttls_gets_nothing_in_the_clear(
    acme: Context, smtp: tuple[_Server, int]
) -> None:
    """`smtp://` insists on STARTTLS: a server that does not offer it is sent nothing."""
    server, port = smtp
    run(acme, OPERATOR, CreateUser(account_id="acme", username="ann@acme.example"))
    insisting = SmtpNotifier(f"smtp://127.0.0.1:{port}", sender="it@acme.example", timeout=2.0)
    done = deliver(acme, insisting)
    assert len(done.retrying) == 1
    assert server.received == []
    (queued,), _ = acme.store.queued_messages(status=MessageStatus.PENDING, offset=0, limit=9)
    assert queued.failure == "delivery.failed: SMTPNotSupportedError"
