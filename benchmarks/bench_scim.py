"""What the SCIM service costs against the library it stands on, on SQLite.

- `POST /Users` against `run()` of the same `CreateUser`, one user at a time;
- a `/Bulk` of creations against a loop of as many `run()`s;
- `GET /Users?filter=userName eq ...` and `externalId eq ...` against
  `GET /Users/{id}`, over an account of `--users` users.

Pairs are interleaved (which goes first alternates) and each figure is the
median of the rounds. Run with `nox -s bench -- --users 100000`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from common import active_account, interleaved

from provisioning import Actor, Context, CreateApiClient, CreateUser, run
from provisioning.adapters.memory import MemoryDns
from provisioning.adapters.sql import SqliteStore
from provisioning.model import Profile, User, Username, UserSource
from provisioning.scim import Connection, handle

OPERATOR = Actor.platform()
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


class Service:
    """The SCIM service of one context, called as an identity provider calls it."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        issued = run(
            ctx,
            OPERATOR,
            CreateApiClient(
                account_id="acme",
                name="IdP",
                role_ids={"system:owner"},
                directory_service="idp",
                client_id="idp",
            ),
        )
        self.headers = {
            "Authorization": f"Bearer {issued.token}",
            "Content-Type": "application/scim+json",
        }
        self.actor = Actor.client("idp")
        self.connection = Connection()

    def call(self, method: str, path: str, body: object = None, **query: str) -> object:
        data = b"" if body is None else json.dumps(body).encode()
        status, _, answer = handle(
            self.ctx, self.connection, method, path, query, self.headers, data
        )
        if status >= 300:
            raise SystemExit(f"{method} {path}: {status} {answer[:200]!r}")
        return json.loads(answer) if answer else None


def writes(service: Service, count: int, bulk: int, rounds: int) -> None:
    def posting(round_: int) -> None:
        for n in range(count):
            body = {"schemas": [CORE], "userName": f"p{round_}-{n}@acme.example", "active": True}
            service.call("POST", "/Users", body)

    def running(round_: int) -> None:
        for n in range(count):
            command = CreateUser(account_id="acme", username=f"r{round_}-{n}@acme.example")
            run(service.ctx, service.actor, command)

    scim, library = interleaved(rounds, posting, running)
    print(
        f"POST /Users {scim / count * 1e3:.2f} ms, run(CreateUser) {library / count * 1e3:.2f} ms"
        f" per user: ratio {scim / library:.2f}"
    )

    def bulked(round_: int) -> None:
        operations = [
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": f"u{n}",
                "data": {"schemas": [CORE], "userName": f"b{round_}-{n}@acme.example"},
            }
            for n in range(bulk)
        ]
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": operations,
        }
        service.call("POST", "/Bulk", body)

    def looped(round_: int) -> None:
        for n in range(bulk):
            command = CreateUser(account_id="acme", username=f"l{round_}-{n}@acme.example")
            run(service.ctx, service.actor, command)

    scim, library = interleaved(max(rounds // 2, 1), bulked, looped)
    print(
        f"/Bulk of {bulk} creations {scim:.2f} s, a loop of {bulk} run() {library:.2f} s:"
        f" ratio {scim / library:.2f}"
    )


def _fill(store: SqliteStore, count: int) -> None:
    with store.unit_of_work() as uow:
        for n in range(count):
            uow.users.add(
                User(
                    id=f"u-{n:06d}",
                    username=Username.parse(f"user{n}@acme.example"),
                    created_at=WHEN,
                    updated_at=WHEN,
                    account_id="acme",
                    domain_id=uow.domains.by_name(Username.parse("x@acme.example").domain).id,  # type: ignore[union-attr]
                    source=UserSource.DIRECTORY,
                    directory_service="idp",
                    external_id=f"00u{n:08x}",
                    profile=Profile(first_name="F", last_name=f"L{n}"),
                )
            )
        uow.commit()


def lookups(service: Service, count: int, rounds: int) -> None:
    picked = [(n * 7919) % count for n in range(100)]

    def by_id(_: int) -> None:
        for n in picked:
            service.call("GET", f"/Users/u-{n:06d}")

    for label, attribute, value in (
        ("userName eq", "userName", lambda n: f"USER{n}@acme.example"),
        ("externalId eq", "externalId", lambda n: f"00u{n:08x}"),
    ):

        def filtered(
            _: int, attribute: str = attribute, value: Callable[[int], str] = value
        ) -> None:
            for n in picked:
                found = service.call("GET", "/Users", filter=f'{attribute} eq "{value(n)}"')
                if not isinstance(found, dict) or found["totalResults"] != 1:
                    raise SystemExit(f"{attribute} eq found no user {n}")

        scim, by = interleaved(rounds, filtered, by_id)
        print(
            f"{count} users: {label} {scim / len(picked) * 1e3:.2f} ms,"
            f" GET by id {by / len(picked) * 1e3:.2f} ms: ratio {scim / by:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--bulk", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        dns = MemoryDns()
        store = SqliteStore(Path(folder) / "bench.db")
        ctx = Context(store=store, dns=dns)
        active_account(ctx, dns, "acme", "acme.example")
        service = Service(ctx)
        _fill(store, args.users)
        lookups(service, args.users, args.rounds)
        writes(service, args.writes, args.bulk, args.rounds)
        store.close()


if __name__ == "__main__":
    main()
