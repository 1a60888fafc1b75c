"""Phones: the numbers, station packages and devices an account owns, and its phone users.

Numbers are parsed by the numbering plan of their country (`phonenumbers`)
and kept in E.164. A number typed without its country code belongs to the
account's `phone_region`. A number is one account's, platform-wide: which
account holds a taken one is never said; nor which holds a device's MAC
address. A phone user's seat holds one station of a package, a number or
an extension, and applications the package permits; the user may have one
primary device and any number of secondary ones, each using no more ports
than its model has.
"""

from __future__ import annotations

from typing import Final

import attrs

from provisioning.commands import (
    AddDevice,
    AddPhoneNumbers,
    AssignDevice,
    ChangeStation,
    CreateUser,
    ReleaseNumber,
    RemoveDevice,
    RemovePhoneNumber,
    SetStationPackage,
    SetUpPhoneUser,
    UnassignDevice,
)
from provisioning.errors import InvalidValue, Issue, PermissionDenied, codes
from provisioning.model import (
    Account,
    Device,
    DirectNumber,
    MacAddress,
    PhoneNumber,
    PhoneSeat,
    StationPackage,
    User,
)
from provisioning.rules._tx import Step, Tx, error

__all__ = [
    "add_device",
    "add_phone_numbers",
    "assign_device",
    "change_station",
    "extension_issues",
    "release_number",
    "remove_device",
    "remove_phone_number",
    "set_station_package",
    "set_up_phone_user",
    "unassign_device",
]

