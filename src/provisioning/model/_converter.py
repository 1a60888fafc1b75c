"""The library's cattrs converters: the one (un)structuring path.

`storage` turns entities into plain, JSON-ready dicts and back, secrets
included: stores use it and nothing else does. `export` is the same but drops
every field marked `SECRET`; everything that leaves the library (JSON output,
reports, logs) goes through it. Hooks are registered on these converters only,
never on cattrs' global one.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from provisioning.model import SECRET, DomainName, EmailAddress, MacAddress, PhoneNumber, Username

__all__ = ["export", "storage", "to_export"]


def _domain(text: str) -> DomainName:
    # Stored names were validated on the way in. An ASCII name is its own ASCII
    # form (IDNs are stored in their Unicode form, so never as 'xn--' labels);
    # only internationalised names pay for a full parse.
    if text.isascii():
        return DomainName(ascii=text, unicode=text)
    return DomainName.parse(text)


def _split(text: str) -> tuple[str, DomainName]:
    local, _, domain = text.rpartition("@")
    return local, _domain(domain)


def _email(text: str) -> EmailAddress:
    local, domain = _split(text)
    return EmailAddress(local=local, domain=domain)


def _username(text: str) -> Username:
    local, domain = _split(text)
    return Username(local=local, domain=domain)


def _is_frozenset(cls: Any) -> bool:  # noqa: ANN401 - any type expression
    # Sets become sorted lists, so stored JSON and exports are stable.
    return cls is frozenset or typing.get_origin(cls) is frozenset


def _make_storage() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_unstructure_hook(DomainName, str)
    converter.register_structure_hook(DomainName, lambda value, _: _domain(value))
    converter.register_unstructure_hook(EmailAddress, str)
    converter.register_structure_hook(EmailAddress, lambda value, _: _email(value))
    converter.register_unstructure_hook(Username, str)
    converter.register_structure_hook(Username, lambda value, _: _username(value))
    converter.register_unstructure_hook(PhoneNumber, str)
    converter.register_structure_hook(PhoneNumber, lambda value, _: PhoneNumber(e164=value))
    converter.register_unstructure_hook(MacAddress, str)
    converter.register_structure_hook(MacAddress, lambda value, _: MacAddress(text=value))
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
    converter.register_unstructure_hook_func(_is_frozenset, sorted)
    return converter


def _has_secret(cls: type) -> bool:
    return attrs.has(cls) and any(f.metadata.get(SECRET) for f in attrs.fields(cls))


def _make_export(base: cattrs.Converter) -> cattrs.Converter:
    converter = base.copy()

    def without_secrets(cls: type) -> Callable[[Any], dict[str, Any]]:
        omitted: dict[str, Any] = {
            f.name: override(omit=True) for f in attrs.fields(cls) if f.metadata.get(SECRET)
        }
        return make_dict_unstructure_fn(cls, converter, **omitted)

    converter.register_unstructure_hook_factory(_has_secret, without_secrets)
    return converter


storage: Final = _make_storage()
export: Final = _make_export(storage)


def to_export(value: object) -> Any:  # noqa: ANN401 - plain data of any shape
    """`value` (an entity, a list of them ...) as JSON-ready plain data, secrets left out.

    Use it for anything that leaves the library: JSON output, reports, logs.
    """
    return export.unstructure(value)
