"""Phones: the numbers and station packages an account owns, and setting up a phone user.

Numbers are parsed by the numbering plan of their country (`phonenumbers`)
and kept in E.164. A number typed without its country code belongs to the
account's `phone_region`. A number is one account's, platform-wide: which
account holds a taken one is never said. A phone user's seat holds one
station of a package, a number or an extension, and applications the
package permits.
"""

from __future__ import annotations

import attrs

from provisioning.commands import (
    AddPhoneNumbers,
    CreateUser,
    RemovePhoneNumber,
    SetStationPackage,
    SetUpPhoneUser,
)
from provisioning.exceptions import InvalidValue, Issue, PermissionDenied
from provisioning.model import Account, DirectNumber, PhoneNumber, PhoneSeat, StationPackage
from provisioning.services._base import Step, Tx, error
from provisioning.services.users import create_user

__all__ = [
    "add_phone_numbers",
    "extension_issues",
    "extension_range_issues",
    "region_issues",
    "remove_phone_number",
    "set_station_package",
    "set_up_phone_user",
]


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


_LONGEST_EXTENSION = 15  # digits: E.164's longest number, far beyond any dial plan's extensions


def extension_range_issues(tx: Tx, account_id: str, low: int, high: int) -> list[Issue]:
    """An account's extension lengths: 1 to 15 digits, lowest first, fitting those in use."""
    if not 1 <= low <= high <= _LONGEST_EXTENSION:
        return [
            error(
                "extension.range_invalid",
                f"extensions have 1 to {_LONGEST_EXTENSION} digits, the fewest first,"
                f" not {low} to {high}",
                field="extension_min",
            )
        ]
    outside = sorted(
        seat.extension
        for seat in tx.uow.seats.of_account(account_id)
        if seat.extension is not None and not low <= len(seat.extension) <= high
    )
    if outside:
        return [
            error(
                "extension.range_in_use",
                f"{len(outside)} extension(s) in use would not fit, such as {outside[0]}",
                field="extension_min",
            )
        ]
    return []


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


def set_station_package(tx: Tx, command: SetStationPackage) -> Step[StationPackage]:
    """Create or change an account's station package; only the platform operator sells them."""
    if not tx.actor.is_platform:
        raise PermissionDenied(
            actor=str(tx.actor), permission="stations.sell", account_id=command.account_id
        )
    account = tx.uow.accounts.get(command.account_id)
    name = command.name.strip()
    current = tx.uow.stations.by_name(account.id, name)
    issues: list[Issue] = []
    if not name:
        issues.append(error("station.name_required", "a station package has a name", field="name"))
    in_use = 0 if current is None else current.in_use
    if command.owned < in_use:
        issues.append(
            error(
                "station.in_use",
                f"{in_use} stations of {name!r} are in use: the account cannot own fewer",
                field="owned",
            )
        )

    def run() -> StationPackage:
        if current is None:
            package = StationPackage(
                id=tx.new_id(),
                account_id=account.id,
                name=name,
                owned=command.owned,
                applications=command.applications,
            )
            tx.uow.stations.add(package)
        else:
            package = tx.uow.stations.update(
                attrs.evolve(current, owned=command.owned, applications=command.applications)
            )
        tx.record(
            "SetStationPackage",
            "station",
            package.id,
            account_id=account.id,
            detail=f"{name}: {package.owned} owned",
        )
        return package

    return Step.proceed(run, issues)