CODES: Final = codes(
    invalid=(
        "device.model_required",
        "device.ports_invalid",
        "device.primary_required",
        "extension.invalid",
        "number.duplicate",
        "number.required",
        "phone.number_or_extension",
        "station.application_not_permitted",
        "station.name_required",
    ),
    conflict=(
        "device.taken",
        "extension.prefix_clash",
        "extension.taken",
        "number.taken",
    ),
    not_found=(
        "device.not_found",
        "number.not_found",
        "station.not_found",
    ),
    state=(
        "device.assigned",
        "device.not_assigned",
        "device.secondaries_left",
        "number.assigned",
        "number.not_assigned",
        "phone.no_seat",
        "station.in_use",
    ),
    limit=(
        "device.ports_exceeded",
        "station.none_left",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

_MOST_PORTS = 64  # lines on one device: beyond any desk phone or expansion module


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
    row = tx.known("number", command.number_id, tx.uow.numbers.find(command.number_id))
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
    user_step: Step[User] = tx.handle(
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
    station = _station(tx, account, command.station, command.applications, issues)
    device = None
    if command.device_id is not None:
        device = _free_device(tx, account.id, command.device_id, issues)
        if device is not None:
            issues += _port_issues(device, command.device_ports, field="device_ports")

    def run() -> PhoneSeat:
        assert user_step.run is not None  # noqa: S101 - run() exists only when no issue blocked
        assert station is not None  # noqa: S101
        user = user_step.run()
        if device is not None:
            tx.uow.devices.update(
                attrs.evolve(device, user_id=user.id, primary=True, ports_used=command.device_ports)
            )
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
                f"device {device.mac}" if device is not None else "",
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
        issues.append(
            error(
                "number.assigned",
                f"{number.number} is assigned{_whose(tx, number.user_id)}",
                field="number_id",
            )
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
    tx: Tx,
    account: Account,
    named: str,
    applications: frozenset[str],
    issues: list[Issue],
    *,
    leaving: str | None = None,
) -> StationPackage | None:
    """The package `named`, with a station left and `applications` permitted.

    A seat `leaving` that package gives its own station back, so moving
    within one package needs none left.
    """
    wanted = named.strip()
    station = tx.uow.stations.by_name(account.id, wanted)
    if station is None:
        by_id = tx.uow.stations.find(wanted)
        station = by_id if by_id is not None and by_id.account_id == account.id else None
    if station is None:
        issues.append(
            error("station.not_found", f"no station package {wanted!r} here", field="station")
        )
        return None
    if station.free <= 0 and station.id != leaving:
        issues.append(
            error(
                "station.none_left",
                f"every {station.name!r} station is in use ({station.owned} owned,"
                f" {station.in_use} in use): order more",
                field="station",
            )
        )
    beyond = sorted(applications - station.applications)
    if beyond:
        issues.append(
            error(
                "station.application_not_permitted",
                f"a {station.name!r} station does not permit {', '.join(beyond)}",
                field="applications",
            )
        )
    return station


def _whose(tx: Tx, user_id: str) -> str:
    """` to alice@acme.example` when the actor may read the account's users, else nothing."""
    holder = tx.uow.users.find(user_id)
    if holder is None or holder.account_id is None:
        return ""
    return f" to {holder.username}" if "users.read" in tx.permissions(holder.account_id) else ""


def _free_device(
    tx: Tx, account_id: str, device_id: str, issues: list[Issue], *, user_id: str | None = None
) -> Device | None:
    """The device of the account `device_id` names, with `device.assigned` if someone has it.

    Someone else than `user_id`, that is: a user's own device is free for it.
    """
    device = tx.uow.devices.find(device_id)
    if device is None or device.account_id != account_id:
        issues.append(
            error("device.not_found", "no such device in this account", field="device_id")
        )
        return None
    if device.user_id not in {None, user_id}:
        issues.append(
            error(
                "device.assigned",
                f"device {device.mac} is assigned{_whose(tx, device.user_id)}",
                field="device_id",
            )
        )
    return device


def _port_issues(device: Device, ports: int, *, field: str) -> list[Issue]:
    """`device.ports_exceeded` unless 1 to as many ports as the device's model has are asked."""
    if 1 <= ports <= device.ports:
        return []
    return [
        error(
            "device.ports_exceeded",
            f"a {device.model} has {device.ports} port(s): use 1 to {device.ports}, not {ports!r}",
            field=field,
        )
    ]


def add_device(tx: Tx, command: AddDevice) -> Step[Device]:
    """Add an IP phone to the account's inventory: its model, MAC address and ports."""
    tx.authorize("phones.manage", command.account_id)
    account = tx.uow.accounts.get(command.account_id)
    issues: list[Issue] = []
    model = command.model.strip()
    if not model:
        issues.append(error("device.model_required", "a device names its model", field="model"))
    ports = command.ports
    if not 1 <= ports <= _MOST_PORTS:
        issues.append(
            error(
                "device.ports_invalid",
                f"a device has 1 to {_MOST_PORTS} ports, not {ports!r}",
                field="ports",
            )
        )
    try:
        mac = MacAddress.parse(command.mac)
    except InvalidValue as invalid:
        return Step.refuse([*issues, invalid.issue()])
    held = tx.uow.devices.by_mac(mac)
    if held is not None:
        whose = "this account" if held.account_id == account.id else "another account"
        issues.append(error("device.taken", f"{mac} is already {whose}'s", field="mac"))

    def run() -> Device:
        device = Device(
            id=tx.new_id(),
            account_id=account.id,
            model=model,
            mac=mac,
            ports=ports,
            added_at=tx.now,
        )
        tx.uow.devices.add(device)
        tx.record("AddDevice", "device", device.id, account_id=account.id, detail=f"{model} {mac}")
        return device

    return Step.proceed(run, issues)


def remove_device(tx: Tx, command: RemoveDevice) -> Step[None]:
    """Take a free device out of its account's inventory."""
    device = tx.known("device", command.device_id, tx.uow.devices.find(command.device_id))
    tx.authorize("phones.manage", device.account_id)
    issues = []
    if device.user_id is not None:
        issues.append(
            error(
                "device.assigned",
                f"device {device.mac} is assigned{_whose(tx, device.user_id)}: take it back first",
                field="device_id",
            )
        )

    def run() -> None:
        tx.uow.devices.remove(device.id, version=command.version)
        tx.record(
            "RemoveDevice",
            "device",
            device.id,
            account_id=device.account_id,
            detail=str(device.mac),
        )

    return Step.proceed(run, issues)


def _phone_user(tx: Tx, user_id: str) -> tuple[User, PhoneSeat | None, list[Issue]]:
    """The user, once the actor may manage its phone; its seat, or `phone.no_seat`."""
    user = tx.user(user_id)
    if user.account_id is None:
        return user, None, [error("phone.no_seat", f"{user.username} has no phone seat")]
    tx.authorize("phones.manage", user.account_id)
    tx.require_rank("phones.manage", user)
    seat = tx.uow.seats.of_user(user.id)
    if seat is None:
        return (
            user,
            None,
            [
                error(
                    "phone.no_seat",
                    f"{user.username} is not set up on the phone system",
                    field="user_id",
                )
            ],
        )
    return user, seat, []


def assign_device(tx: Tx, command: AssignDevice) -> Step[Device]:
    """Give a phone user a device: its primary, or a secondary one; or make one its primary."""
    user, seat, issues = _phone_user(tx, command.user_id)
    if seat is None:
        return Step.refuse(issues)
    device = _free_device(tx, seat.account_id, command.device_id, issues, user_id=user.id)
    if device is None:
        return Step.refuse(issues)
    issues += _port_issues(device, command.ports, field="ports")
    current = next((d for d in tx.uow.devices.of_user(user.id) if d.primary), None)
    primary = command.primary
    if primary is None:  # the user's own device keeps its place; another is primary if first
        primary = device.primary if device.user_id == user.id else current is None
    if not primary and (current is None or current.id == device.id):
        issues.append(
            error(
                "device.primary_required",
                f"{user.username} needs a primary device: make this one or another the primary",
                field="primary",
            )
        )

    def run() -> Device:
        if primary and current is not None and current.id != device.id:
            tx.uow.devices.update(attrs.evolve(current, primary=False))
        given = tx.uow.devices.update(
            attrs.evolve(device, user_id=user.id, primary=primary, ports_used=command.ports)
        )
        role = "primary" if primary else "secondary"
        tx.record(
            "AssignDevice",
            "device",
            device.id,
            account_id=seat.account_id,
            detail=f"{device.mac} to {user.username}, {role}",
        )
        return given

    return Step.proceed(run, issues)


def unassign_device(tx: Tx, command: UnassignDevice) -> Step[Device]:
    """Take a device from its user; a primary one only when no secondary one is left."""
    device = tx.known("device", command.device_id, tx.uow.devices.find(command.device_id))
    tx.authorize("phones.manage", device.account_id)
    if device.user_id is None:
        return Step.refuse(
            [error("device.not_assigned", f"device {device.mac} is free", field="device_id")]
        )
    user = tx.user(device.user_id)
    tx.require_rank("phones.manage", user)
    issues = []
    others = [d for d in tx.uow.devices.of_user(user.id) if d.id != device.id]
    if device.primary and others:
        issues.append(
            error(
                "device.secondaries_left",
                f"{device.mac} is the primary device of {user.username}, who has"
                f" {len(others)} secondary one(s): make one of them the primary first",
                field="device_id",
            )
        )

    def run() -> Device:
        freed = tx.uow.devices.update(
            attrs.evolve(device, user_id=None, primary=False, ports_used=0)
        )
        tx.record(
            "UnassignDevice",
            "device",
            device.id,
            account_id=device.account_id,
            detail=f"{device.mac} from {user.username}",
        )
        return freed

    return Step.proceed(run, issues)


def change_station(tx: Tx, command: ChangeStation) -> Step[PhoneSeat]:
    """Move a phone user to another station package; its old station is free again."""
    user, seat, issues = _phone_user(tx, command.user_id)
    if seat is None:
        return Step.refuse(issues)
    account = tx.uow.accounts.get(seat.account_id)
    applications = seat.applications if command.applications is None else command.applications
    station = _station(tx, account, command.station, applications, issues, leaving=seat.station_id)

    def run() -> PhoneSeat:
        assert station is not None  # noqa: S101 - run() exists only when no issue blocked
        if station.id != seat.station_id:
            old = tx.uow.stations.find(seat.station_id)
            if old is not None:
                tx.uow.stations.update(attrs.evolve(old, in_use=max(0, old.in_use - 1)))
            tx.uow.stations.update(attrs.evolve(station, in_use=station.in_use + 1))
        moved = tx.uow.seats.update(
            attrs.evolve(seat, station_id=station.id, applications=applications)
        )
        tx.record(
            "ChangeStation",
            "seat",
            seat.id,
            account_id=seat.account_id,
            detail=f"{user.username}: {station.name}",
        )
        return moved

    return Step.proceed(run, issues)


def release_number(tx: Tx, command: ReleaseNumber) -> Step[PhoneSeat]:
    """Free the number of a phone user's seat; the seat keeps its extension."""
    user, seat, issues = _phone_user(tx, command.user_id)
    if seat is None:
        return Step.refuse(issues)
    if seat.number_id is None:
        return Step.refuse(
            [error("number.not_assigned", f"{user.username} has no number", field="user_id")]
        )
    if seat.extension is None:
        issues.append(
            error(
                "phone.number_or_extension",
                f"{user.username} has no extension: without its number it could not be called",
                field="user_id",
            )
        )
    number = tx.uow.numbers.find(seat.number_id)

    def run() -> PhoneSeat:
        if number is not None:
            tx.uow.numbers.update(attrs.evolve(number, user_id=None))
        released = tx.uow.seats.update(attrs.evolve(seat, number_id=None))
        detail = f"{number.number} from {user.username}" if number is not None else "released"
        tx.record("ReleaseNumber", "seat", seat.id, account_id=seat.account_id, detail=detail)
        return released

    return Step.proceed(run, issues)
