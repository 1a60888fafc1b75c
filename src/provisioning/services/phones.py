"""Phone numbers: the inventory of numbers an account owns.

Numbers are parsed by the numbering plan of their country (`phonenumbers`)
and kept in E.164. A number typed without its country code belongs to the
account's `phone_region`. A number is one account's, platform-wide: who
holds one that is taken is told only to members of the holder's account.
"""

from __future__ import annotations

from provisioning.commands import AddPhoneNumbers, RemovePhoneNumber
from provisioning.exceptions import InvalidValue, Issue
from provisioning.model import DirectNumber, PhoneNumber
from provisioning.services._base import Step, Tx, error

__all__ = ["add_phone_numbers", "region_issues", "remove_phone_number"]


def region_issues(region: object) -> list[Issue]:
    """`phone.region_unknown` unless `region` is a region the numbering plans know (or None)."""
    import phonenumbers  # noqa: PLC0415 - its metadata loads when first used

    if region is None or (isinstance(region, str) and region in phonenumbers.SUPPORTED_REGIONS):
        return []
    return [
        error(
            "phone.region_unknown",
            f"{region!r} is no region a numbering plan knows: use its ISO 3166 code, such as CH",
            field="phone_region",
        )
    ]


def add_phone_numbers(tx: Tx, command: AddPhoneNumbers) -> Step[tuple[DirectNumber, ...]]:
    """Add numbers to the account's inventory; each problem is an issue of its own."""
    tx.authorize("phones.manage", command.account_id)
    account = tx.uow.accounts.get(command.account_id)
    found: list[tuple[int, Issue]] = []  # (position, issue): reported in the numbers' order
    parsed: dict[str, tuple[int, PhoneNumber]] = {}  # E.164 -> (position, number), in order
    for position, text in enumerate(command.numbers):
        field = f"numbers[{position}]"
        try:
            number = PhoneNumber.dialable(text, region=account.phone_region, field=field)
        except InvalidValue as invalid:
            found.append((position, invalid.issue()))
            continue
        if number.e164 in parsed:
            found.append(
                (position, error("number.duplicate", f"{number} is given twice", field=field))
            )
            continue
        parsed[number.e164] = (position, number)
    held = tx.uow.numbers.holders(number for _, number in parsed.values())
    for e164, holder in held.items():
        position, number = parsed[e164]
        row = tx.uow.numbers.find(holder)
        ours = row is not None and row.account_id == account.id
        whose = "this account" if ours else "another account"
        taken = error(
            "number.taken", f"{number} is already {whose}'s", field=f"numbers[{position}]"
        )
        found.append((position, taken))
    issues = [issue for _, issue in sorted(found, key=lambda pair: pair[0])]
    if not command.numbers:
        issues.append(error("number.required", "no number to add", field="numbers"))

    def run() -> tuple[DirectNumber, ...]:
        added = []
        for _, number in parsed.values():
            row = DirectNumber(
                id=tx.new_id(), account_id=account.id, number=number, added_at=tx.now
            )
            tx.uow.numbers.add(row)
            tx.record(
                "AddPhoneNumbers", "number", row.id, account_id=account.id, detail=str(number)
            )
            added.append(row)
        return tuple(added)

    return Step.proceed(run, issues)


def remove_phone_number(tx: Tx, command: RemovePhoneNumber) -> Step[None]:
    """Take a free number out of its account's inventory."""
    row = tx.uow.numbers.get(command.number_id)
    tx.reveal("number", row.id, row.account_id)
    tx.authorize("phones.manage", row.account_id)
    issues = []
    if row.user_id is not None:
        issues.append(
            error(
                "number.assigned",
                f"{row.number} is assigned to a user: release it first",
                field="number_id",
            )
        )

    def run() -> None:
        tx.uow.numbers.remove(row.id, version=command.version)
        tx.record(
            "RemovePhoneNumber", "number", row.id, account_id=row.account_id, detail=str(row.number)
        )

    return Step.proceed(run, issues)
