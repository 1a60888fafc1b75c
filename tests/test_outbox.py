"""Messages are never lost: written with their change, delivered as a step of their own.

The moves that would break it: a process killed between the commit and the
send, a change rolled back after its messages were made, a server that
refuses or drops the connection, a message of a kind nobody can render, two
deliverers at once, a listing or an error that shows a set-password token.
"""

from __future__ import annotations

import email
import email.message
import io
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Collection, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import openpyxl
import pytest
import sqlalchemy as sa

from conftest import FAST_HASHER, OPERATOR, active_domain
from provisioning import (
    Actor,
    Context,
    CreateAccount,
    CreateAdmin,
    CreateUser,
    DeleteAdmin,
    NotFound,
    NotificationFailed,
    PermissionDenied,
    RequestUsersReport,
    ValidationFailed,
    bulk,
    deliver,
    queries,
    run,
)
from provisioning.adapters.mail import ByChannel, EmlFolder
from provisioning.adapters.memory import FixedClock, MemoryDns, Outbox
from provisioning.adapters.sql import SqliteStore
from provisioning.adapters.system import SystemClock
from provisioning.engine import retry_messages
from provisioning.errors import UndeliverableMessage
from provisioning.model import Message, MessageStatus
from provisioning.ports import Store
from provisioning.security import AesGcmSealer
from provisioning.security.sealing import SEALED_PREFIX


@pytest.fixture
def waiting(store: Store, clock: FixedClock, dns: MemoryDns) -> Context:
    """A context whose messages wait in the store's outbox (no notifier), with Acme set up."""
    ctx = Context(store=store, clock=clock, dns=dns, hasher=FAST_HASHER, notifier=None)
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    active_domain(ctx, dns, "acme", "acme.example", admin_email="it@holding.example")
    deliver(ctx, Outbox(), limit=1000)  # the super admin's welcome: out of the way
    return ctx


def _pending(ctx: Context) -> list[Any]:
    found, _ = ctx.store.queued_messages(status=MessageStatus.PENDING, offset=0, limit=100)
    return found


def test_a_change_writes_its_messages_and_delivery_sends_them_once(waiting: Context) -> None:
    run(waiting, OPERATOR, CreateUser(account_id="acme", username="ann@acme.example"))
    (queued,) = _pending(waiting)
    assert queued.message.template == "user.created"
    assert queued.message.secrets == {}  # a listing never holds a secret
    sent = Outbox()
    assert deliver(waiting, sent).delivered == (queued.id,)
    (message,) = sent.messages
    assert message.id == queued.id
    assert message.secrets["token"]  # the notifier gets the link's token
    assert deliver(waiting, sent).delivered == ()
    assert len(sent.messages) == 1
    delivered, _ = waiting.store.queued_messages(
        status=MessageStatus.DELIVERED, offset=0, limit=100
    )
    (done,) = [d for d in delivered if d.id == queued.id]
    assert (done.attempts, done.delivered_at is not None, done.message.secrets) == (1, True, {})


def test_a_refused_or_rolled_back_change_leaves_no_message(waiting: Context) -> None:
    with pytest.raises(ValidationFailed):
        run(
            waiting,
            OPERATOR,
            CreateUser(account_id="acme", username="ann@acme.example", cos_id="no-such-cos"),
        )
    assert _pending(waiting) == []


def test_a_failed_send_is_retried_later_then_given_up_and_retried_by_the_operator(
    waiting: Context, clock: FixedClock
) -> None:
    run(waiting, OPERATOR, CreateUser(account_id="acme", username="ann@acme.example"))
    broken = _Refusing()
    outcome = deliver(waiting, broken)
    assert len(outcome.retrying) == 1
    (queued,) = _pending(waiting)
    assert (queued.attempts, queued.failure) == (1, "delivery.failed: ConnectionResetError")
    for _ in range(10):
        clock.advance(days=1)
        deliver(waiting, broken)
    (failed,), _ = waiting.store.queued_messages(status=MessageStatus.FAILED, offset=0, limit=9)
    assert failed.attempts == 8
    assert broken.seen_tokens, "the notifier was handed the token each time"
    page = queries.messages(waiting, OPERATOR, status=MessageStatus.FAILED)
    assert [m.id for m in page] == [failed.id]
    assert all(token not in repr(page) for token in broken.seen_tokens)
    with pytest.raises(PermissionDenied):
        retry_messages(waiting, Actor.user("someone"), [failed.id])
    with pytest.raises(PermissionDenied):
        queries.messages(waiting, Actor.user("someone"))
    assert retry_messages(waiting, OPERATOR, [failed.id, "nonsense"]) == 1
    sent = Outbox()
    assert deliver(waiting, sent).delivered == (failed.id,)
    assert sent.messages[0].secrets["token"] in broken.seen_tokens  # the same link, kept sealed


