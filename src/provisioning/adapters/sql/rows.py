"""Entities to rows and back, for the SQL stores: one compiled mapping per table.

The columns come from `schema.flat_columns`: each holds one (perhaps nested)
field. Writing reads the fields with `operator.attrgetter`; reading builds
the nested values and then the entity, through the same value parsers as
the storage converter (which trusts what was validated on the way in).
"""

from __future__ import annotations

import enum
import operator
import typing
from collections.abc import Callable
from typing import Any, Final

import attrs

from provisioning.adapters.sql.schema import Flat, derived_writers, flat_columns
from provisioning.model import DomainName, EmailAddress, MacAddress, PhoneNumber, Username
from provisioning.model._converter import storage
from provisioning.storage import Table

__all__ = ["RowMapping", "Writer", "mapping"]

_TEXT_VALUES: Final = (DomainName, EmailAddress, Username, PhoneNumber, MacAddress)


def _writer(flat: Flat) -> Callable[[Any], Any]:
    get = operator.attrgetter(".".join(flat.path))
    kind = flat.kind
    origin = typing.get_origin(kind)
    convert: Callable[[Any], Any] | None = None
    if kind in _TEXT_VALUES:
        convert = str
    elif origin is frozenset:
        convert = sorted
    elif origin is tuple:
        convert = storage.unstructure
    if flat.optional is not None:
        holder = operator.attrgetter(".".join(flat.optional))

        def optional(entity: Any) -> Any:  # noqa: ANN401 - an entity and a column value
            if holder(entity) is None:
                return None
            value = get(entity)
            return value if value is None or convert is None else convert(value)

        return optional
    if convert is None:
        return get
    if flat.nullable:
        return lambda entity: None if (value := get(entity)) is None else convert(value)
    return lambda entity: convert(get(entity))


def _reader(flat: Flat) -> Callable[[Any], Any]:
    kind = flat.kind
    if kind in _TEXT_VALUES or typing.get_origin(kind) in (frozenset, tuple):
        hook = storage.get_structure_hook(kind)
        return lambda value: None if value is None else hook(value, kind)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return lambda value: None if value is None else kind(value)
    return lambda value: value


Writer = Callable[[Any], Any]
"""How an entity gives the value of one column."""


@attrs.frozen
class RowMapping:
    """How the entities of one table become rows, and rows entities again.

    `writers` gives each column the entity fills (its own fields, then the
    derived key and query columns) in the order the table lists them.
    """

    table: Table[Any]
    writers: tuple[tuple[str, Writer], ...]
    from_row: Callable[[Any], Any]

    def to_row(self, entity: Any) -> dict[str, Any]:  # noqa: ANN401 - an entity of the table
        """The entity as a row: every column it fills, by name."""
        return {name: write(entity) for name, write in self.writers}


def _builder(cls: type, flats: list[Flat], depth: int) -> Callable[[dict[str, Any]], Any]:
    """Build `cls` (or a nested value of it) from a row read as a mapping."""
    direct: list[tuple[str, str, Callable[[Any], Any]]] = []
    nested: dict[str, list[Flat]] = {}
    for flat in flats:
        if len(flat.path) == depth + 1:
            direct.append((flat.path[depth], flat.name, _reader(flat)))
        else:
            nested.setdefault(flat.path[depth], []).append(flat)
    children = {
        name: (
            _builder(_nested_type(cls, name), group, depth + 1),
            [flat.name for flat in group],
            group[0].optional is not None and len(group[0].optional) == depth + 1,
        )
        for name, group in nested.items()
    }

    def build(row: dict[str, Any]) -> Any:  # noqa: ANN401 - the entity or value built
        values = {name: read(row[column]) for name, column, read in direct}
        for name, (child, columns, optional) in children.items():
            if optional and all(row[column] is None for column in columns):
                values[name] = None
            else:
                values[name] = child(row)
        return cls(**values)

    return build


def _nested_type(cls: type, name: str) -> type:
    hint = typing.get_type_hints(cls)[name]
    kinds = [k for k in typing.get_args(hint) or (hint,) if k is not type(None)]
    (kind,) = kinds
    return typing.cast("type", kind)


def mapping(table: Table[Any]) -> RowMapping:
    """The compiled mapping of `table`."""
    flats = flat_columns(table.entity)
    writers = {flat.name: _writer(flat) for flat in flats}
    writers.update(derived_writers(table))
    build = _builder(table.entity, flats, 0)
    return RowMapping(table=table, writers=tuple(writers.items()), from_row=build)