def set_up_phone_user(tx: Tx, command: SetUpPhoneUser) -> Step[PhoneSeat]:
    """The set-up wizard as one request: the user, its seat, number, station and applications."""
    tx.authorize("phones.manage", command.account_id)
    account = tx.uow.accounts.get(command.account_id)
    user_step = create_user(
        tx,
        CreateUser(
            account_id=account.id,
            username=command.username,
            first_name=command.first_name,
            last_name=command.last_name,
            alternate_email=command.email,
            user_id=command.user_id,
        ),
    )
    issues = list(user_step.issues)
    if command.number_id is None and command.extension is None:
        issues.append(
            error(
                "phone.number_or_extension",
                "a phone user needs a number of the account or an extension",
                field="number_id",
            )
        )
    number = None if command.number_id is None else _number_issues(tx, account, command, issues)
    extension = None
    if command.extension is not None:
        extension = command.extension.strip()
        issues += extension_issues(tx, account, extension)
    station = _station(tx, account, command, issues)

    def run() -> PhoneSeat:
        assert user_step.run is not None  # noqa: S101 - run() exists only when no issue blocked
        assert station is not None  # noqa: S101
        user = user_step.run()
        seat = PhoneSeat(
            id=tx.new_id(),
            account_id=account.id,
            user_id=user.id,
            station_id=station.id,
            extension=extension,
            number_id=None if number is None else number.id,
            applications=command.applications,
        )
        tx.uow.seats.add(seat)
        tx.uow.stations.update(attrs.evolve(station, in_use=station.in_use + 1))
        if number is not None:
            tx.uow.numbers.update(attrs.evolve(number, user_id=user.id))
        given = ", ".join(
            part
            for part in (
                station.name,
                str(number.number) if number is not None else "",
                f"extension {extension}" if extension else "",
            )
            if part
        )
        tx.record("SetUpPhoneUser", "seat", seat.id, account_id=account.id, detail=given)
        return seat

    return Step.proceed(run, issues)


def _number_issues(
    tx: Tx, account: Account, command: SetUpPhoneUser, issues: list[Issue]
) -> DirectNumber | None:
    """The free number of the account the command names, or None with its issue."""
    number = tx.uow.numbers.find(command.number_id or "")
    if number is None or number.account_id != account.id:
        issues.append(
            error("number.not_found", "no such number in this account", field="number_id")
        )
        return None
    if number.user_id is not None:
        holder = tx.uow.users.find(number.user_id)
        whom = f" to {holder.username}" if holder is not None else ""
        issues.append(
            error("number.assigned", f"{number.number} is assigned{whom}", field="number_id")
        )
    return number


def extension_issues(tx: Tx, account: Account, extension: str) -> list[Issue]:
    """Digits, as many as the account allows, held by nobody, and no start of another.

    Nor may another extension be the start of this one: `12` and `123` clash.
    """
    low, high = account.extension_min, account.extension_max
    if not extension.isascii() or not extension.isdigit() or not low <= len(extension) <= high:
        return [
            error(
                "extension.invalid",
                f"an extension of this account has {low} to {high} digits, not {extension!r}",
                field="extension",
            )
        ]
    for seat in tx.uow.seats.of_account(account.id):
        other = seat.extension
        if other is None:
            continue
        if other == extension:
            return [error("extension.taken", f"extension {extension} is taken", field="extension")]
        if other.startswith(extension) or extension.startswith(other):
            return [
                error(
                    "extension.prefix_clash",
                    f"extension {extension} and extension {other} begin alike:"
                    " a caller dialling the shorter one could never reach the longer",
                    field="extension",
                )
            ]
    return []


def _station(
    tx: Tx, account: Account, command: SetUpPhoneUser, issues: list[Issue]
) -> StationPackage | None:
    """The package the command names, with a station left and its applications permitted."""
    wanted = command.station.strip()
    station = tx.uow.stations.by_name(account.id, wanted)
    if station is None:
        by_id = tx.uow.stations.find(wanted)
        station = by_id if by_id is not None and by_id.account_id == account.id else None
    if station is None:
        issues.append(
            error("station.not_found", f"no station package {wanted!r} here", field="station")
        )
        return None
    if station.free <= 0:
        issues.append(
            error(
                "station.none_left",
                f"every {station.name!r} station is in use ({station.owned} owned,"
                f" {station.in_use} in use): order more",
                field="station",
            )
        )
    beyond = sorted(command.applications - station.applications)
    if beyond:
        issues.append(
            error(
                "station.application_not_permitted",
                f"a {station.name!r} station does not permit {', '.join(beyond)}",
                field="applications",
            )
        )
    return station
