"""Provision a first tenant into the embedded SQLite store and show what happened.

Run it twice: the second run finds the tenant already there (the store is a
file, `provisioning-demo.db`, in the current directory).
"""

from __future__ import annotations

import sys
from pathlib import Path

from provisioning import (
    Actor,
    Context,
    CreateAccount,
    CreateClassOfService,
    ValidationFailed,
    apply,
    plan,
    queries,
)


def main(path: Path) -> int:
    ctx = Context.open(path)
    operator = Actor.platform("quickstart")

    # Phase 1, validation: nothing is written, every issue is collected.
    batch = plan(
        ctx,
        operator,
        [
            # Platform-wide: a reserved class of service that is never assigned.
            CreateClassOfService(name="catchall_cos", system=True, description="Reserved"),
            # A tenant, with an id of our choosing so the next command can refer to it.
            CreateAccount(name="Acme Corporation", account_id="acme"),
            CreateClassOfService(
                account_id="acme", name="standard", quota_mb=5120, features={"imap", "webmail"}
            ),
        ],
    )
    if not batch.ok:
        print(f"{path} already holds this tenant; the plan says why it would not apply:")
        for issue in batch.issues:
            print(f"  {issue}")
        return 0

    # Phase 2, execution: one transaction, all or nothing, one audit event per change.
    try:
        outcome = apply(ctx, batch)
    except ValidationFailed as failed:
        print(failed, file=sys.stderr)
        return 1
    account = outcome.results[1]
    print(f"created account {account.name!r} ({account.id}) in {path}")
    for cos in queries.classes_of_service(ctx, operator, account.id):
        flag = " (system: never assigned)" if cos.system else ""
        print(f"  class of service {cos.name}{flag}")
    for event in outcome.events:
        print(f"  audit: {event.actor} {event.action} {event.entity} {event.entity_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "provisioning-demo.db")))
