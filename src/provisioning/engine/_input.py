"""Commands typed at the edge: every field checked against its annotation and the text rules.

A command may be built by hand with the wrong types, or from a mapping (a JSON
document, a spreadsheet row) through `command_from`. Either way every problem
becomes an `Issue` naming the field path, with a stable code:

- `value.type`: the value is not of the field's type (a string where a set of
  names is expected is refused, never split into letters);
- `value.missing`, `value.unknown_field`: from a mapping only;
- `value.out_of_range`: a whole number beyond what any store can keep;
- `text.invalid`: control characters (NUL ...), bidirectional overrides or
  lone surrogates, which display deceptively or cannot be stored;
- `text.too_long`: beyond the field's limit.

Each field's limits are declared in its type (`AddressText` is
`Annotated[str, Text(320)]`, see `provisioning.commands`); plain `str` takes
256 characters on one line. The checks are compiled once per command class
from its type hints, so a 100,000-row batch pays a few attribute reads per
field. `command_from` structures a mapping with cattrs and then runs the same
checks, so a command from a document and one built by hand meet one set of
rules.
"""

from __future__ import annotations

import enum
import functools
import json
import re
import types
import typing
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Annotated, Any, Final, TypeVar

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from provisioning.commands import UNCHANGED, Text, Unchanged, Whole
from provisioning.errors import Issue, ValidationFailed, codes
from provisioning.model import SECRET

__all__ = [
    "FieldSpec",
    "argument_checker",
    "command_fields",
    "command_from",
    "command_issues",
    "field_root",
    "json_schema",
    "without_forbidden",
]