def test_one_recipients_messages_keep_their_order(waiting: Context, clock: FixedClock) -> None:
    run(waiting, OPERATOR, CreateUser(account_id="acme", username="ann@acme.example"))
    run(waiting, OPERATOR, CreateUser(account_id="acme", username="bob@acme.example"))
    run(
        waiting,
        OPERATOR,
        CreateUser(
            account_id="acme", username="cy@acme.example", alternate_email="ann@acme.example"
        ),
    )
    first = _Refusing(only="ann@acme.example")
    sent = deliver(waiting, first)
    assert len(sent.delivered) == 1  # bob's; ann's second waits behind her first
    assert len(sent.retrying) == 1
    assert [m.to for m in first.passed.messages] == ["bob@acme.example"]
    clock.advance(minutes=5)
    later = Outbox()
    assert len(deliver(waiting, later).delivered) == 2  # her first, then her second
    assert [m.data["username"] for m in later.messages] == [
        "ann@acme.example",
        "cy@acme.example",
    ]


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (Message(template="no.such.kind", to="ann@acme.example"), "message.template_unknown"),
        (
            Message(template="invitation.accepted", to="not an address", data={"invitee": "x"}),
            "message.recipient_invalid",
        ),
        (
            Message(
                template="invitation.accepted",
                to="a@b.example\nBcc: x@evil.example",
                data={"invitee": "x"},
            ),
            "message.recipient_invalid",
        ),
        (Message(template="invitation.accepted", to="ann@acme.example"), "message.fields_missing"),
        (
            Message(template="invitation.accepted", to="+41790000000", channel="fax"),
            "message.channel_unknown",
        ),
    ],
)
def test_a_message_that_cannot_be_sent_is_given_up_with_its_reason(
    waiting: Context, tmp_path: Path, message: Message, code: str
) -> None:
    with waiting.store.unit_of_work() as uow:
        uow.enqueue([message], now=waiting.clock.now())
        uow.commit()
    notifier = ByChannel({"email": EmlFolder(tmp_path / "mail"), "sms": Outbox()})
    done = deliver(waiting, notifier)
    assert len(done.failed) == 1
    (failed,), _ = waiting.store.queued_messages(status=MessageStatus.FAILED, offset=0, limit=9)
    assert failed.failure is not None
    assert failed.failure.startswith(code)


def test_an_eml_folder_holds_a_welcome_whose_link_works(waiting: Context, tmp_path: Path) -> None:
    run(waiting, OPERATOR, CreateUser(account_id="acme", username="ann@acme.example"))
    folder = tmp_path / "mail"
    links = "https://portal.example/set-password?token={token}"
    deliver(waiting, EmlFolder(folder, links=links))
    (path,) = folder.glob("*.eml")
    mail = email.message_from_bytes(path.read_bytes())
    assert mail["To"] == "ann@acme.example"
    assert mail["Message-ID"] == f"<{path.stem}@provisioning.invalid>"
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    payload = text.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    token = body.split("token=", 1)[1].split()[0]
    from provisioning import CompletePasswordSetup  # noqa: PLC0415 - the link's own command

    user = queries.users(waiting, OPERATOR, "acme", search="ann@acme.example")[0]
    password = "correct horse battery staple 42"
    run(
        waiting,
        Actor.anonymous(),
        CompletePasswordSetup(
            user_id=user.id, token=token, password=password, password_repeat=password
        ),
    )


