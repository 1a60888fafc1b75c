"""Value objects: email addresses, domain names and fully-qualified usernames.

Each value is parsed once, at the edge, into a normalised immutable form; code
that holds one never re-checks it. Parsing failures raise `InvalidValue`, which
carries the stable issue code a caller branches on.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Mapping
from typing import Final, Self

import attrs
from email_validator import EmailNotValidError, ValidatedEmail, validate_email
from email_validator.rfc_constants import (
    CASE_INSENSITIVE_MAILBOX_NAMES,
    DOT_ATOM_TEXT,
    EMAIL_MAX_LENGTH,
    LOCAL_PART_MAX_LENGTH,
)

from provisioning.errors import InvalidValue, codes

__all__ = ["DomainName", "EmailAddress", "MacAddress", "PhoneNumber", "Username", "iana_time_zone"]

CODES: Final = codes(
    invalid=(
        "device.mac_invalid",
        "domain.invalid",
        "email.invalid",
        "phone.invalid",
        "phone.region_required",
        "username.invalid",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

_MAX_DOMAIN_LENGTH: Final = 253
_E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")
_MAC_SEPARATORS: Final = re.compile(r"[:\-.\s]")
_HEX12: Final = re.compile(r"[0-9a-f]{12}")


def _validated(text: str, *, field: str, code: str) -> tuple[str, str, str]:
    """Run email-validator offline and return (local part, unicode domain, ascii domain).

    Every option is passed explicitly so the library's module-level defaults,
    which any importer may change, have no effect on us. A plain ASCII
    address (a dot-atom local part, no quotes, brackets or display name)
    takes a short road with the same answer: its domain is validated once
    per domain (most of email-validator's work, and more still for an
    internationalised domain), its local part here. So does a plain ASCII
    local part at an internationalised domain.
    """
    fast = _plain_ascii(text)
    if fast is not None:
        return fast
    return _validated_fully(text, field=field, code=code)


def _plain_ascii(text: str) -> tuple[str, str, str] | None:
    """The validation of an address with a plain ASCII local part, or None for the full road."""
    if len(text) > EMAIL_MAX_LENGTH:
        return None
    local, at, domain = text.partition("@")
    if not at or "@" in domain or not local.isascii() or DOT_ATOM_TEXT.match(local) is None:
        return None
    if len(local) > LOCAL_PART_MAX_LENGTH:  # the full road says why not
        return None
    found = _domain_of(domain)
    if found is None:
        return None
    unicode, ascii_ = found
    if local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES:
        local = local.lower()
    for form in (f"{local}@{unicode}", f"{local}@{ascii_}"):
        if len(form.encode("utf-8")) > EMAIL_MAX_LENGTH:
            return None
    return local, unicode, ascii_


def _email_validator(text: str) -> ValidatedEmail:
    """email-validator, offline, with every option ours (never the module's defaults)."""
    return validate_email(
        text,
        allow_smtputf8=True,
        allow_empty_local=False,
        allow_quoted_local=False,
        allow_domain_literal=False,
        allow_display_name=False,
        check_deliverability=False,
        test_environment=False,
        globally_deliverable=True,
    )


@functools.lru_cache(maxsize=4096)
def _domain_of(domain: str) -> tuple[str, str] | None:
    """(unicode, ascii) of a valid domain as email-validator sees it, or None; cached."""
    try:
        result = _email_validator(f"a@{domain}")
    except EmailNotValidError:
        return None
    return result.domain, result.ascii_domain


@functools.lru_cache(maxsize=4096)
def _shared_domain(ascii_: str, unicode: str) -> DomainName:
    """The domain of a parsed address: one (immutable) value per domain, shared by its addresses."""
    return DomainName(ascii=ascii_.lower(), unicode=unicode.lower())


def _validated_fully(text: str, *, field: str, code: str) -> tuple[str, str, str]:
    try:
        result = _email_validator(text)
    except EmailNotValidError as exc:
        raise InvalidValue(code=code, field=field, value=text, reason=str(exc)) from None
    if len(result.local_part.encode("utf-8")) > LOCAL_PART_MAX_LENGTH:  # RFC 5321 4.5.3.1.1
        raise InvalidValue(
            code=code,
            field=field,
            value=text,
            reason=f"the part before the '@' has more than {LOCAL_PART_MAX_LENGTH} octets",
        )
    return result.local_part, result.domain, result.ascii_domain


def _require_text(value: object, *, code: str, field: str) -> None:
    if not isinstance(value, str):
        raise InvalidValue(code=code, field=field, value=repr(value), reason="not text")


@attrs.frozen(order=True)
class DomainName:
    """A DNS domain name, IDNA-normalised and lower-case.

    `unicode` is the form people read (`bücher.example`), `ascii` the form DNS
    and mail servers use (`xn--bcher-kva.example`). Two names are equal when
    their ASCII forms are.

    Examples:
        >>> DomainName.parse("Bücher.Example.").ascii
        'xn--bcher-kva.example'
    """

    ascii: str
    unicode: str = attrs.field(eq=False, order=False)

    @classmethod
    def parse(cls, text: str, *, field: str = "domain") -> Self:
        """Normalise `text` or raise `InvalidValue` with code `domain.invalid`."""
        _require_text(text, code="domain.invalid", field=field)
        candidate = text.strip().rstrip(".")
        if not candidate or "@" in candidate or len(candidate) > _MAX_DOMAIN_LENGTH:
            raise InvalidValue(
                code="domain.invalid",
                field=field,
                value=text,
                reason="a domain name has 1 to 253 characters and no '@'",
            )
        # A domain is valid exactly when an ordinary address on it is; this reuses
        # email-validator's IDNA 2008, label-length and special-use rules.
        _, unicode, ascii_ = _validated(
            f"postmaster@{candidate}", field=field, code="domain.invalid"
        )
        return cls(ascii=ascii_.lower(), unicode=unicode.lower())

    def __str__(self) -> str:
        return self.unicode


@attrs.frozen(order=True)
class EmailAddress:
    """A syntactically valid email address, normalised (no DNS look-ups).

    The local part keeps its case (mail servers may honour it); `key` is the
    case-insensitive form the platform uses for uniqueness.

    Examples:
        >>> address = EmailAddress.parse("Ann.Lee@Bücher.example")
        >>> str(address), address.key
        ('Ann.Lee@bücher.example', 'ann.lee@xn--bcher-kva.example')
    """

    local: str
    domain: DomainName

    @classmethod
    def parse(cls, text: str, *, field: str = "email") -> Self:
        """Normalise `text` or raise `InvalidValue` with code `email.invalid`."""
        _require_text(text, code="email.invalid", field=field)
        local, unicode, ascii_ = _validated(text.strip(), field=field, code="email.invalid")
        return cls(local=local, domain=_shared_domain(ascii_, unicode))

    @property
    def key(self) -> str:
        """Case-insensitive identity used for platform-wide uniqueness."""
        return f"{self.local.casefold()}@{self.domain.ascii}"

    @property
    def ascii(self) -> str | None:
        """The all-ASCII form, or None when the local part itself is not ASCII."""
        return f"{self.local}@{self.domain.ascii}" if self.local.isascii() else None

    def __str__(self) -> str:
        return f"{self.local}@{self.domain.unicode}"


@attrs.frozen(order=True)
class Username:
    """A fully-qualified login name: a local part and the domain it lives on.

    Users are always attached to a domain and identified by the whole name, so
    `ann@acme.example` and `ann@other.example` are different users.
    """

    local: str
    domain: DomainName

    @classmethod
    def parse(cls, text: str, *, field: str = "username") -> Self:
        """Normalise `text` or raise `InvalidValue` with code `username.invalid`."""
        _require_text(text, code="username.invalid", field=field)
        if "@" not in text:
            raise InvalidValue(
                code="username.invalid",
                field=field,
                value=text,
                reason="a username is fully qualified: local part, '@', domain",
            )
        local, unicode, ascii_ = _validated(text.strip(), field=field, code="username.invalid")
        return cls(local=local, domain=_shared_domain(ascii_, unicode))

    @classmethod
    def of(cls, local: str, domain: DomainName, *, field: str = "username") -> Self:
        """Build a username from a local part and an already-parsed domain."""
        return cls.parse(f"{local}@{domain.unicode}", field=field)

    @property
    def key(self) -> str:
        """Case-insensitive identity used for platform-wide uniqueness."""
        return f"{self.local.casefold()}@{self.domain.ascii}"

    @property
    def address(self) -> EmailAddress:
        """The username as a mail address."""
        return EmailAddress(local=self.local, domain=self.domain)

    def __str__(self) -> str:
        return f"{self.local}@{self.domain.unicode}"


@attrs.frozen(order=True)
class PhoneNumber:
    """A phone number in E.164 form (`+` country code and subscriber number).

    Only the E.164 shape is checked; numbering-plan rules arrive with the
    telephony features.
    """

    e164: str

    @classmethod
    def parse(cls, text: str, *, field: str = "phone", region: str | None = None) -> Self:
        """Strip spaces, dashes, dots and brackets; raise `phone.invalid` if not E.164.

        With `region` (an account's `phone_region`), a number that is not
        E.164 is read as one of that region typed without its country code
        (see `dialable`).

        Examples:
            >>> str(PhoneNumber.parse("079 123 45 67", region="CH"))
            '+41791234567'
        """
        _require_text(text, code="phone.invalid", field=field)
        compact = re.sub(r"[\s\-.()]", "", text)
        if not _E164.fullmatch(compact):
            if region is not None:
                return cls.dialable(text, region=region, field=field)
            raise InvalidValue(
                code="phone.invalid",
                field=field,
                value=text,
                reason="expected E.164: '+', a country code and 7 to 15 digits in all",
            )
        return cls(e164=compact)

    @classmethod
    def dialable(cls, text: str, *, region: str | None, field: str = "number") -> Self:
        """A number that can be called, by the numbering plan of its country, as E.164.

        `region` (ISO 3166, `CH`) is where a number typed without its country
        code belongs; without one such a number is `phone.region_required`.
        A number no plan assigns is `phone.invalid`.

        Examples:
            >>> str(PhoneNumber.dialable("079 123 45 67", region="CH"))
            '+41791234567'
        """
        import phonenumbers  # noqa: PLC0415 - its metadata loads when a number is first parsed

        _require_text(text, code="phone.invalid", field=field)
        typed = text.strip()
        if typed.startswith("00"):  # the international prefix most of the world dials
            typed = "+" + typed[2:]
        international = typed.startswith("+")
        if not international and region is None:
            raise InvalidValue(
                code="phone.region_required",
                field=field,
                value=text,
                reason="a number without its country code needs the account's phone region",
            )
        try:
            parsed = phonenumbers.parse(typed, None if international else region)
        except phonenumbers.NumberParseException as exc:
            raise InvalidValue(
                code="phone.invalid", field=field, value=text, reason=str(exc).partition(") ")[2]
            ) from None
        if not phonenumbers.is_valid_number(parsed):
            raise InvalidValue(
                code="phone.invalid",
                field=field,
                value=text,
                reason="no numbering plan assigns this number",
            )
        return cls(e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))

    def __str__(self) -> str:
        return self.e164