CODES: Final = codes(
    invalid=(
        "text.invalid",
        "text.too_long",
        "value.missing",
        "value.out_of_range",
        "value.type",
        "value.unknown_field",
    ),
    usage=("command.unknown",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

_C = TypeVar("_C")
_M = TypeVar("_M")

# C0 and C1 controls, bidirectional embeddings, overrides and isolates, lone surrogates.
_FORBIDDEN: Final = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_FORBIDDEN_MULTILINE: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_LARGEST: Final = 2**53  # whole numbers every store and JSON reader keeps exactly
_PLAIN_TEXT: Final = Text()
_ANY_WHOLE: Final = Whole()

_Check = Callable[[Any, str, list[Issue]], bool]


def _annotated(kind: Any) -> tuple[Any, tuple[object, ...]]:  # noqa: ANN401 - a type expression
    """`kind` without its `Annotated` marks, and the marks (the field's limits)."""
    if typing.get_origin(kind) is Annotated:
        return typing.get_args(kind)[0], tuple(kind.__metadata__)
    return kind, ()


def _mark(marks: tuple[object, ...], of: type[_M], default: _M) -> _M:
    return next((mark for mark in marks if isinstance(mark, of)), default)


def _describe(kind: Any) -> str:  # noqa: ANN401, PLR0911 - a type expression, one answer per kind
    kind = _annotated(kind)[0]
    if kind is str:
        return "text"
    if kind is int:
        return "a whole number"
    if kind is bool:
        return "true or false"
    if kind is type(None):
        return "nothing (None)"
    if kind is Unchanged:
        return "UNCHANGED"
    origin = typing.get_origin(kind)
    if origin in (frozenset, tuple):
        return f"a list of {_describe(typing.get_args(kind)[0])}"
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return "one of " + ", ".join(repr(member.value) for member in kind)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(kind))
    return getattr(kind, "__name__", str(kind))


def _type_issue(path: str, kind: Any, value: object) -> Issue:  # noqa: ANN401
    return Issue(
        code="value.type",
        message=f"expected {_describe(kind)}, not {type(value).__name__}",
        field=path,
    )


def _text_check(text: Text) -> _Check:
    limit = text.longest
    forbidden = _FORBIDDEN_MULTILINE if text.multiline else _FORBIDDEN

    def check(value: Any, path: str, issues: list[Issue]) -> bool:  # noqa: ANN401
        if type(value) is not str and not isinstance(value, str):
            return False
        if len(value) > limit:
            issues.append(
                Issue(
                    code="text.too_long",
                    message=f"at most {limit} characters, not {len(value)}",
                    field=path,
                )
            )
        elif forbidden.search(value) is not None:
            issues.append(
                Issue(
                    code="text.invalid",
                    message="control characters, bidirectional overrides and lone surrogates"
                    " are not allowed",
                    field=path,
                )
            )
        return True

    return check


def _int_check(whole: Whole) -> _Check:
    lowest = whole.lowest

    def check(value: Any, path: str, issues: list[Issue]) -> bool:  # noqa: ANN401
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        if not lowest <= value < _LARGEST:
            issues.append(
                Issue(
                    code="value.out_of_range",
                    message=f"expected a whole number from {lowest} to 2**53 - 1",
                    field=path,
                )
            )
        return True

    return check


def _accepting(predicate: Callable[[Any], bool]) -> _Check:
    """A check that only says whether the value is of the type."""

    def check(value: Any, path: str, issues: list[Issue]) -> bool:  # noqa: ANN401
        del path, issues
        return predicate(value)

    return check


def _compile(kind: Any) -> _Check:  # noqa: ANN401, C901, PLR0911 - one branch per kind of type
    """A check for values of `kind`: True if the value is of the type (issues added inside)."""
    kind, marks = _annotated(kind)
    if kind is str:
        return _text_check(_mark(marks, Text, _PLAIN_TEXT))
    if kind is int:
        return _int_check(_mark(marks, Whole, _ANY_WHOLE))
    if kind is bool:
        return _accepting(lambda value: isinstance(value, bool))
    if kind is type(None):
        return _accepting(lambda value: value is None)
    if kind is Unchanged:
        return _accepting(lambda value: value is UNCHANGED)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return _accepting(lambda value: isinstance(value, kind))
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        branches = [_compile(arg) for arg in typing.get_args(kind)]

        def union(value: Any, path: str, issues: list[Issue]) -> bool:  # noqa: ANN401
            return any(branch(value, path, issues) for branch in branches)

        return union
    if origin in (frozenset, tuple):
        container = origin
        item = _compile(typing.get_args(kind)[0])

        def items(value: Any, path: str, issues: list[Issue]) -> bool:  # noqa: ANN401
            if not isinstance(value, container):
                return False
            for index, element in enumerate(value):
                where = f"{path}[{index}]"
                if not item(element, where, issues):
                    issues.append(_type_issue(where, typing.get_args(kind)[0], element))
            return True

        return items
    if isinstance(kind, type) and attrs.has(kind):
        fields = _checker(kind)

        def nested(value: Any, path: str, issues: list[Issue]) -> bool:  # noqa: ANN401
            if not isinstance(value, kind):
                return False
            issues.extend(attrs.evolve(i, field=f"{path}.{i.field}") for i in fields(value))
            return True

        return nested
    return _accepting(lambda value: isinstance(value, kind))


_CHECKERS: dict[type, Callable[[Any], list[Issue]]] = {}


def _checker(cls: type) -> Callable[[Any], list[Issue]]:
    found = _CHECKERS.get(cls)
    if found is None:
        found = _CHECKERS[cls] = _compile_class(cls)
    return found


def _members(kind: Any) -> tuple[Any, ...]:  # noqa: ANN401 - a type expression
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return typing.get_args(kind)
    return (kind,)


def _plain(kind: Any) -> frozenset[type]:  # noqa: ANN401 - a type expression
    """The exact types a value of `kind` may have that need no further check."""
    plain: set[type] = set()
    for member in _members(kind):
        if member in (type(None), bool, Unchanged) or (
            isinstance(member, type) and issubclass(member, enum.Enum)
        ):
            plain.add(member)
    return frozenset(plain)


def text_of(kind: Any) -> Text | None:  # noqa: ANN401 - a type expression
    """The limits of the text a field of type `kind` holds (None: it holds no text)."""
    for member in _members(kind):
        base, marks = _annotated(member)
        if base is str:
            return _mark(marks, Text, _PLAIN_TEXT)
    return None


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def _compile_class(cls: type) -> Callable[[Any], list[Issue]]:
    hints = _hints(cls)
    checks = []
    for f in attrs.fields(cls):
        kind = hints[f.name]
        text = text_of(kind)
        checks.append(
            (
                f.name,
                kind,
                _plain(kind),
                None if text is None else _text_check(text),
                _compile(kind),
            )
        )

    def check(value: object) -> list[Issue]:
        issues: list[Issue] = []
        for name, kind, plain, text, accepts in checks:
            field_value = getattr(value, name)
            exact = type(field_value)
            if exact in plain:
                continue
            if exact is str and text is not None:
                text(field_value, name, issues)
            elif not accepts(field_value, name, issues):
                issues.append(_type_issue(name, kind, field_value))
        return issues

    return check


def command_issues(command: object) -> list[Issue]:
    """Every problem with the types and texts of an attrs command's fields (none: it is sound).

    Examples:
        >>> from provisioning import CreateAccount
        >>> [i.code for i in command_issues(CreateAccount(name=123))]  # type: ignore[arg-type]
        ['value.type']
    """
    if not attrs.has(type(command)):
        return [unknown_command(command)]
    return _checker(type(command))(command)


def unknown_command(command: object) -> Issue:
    """`command.unknown`: not a command (no attrs class), or one no handler takes."""
    return Issue(code="command.unknown", message=f"{type(command).__name__} is not a command")


def argument_checker(function: Callable[..., Any]) -> Callable[[Mapping[str, Any]], list[Issue]]:
    """A check of a function's arguments against its annotations (for the queries)."""
    hints = typing.get_type_hints(function, include_extras=True)
    checks = {name: (kind, _compile(kind)) for name, kind in hints.items() if name != "return"}

    def check(arguments: Mapping[str, Any]) -> list[Issue]:
        issues: list[Issue] = []
        for name, value in arguments.items():
            found = checks.get(name)
            if found is not None and not found[1](value, name, issues):
                issues.append(_type_issue(name, found[0], value))
        return issues

    return check


# -- from mappings ---------------------------------------------------------------


def _strict(kind: type) -> Callable[[Any, Any], Any]:
    def structure(value: Any, _: Any) -> Any:  # noqa: ANN401
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(_describe(kind))
        return value

    return structure


def _is_union(kind: Any) -> bool:  # noqa: ANN401
    return typing.get_origin(kind) in (typing.Union, types.UnionType)


def _is_collection(kind: Any) -> bool:  # noqa: ANN401
    return typing.get_origin(kind) in (frozenset, tuple)


def _make_input() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    for kind in (str, int, bool):
        converter.register_structure_hook(kind, _strict(kind))

    def union(value: Any, kind: Any) -> Any:  # noqa: ANN401
        args = typing.get_args(kind)
        if value is None:
            if type(None) in args:
                return None
            raise TypeError(_describe(kind))
        for arg in args:
            if arg in (type(None), Unchanged):
                continue
            try:
                return converter.structure(value, arg)
            except (TypeError, ValueError, ClassValidationError, IterableValidationError):
                continue
        raise TypeError(_describe(kind))

    def collection(value: Any, kind: Any) -> Any:  # noqa: ANN401
        if isinstance(value, str | bytes | Mapping) or not isinstance(
            value, list | tuple | set | frozenset
        ):
            raise TypeError(_describe(kind))
        item = typing.get_args(kind)[0]
        return typing.get_origin(kind)(converter.structure(element, item) for element in value)

    converter.register_structure_hook_func(_is_union, union)
    converter.register_structure_hook_func(_is_collection, collection)
    return converter


_INPUT: Final = _make_input()


def _issues_of(error: BaseException, path: str) -> list[Issue]:
    if isinstance(error, ForbiddenExtraKeysError):
        return [
            Issue(
                code="value.unknown_field",
                message="no such field",
                field=f"{path}.{name}" if path else name,
            )
            for name in sorted(error.extra_fields)
        ]
    if isinstance(error, ClassValidationError | IterableValidationError):
        found: list[Issue] = []
        with_notes, without = error.group_exceptions()
        for inner, note in with_notes:
            name = getattr(note, "name", None) if isinstance(error, ClassValidationError) else None
            index = getattr(note, "index", None)
            if name is not None:
                where = f"{path}.{name}" if path else str(name)
            elif index is not None:
                where = f"{path}[{index}]"
            else:
                where = path
            found += _issues_of(inner, where)
        for inner in without:
            found += _issues_of(inner, path)
        return found
    if isinstance(error, KeyError):
        return [Issue(code="value.missing", message="this field is required", field=path)]
    reason = str(error) if isinstance(error, TypeError) else "not a valid value"
    return [Issue(code="value.type", message=f"expected {reason}", field=path or None)]


@attrs.frozen
class FieldSpec:
    """One field of a command as a document spells it: its name, type in words, and needs."""

    name: str
    type: str
    required: bool
    secret: bool
    default: str | None
    """The default written as JSON would hold it, or None for a required field."""


def command_fields(kind: type) -> tuple[FieldSpec, ...]:
    """The fields a document gives a command of `kind` (see `command_from`), in order.

    Derived from the class itself, so a new command is described with no
    change here.

    Examples:
        >>> from provisioning import VerifyDomain
        >>> command_fields(VerifyDomain)
        (FieldSpec(name='domain_id', type='text', required=True, secret=False, default=None),)
    """
    return _command_fields(kind)


@functools.cache  # once per class: a document of 100,000 commands asks for each
def _command_fields(kind: type) -> tuple[FieldSpec, ...]:
    hints = _hints(kind)
    return tuple(
        FieldSpec(
            name=f.name,
            type=_describe(hints[f.name])
            .replace(" or UNCHANGED", "")
            .replace("nothing (None)", "null"),
            required=f.default is attrs.NOTHING,
            secret=bool(f.metadata.get(SECRET)),
            default=None if f.default is attrs.NOTHING else _default_text(f.default),
        )
        for f in attrs.fields(kind)
    )


def _default_text(default: object) -> str:
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory()  # type: ignore[attr-defined]
    if default is UNCHANGED:
        return "unchanged"
    if isinstance(default, frozenset | tuple | list):
        default = sorted(default)
    if isinstance(default, enum.Enum):
        default = default.value
    try:
        return json.dumps(default, ensure_ascii=False)
    except TypeError:
        return str(default)


def json_schema(kinds: Mapping[str, type], *, filled: Collection[str] = ()) -> dict[str, Any]:
    """A JSON Schema (2020-12) of a document of commands: each of `kinds` by its name.

    A document is a list of commands (or `{"commands": [...]}`); a command is
    an object with its `kind` and the fields `command_fields` lists, typed
    and bounded as the command's annotations declare. Fields named in
    `filled` are never required (the reader of the document fills them in,
    as the command line does an `account_id`). An editor validates a
    document with it as it is written; `command_from` stays the judge.
    """
    definitions = {
        name: _object_schema(kind, kind_name=name, filled=filled) for name, kind in kinds.items()
    }
    command = {"oneOf": [{"$ref": f"#/$defs/{name}"} for name in kinds]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "A document of provisioning commands",
        "anyOf": [
            {"type": "array", "items": command},
            {
                "type": "object",
                "properties": {"commands": {"type": "array", "items": command}},
                "required": ["commands"],
            },
        ],
        "$defs": definitions,
    }


def _object_schema(
    kind: type, *, kind_name: str | None = None, filled: Collection[str] = ()
) -> dict[str, Any]:
    hints = _hints(kind)
    properties: dict[str, Any] = {}
    required: list[str] = []
    if kind_name is not None:
        properties["kind"] = {"const": kind_name}
        required.append("kind")
    for f in attrs.fields(kind):
        properties[f.name] = _value_schema(hints[f.name])
        if f.default is attrs.NOTHING and f.name not in filled:
            required.append(f.name)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    summary = (kind.__doc__ or "").strip().splitlines()
    if summary:
        schema["description"] = summary[0]
    return schema


def _value_schema(kind: Any) -> dict[str, Any]:  # noqa: ANN401, PLR0911 - a type expression
    members = [member for member in _members(kind) if member is not Unchanged]
    if len(members) > 1:
        return {"anyOf": [_value_schema(member) for member in members]}
    base, marks = _annotated(members[0])
    if base is str:
        text = _mark(marks, Text, _PLAIN_TEXT)
        return {"type": "string", "maxLength": text.longest}
    if base is bool:
        return {"type": "boolean"}
    if base is int:
        whole = _mark(marks, Whole, _ANY_WHOLE)
        return {"type": "integer", "minimum": whole.lowest, "maximum": _LARGEST - 1}
    if base is type(None):
        return {"type": "null"}
    if typing.get_origin(base) in (frozenset, tuple):
        return {"type": "array", "items": _value_schema(typing.get_args(base)[0])}
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return {"enum": [member.value for member in base]}
    if isinstance(base, type) and attrs.has(base):
        return _object_schema(base)
    return {}


def command_from(kind: type[_C], data: Mapping[str, Any]) -> _C:
    """Build a command of `kind` from plain data (a JSON document, a spreadsheet row).

    Lists become the sets and tuples the command holds; nested values
    (password policies, mailbox offers, directory entries) are mappings too.
    Raises `ValidationFailed` with every problem, each naming its field path.

    Examples:
        >>> from provisioning import CreateClassOfService
        >>> command_from(CreateClassOfService, {"name": "std", "features": ["imap"]}).features
        frozenset({'imap'})
        >>> try:
        ...     command_from(CreateClassOfService, {"name": "std", "features": "imap"})
        ... except ValidationFailed as failed:
        ...     print(failed.issues[0])
        value.type @ features: expected a list of text
    """
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            issues=[Issue(code="value.type", message="expected a mapping of field names")]
        )
    keys: Iterable[object] = data.keys()  # typed as text; whatever a caller's JSON held
    named = [key for key in keys if not isinstance(key, str)]
    if named:
        raise ValidationFailed(
            issues=[
                Issue(
                    code="value.type",
                    message=f"field names are text, not {type(key).__name__}",
                    field=repr(key)[:60],
                )
                for key in named[:10]
            ]
        )
    try:
        command = _INPUT.structure(dict(data), kind)
    except (ClassValidationError, IterableValidationError, TypeError, ValueError) as error:
        raise ValidationFailed(issues=_issues_of(error, "")) from None
    issues = command_issues(command)
    if issues:
        raise ValidationFailed(issues=issues)
    return command