def test_a_deliverer_that_dies_lets_its_messages_go_after_its_lease(
    waiting: Context, clock: FixedClock
) -> None:
    run(waiting, OPERATOR, CreateUser(account_id="acme", username="ann@acme.example"))
    claimed = waiting.store.claim_messages(
        now=clock.now(), limit=10, lease=timedelta(minutes=5)
    )  # ... and the deliverer dies here, never settling
    assert len(claimed) == 1
    sent = Outbox()
    assert deliver(waiting, sent).delivered == ()  # still claimed
    clock.advance(minutes=6)
    assert deliver(waiting, sent).delivered == (claimed[0].id,)


def test_sealed_stores_seal_a_messages_secrets_and_drop_them_once_delivered(
    tmp_path: Path, clock: FixedClock, dns: MemoryDns
) -> None:
    path = tmp_path / "sealed.db"
    store = SqliteStore(path, sealer=AesGcmSealer(AesGcmSealer.new_key()))
    ctx = Context(store=store, clock=clock, dns=dns, hasher=FAST_HASHER)
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    active_domain(ctx, dns, "acme", "acme.example", admin_email="it@holding.example")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as sql:
        (secret,) = sql.exec_driver_sql("SELECT secrets FROM outbox_messages").one()
    assert secret.startswith(SEALED_PREFIX)
    sent = Outbox()
    deliver(ctx, sent)
    assert sent.messages[0].secrets["token"]
    with engine.connect() as sql:
        (secret,) = sql.exec_driver_sql("SELECT secrets FROM outbox_messages").one()
    assert secret is None
    engine.dispose()
    store.close()


def test_a_process_killed_after_its_commit_loses_no_message(tmp_path: Path) -> None:
    """The child invites someone, commits, and dies by SIGKILL as it starts to deliver."""
    path = tmp_path / "killed.db"
    script = textwrap.dedent(
        f"""
        import os, signal
        from provisioning import Actor, Context, CreateAccount, InviteUser, run

        class Killed:
            def send(self, messages):
                os.kill(os.getpid(), signal.SIGKILL)

        ctx = Context.open({str(path)!r}, notifier=Killed())
        run(ctx, Actor.platform(), CreateAccount(name="Acme", account_id="acme"))
        run(ctx, Actor.platform(), InviteUser(account_id="acme", email="ann@else.example"))
        """
    )
    child = subprocess.run([sys.executable, "-c", script], check=False, timeout=120)
    assert child.returncode == -signal.SIGKILL
    ctx = Context.open(path)
    sent = Outbox()
    assert len(deliver(ctx, sent).delivered) == 0  # claimed by the dead process, for a while
    later = attrs.evolve(ctx, clock=FixedClock(SystemClock().now() + timedelta(minutes=6)))
    assert len(deliver(later, sent).delivered) == 1
    assert [(m.template, m.to) for m in sent.messages] == [
        ("invitation.unregistered", "ann@else.example")
    ]
    assert len(deliver(later, sent).delivered) == 0


def test_apply_with_a_notifier_delivers_and_a_failure_waits(waiting: Context) -> None:
    sent = Outbox()
    immediate = attrs.evolve(waiting, notifier=sent)
    run(immediate, OPERATOR, CreateUser(account_id="acme", username="ann@acme.example"))
    assert [m.to for m in sent.messages] == ["ann@acme.example"]
    failing = attrs.evolve(waiting, notifier=_Refusing())
    with pytest.raises(NotificationFailed):
        run(failing, OPERATOR, CreateUser(account_id="acme", username="bob@acme.example"))
    assert [q.message.to for q in _pending(waiting)] == ["bob@acme.example"]


def test_two_deliverers_at_once_send_each_message_once(waiting: Context) -> None:
    for n in range(30):
        run(waiting, OPERATOR, CreateUser(account_id="acme", username=f"u{n}@acme.example"))
    sent: list[str] = []
    lock = threading.Lock()

    class Counting:
        def send(self, messages: Collection[Message], /) -> None:
            with lock:
                sent.extend(m.id for m in messages)

    def worker() -> None:
        while deliver(waiting, Counting(), limit=3).delivered:
            pass

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sent) == 30
    assert len(set(sent)) == 30


