"""Delivery: the outbox's messages through `deliver` to a local SMTP server, beside bare smtplib.

The floor is a bare `smtplib` loop rendering the same messages and sending
them over one connection to the same server (aiosmtpd, in this process,
keeping nothing).
`deliver` adds what no loop can skip to keep its promises: claiming the
messages in the store, and recording each batch's outcome. Run with
`nox -s bench -- --messages 10000`.
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from provisioning import Context, deliver
from provisioning.adapters.mail import SmtpNotifier, email_of
from provisioning.adapters.sql import SqliteStore
from provisioning.adapters.templates import render
from provisioning.model import Message


class _Sink:
    """An SMTP server that takes every message and keeps nothing."""

    count = 0

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        del server, session, envelope
        self.count += 1
        return "250 OK"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _messages(count: int) -> list[Message]:
    return [
        Message(
            template="user.created",
            to=f"user{n}@acme.example",
            data={
                "username": f"user{n}@acme.example",
                "account": "Acme",
                "user_id": f"id-{n}",
                "link_expires_at": "2026-12-08 10:00 UTC",
            },
            secrets={"token": f"{n:043d}"},
            id=f"bench-{n}",
        )
        for n in range(count)
    ]


def _bare(port: int, messages: list[Message]) -> float:
    """Each message rendered, made an e-mail and sent: what any sender does."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for message in messages:
            connection.send_message(email_of(message, render(message), "it@acme.example"))
    return time.perf_counter() - start


def _through_deliver(port: int, messages: list[Message], folder: Path) -> float:
    store = SqliteStore(folder / f"outbox-{time.monotonic_ns()}.db")
    ctx = Context(store=store)
    with store.unit_of_work() as uow:
        uow.enqueue(messages, now=datetime.now(UTC))
        uow.commit()
    notifier = SmtpNotifier(f"smtp://127.0.0.1:{port}?tls=none", sender="it@acme.example")
    start = time.perf_counter()
    done = deliver(ctx, notifier, limit=len(messages))
    spent = time.perf_counter() - start
    assert len(done.delivered) == len(messages), done  # noqa: S101 - a benchmark's own check
    store.close()
    return spent


def main() -> None:
    """Interleave the floor and `deliver`, and print each beside the other."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, help="ignored: the workflow benchmark's option")
    arguments = parser.parse_args()
    port = _port()
    controller = Controller(_Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    messages = _messages(arguments.messages)
    ratios = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for _ in range(arguments.rounds):
                bare = _bare(port, messages)
                delivered = _through_deliver(port, messages, Path(folder))
                ratios.append(delivered / bare)
                count = len(messages)
                print(
                    f"{count} messages: bare smtplib {bare:.2f} s ({count / bare:,.0f}/s),"
                    f" deliver from a SQLite outbox {delivered:.2f} s"
                    f" ({count / delivered:,.0f}/s) = {delivered / bare:.2f}x"
                )
    finally:
        controller.stop()
    ratios.sort()
    print(f"median: deliver is {ratios[len(ratios) // 2]:.2f}x bare smtplib")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