@attrs.frozen
class MacAddress:
    """A device's hardware (MAC-48) address, as six lowercase pairs joined by colons.

    Examples:
        >>> str(MacAddress.parse("00-1A-2B-3C-4D-5E"))
        '00:1a:2b:3c:4d:5e'
        >>> str(MacAddress.parse("001a.2b3c.4d5e"))
        '00:1a:2b:3c:4d:5e'
    """

    text: str

    @classmethod
    def parse(cls, text: str, *, field: str = "mac") -> Self:
        """Twelve hex digits, with or without `:`, `-` or `.`; raise `device.mac_invalid`.

        A group address (the first octet's lowest bit set, broadcast
        included) and the all-zero address name no single device.
        """
        _require_text(text, code="device.mac_invalid", field=field)
        digits = _MAC_SEPARATORS.sub("", text).lower()
        reason = None
        if not _HEX12.fullmatch(digits):
            reason = "expected twelve hexadecimal digits, such as 00:1a:2b:3c:4d:5e"
        elif int(digits[:2], 16) & 1:
            reason = "a group (multicast or broadcast) address names no single device"
        elif digits == "0" * 12:
            reason = "the all-zero address names no device"
        if reason is not None:
            raise InvalidValue(code="device.mac_invalid", field=field, value=text, reason=reason)
        return cls(":".join(digits[n : n + 2] for n in range(0, 12, 2)))

    def __str__(self) -> str:
        return self.text


@functools.cache
def _time_zones() -> Mapping[str, str]:
    """The IANA zone names the tzdata package holds, by their case-folded form."""
    names = importlib.resources.files("tzdata").joinpath("zones").read_text("utf-8").split()
    return {name.casefold(): name for name in names}


def iana_time_zone(text: str) -> str | None:
    """The IANA time zone `text` names, spelled as IANA does, or None when it names none.

    The names are those of the tzdata package, the same on every machine: a
    system's own files (`localtime`, `posix/...`) are not time zones a user
    can be in. Case does not matter, as it does not to the people typing them.

    Examples:
        >>> iana_time_zone("europe/zurich")
        'Europe/Zurich'
        >>> iana_time_zone("posix/Europe/Zurich") is None
        True
    """
    return _time_zones().get(text.strip().casefold())