@attrs.define
class _Refusing:
    """A notifier whose server drops the connection (for `only`, or for everyone)."""

    only: str | None = None
    seen_tokens: list[str] = attrs.Factory(list)
    passed: Outbox = attrs.Factory(Outbox)

    def send(self, messages: Collection[Message], /) -> None:
        for message in messages:
            if "token" in message.secrets:
                self.seen_tokens.append(message.secrets["token"])
            if self.only is None or message.to == self.only:
                raise ConnectionResetError(f"dropped while sending {message.secrets}")
            self.passed.send([message])


def test_the_outbox_errors_never_carry_a_token() -> None:
    refused = UndeliverableMessage(code="message.recipient_invalid", reason="no address")
    assert "token" not in str(refused)


@pytest.fixture(autouse=True)
def _quiet_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every log line of a test here is checked for secrets at its end."""
    yield
    for record in caplog.records:
        assert "dropped while sending" not in record.getMessage()
        assert "token" not in record.getMessage().lower() or "template" in record.getMessage()


def _report_of(folder: Path) -> tuple[email.message.Message, list[str]]:
    """The delivered report e-mail in `folder`, and the usernames in its attached workbook."""
    for path in folder.glob("*.eml"):
        mail = email.message_from_bytes(path.read_bytes())
        if mail["X-Provisioning-Kind"] == "report.users":
            (attached,) = [p for p in mail.walk() if p.get_filename()]
            content = attached.get_payload(decode=True)
            assert isinstance(content, bytes)
            sheet = openpyxl.load_workbook(io.BytesIO(content))["Users"]
            names = [str(row[0]) for row in sheet.iter_rows(min_row=2, values_only=True)]
            return mail, names
    raise AssertionError("no report was delivered")


def test_a_users_report_by_email_is_made_when_it_is_delivered(
    waiting: Context, tmp_path: Path
) -> None:
    """Seed 002: the admin asks for the report and receives it by e-mail once made."""
    (boss,) = queries.admins(waiting, OPERATOR, "acme")
    run(waiting, Actor.user(boss.id), RequestUsersReport(account_id="acme"))
    run(waiting, OPERATOR, CreateUser(account_id="acme", username="ann@acme.example"))
    folder = tmp_path / "mail"
    done = deliver(waiting, EmlFolder(folder), prepare=bulk.attach_reports(waiting))
    assert len(done.delivered) == 2
    mail, names = _report_of(folder)
    assert mail["To"] == "it@holding.example"  # an administrator's primary email
    assert mail["Subject"] == "The users report of Acme"
    assert set(names) >= {"postmaster@acme.example", "ann@acme.example"}  # as it stood when sent


def test_a_report_follows_its_requesters_rights_when_it_is_delivered(waiting: Context) -> None:
    reader = run(
        waiting,
        OPERATOR,
        CreateAdmin(
            account_id="acme",
            address="reader@acme.example",
            primary_email="reader@else.example",
            role_ids={"system:administrator"},
        ),
    )
    run(waiting, Actor.user(reader.id), RequestUsersReport(account_id="acme"))
    run(waiting, OPERATOR, DeleteAdmin(user_id=reader.id))
    done = deliver(waiting, Outbox(), prepare=bulk.attach_reports(waiting))
    assert len(done.failed) == 1
    (failed,), _ = waiting.store.queued_messages(status=MessageStatus.FAILED, offset=0, limit=9)
    assert failed.failure is not None
    assert failed.failure.startswith("report.refused")


def test_a_report_needs_a_user_who_reads_the_users(waiting: Context) -> None:
    with pytest.raises(ValidationFailed) as refused:
        run(waiting, OPERATOR, RequestUsersReport(account_id="acme"))
    assert refused.value.codes == ["report.no_recipient"]
    member = run(waiting, OPERATOR, CreateUser(account_id="acme", username="bo@acme.example"))
    with pytest.raises(PermissionDenied):
        run(waiting, Actor.user(member.id), RequestUsersReport(account_id="acme"))
    with pytest.raises((PermissionDenied, NotFound)):
        run(waiting, Actor.user(member.id), RequestUsersReport(account_id="globex"))