def field_root(path: str | None) -> str | None:
    """The command field an issue's path starts at: `aliases` for `aliases[1]`."""
    if path is None:
        return None
    return re.split(r"[\[.]", path, maxsplit=1)[0]


def without_forbidden(command: _C, issues: Sequence[Issue]) -> _C | None:
    """`command` without the characters its `text.invalid` issues refused, to check the rest.

    A command whose only problems are such characters can still have every
    other problem found (a spreadsheet row shows them all at once). None when
    any issue is of another kind: a command of the wrong types, or with a
    text too long to be worth reading, is never handed to a handler. None
    too for a command holding a secret: a password or code is checked only
    by a command that may run, so that a refused one never tells whether a
    guess was right without counting as an attempt.
    """
    if any(
        field.metadata.get(SECRET) and getattr(command, field.name) is not None
        for field in getattr(type(command), "__attrs_attrs__", ())
    ):
        return None
    changes: dict[str, object] = {}
    for issue in issues:
        name = field_root(issue.field)
        if issue.code != "text.invalid" or name is None:
            return None
        if name in changes:  # another item of the same list
            continue
        kind: type = type(command)
        text = text_of(_hints(kind).get(name))
        forbidden = _FORBIDDEN_MULTILINE if text is not None and text.multiline else _FORBIDDEN
        value = getattr(command, name)
        if isinstance(value, str):
            changes[name] = forbidden.sub("", value)
        elif isinstance(value, tuple | frozenset) and all(isinstance(v, str) for v in value):
            changes[name] = type(value)(forbidden.sub("", v) for v in value)
        else:
            return None
    return attrs.evolve(command, **changes)  # type: ignore[misc]
