"""Commands on phones: numbers, station packages, phone users, devices."""

from __future__ import annotations

import attrs

from provisioning.commands._base import AddressText, Command, VersionNumber, _names, _texts
from provisioning.model import (
    Device,
    DirectNumber,
    PhoneSeat,
    StationPackage,
)

__all__ = [
    "AddDevice",
    "AddPhoneNumbers",
    "AssignDevice",
    "ChangeStation",
    "ReleaseNumber",
    "RemoveDevice",
    "RemovePhoneNumber",
    "SetStationPackage",
    "SetUpPhoneUser",
    "UnassignDevice",
]


@attrs.frozen(kw_only=True)
class AddPhoneNumbers(Command[tuple[DirectNumber, ...]]):
    """Add phone numbers to the account's inventory, free for its users.

    A number typed without its country code belongs to the account's
    `phone_region`; each is stored in E.164, and is one account's only.
    """

    account_id: str
    numbers: tuple[str, ...] = attrs.field(converter=_texts)


@attrs.frozen(kw_only=True)
class RemovePhoneNumber(Command[None]):
    """Take a number out of the account's inventory; it must be free (assigned to nobody)."""

    number_id: str
    version: VersionNumber | None = None


@attrs.frozen(kw_only=True)
class SetStationPackage(Command[StationPackage]):
    """Set how many stations of a kind the account owns, and the applications they permit.

    The platform operator (who sells them) creates a package by name or
    changes it; `owned` never goes below the stations in use.
    """

    account_id: str
    name: str
    owned: int
    applications: frozenset[str] = attrs.field(default=frozenset(), converter=_names)


@attrs.frozen(kw_only=True)
class SetUpPhoneUser(Command[PhoneSeat]):
    """Create a user of the phone system, with its station, number or extension, applications.

    `email` is where the user is written to (its welcome message goes
    there); `username` is its user id, in the form of an email address.
    One of `number_id` (a free number of the account) and `extension` (its
    digits) is required, both may be given. `station` names a package of the
    account (by name or id) with a station left; `applications` must be
    ones that package permits. `device_id` names a free device of the
    account to be the user's primary, using `device_ports` of its ports.
    """

    account_id: str
    first_name: str
    last_name: str
    email: AddressText
    username: AddressText
    station: str
    number_id: str | None = None
    extension: str | None = None
    applications: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    user_id: str | None = None
    device_id: str | None = None
    device_ports: int = 1


@attrs.frozen(kw_only=True)
class AddDevice(Command[Device]):
    """Add an IP phone to the account's inventory, free for its phone users.

    `mac` is its hardware address in any usual spelling (`00:1A:2B:3C:4D:5E`,
    `001a.2b3c.4d5e` ...), stored normalised; `ports` is how many lines
    the model has.
    """

    account_id: str
    model: str
    mac: str
    ports: int = 1


@attrs.frozen(kw_only=True)
class RemoveDevice(Command[None]):
    """Take a device out of the account's inventory; it must be assigned to nobody."""

    device_id: str
    version: VersionNumber | None = None


@attrs.frozen(kw_only=True)
class AssignDevice(Command[Device]):
    """Give a phone user a free device of its account, using `ports` of the model's ports.

    With `primary` None the device becomes the user's primary if it has
    none, else a secondary one. `primary=True` makes it the primary (a
    secondary device of the user's included: the old primary becomes a
    secondary one); `primary=False` a secondary one, beside a primary.
    """

    user_id: str
    device_id: str
    ports: int = 1
    primary: bool | None = None


@attrs.frozen(kw_only=True)
class UnassignDevice(Command[Device]):
    """Take a device from its user: it is free again.

    A primary device goes only when no secondary one is left, or after
    another has been made the primary.
    """

    device_id: str


@attrs.frozen(kw_only=True)
class ChangeStation(Command[PhoneSeat]):
    """Move a phone user to another station package (by name or id), freeing its old station.

    `applications` replace the seat's (None keeps them); each must be one the
    new package permits.
    """

    user_id: str
    station: str
    applications: frozenset[str] | None = attrs.field(
        default=None, converter=attrs.converters.optional(_names)
    )


@attrs.frozen(kw_only=True)
class ReleaseNumber(Command[PhoneSeat]):
    """Take its number from a phone user's seat: the number is free for the account again.

    The seat keeps its extension; a seat that would be left with neither a
    number nor an extension keeps its number.
    """

    user_id: str
