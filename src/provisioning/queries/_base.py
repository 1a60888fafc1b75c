"""What every query shares: the argument checks, the access checks, and the one `Page`.

Queries read repositories directly and never write; each runs in its own
read-only snapshot, which neither waits for a writer nor holds one up. Every
argument is checked against its annotation first (`UsageError`
`query.argument_invalid`), and paging arguments against their bounds
(`query.page_invalid`: an offset from 0, a limit from 1 to `MAX_PAGE`).
"""

from __future__ import annotations

import base64
import functools
import inspect
import json
from collections.abc import Callable, Iterator, Sequence
from html import escape
from typing import Any, Final, Generic, TypeVar, overload

import attrs

from provisioning.engine._input import argument_checker
from provisioning.errors import (
    InternalError,
    NotFound,
    PermissionDenied,
    ProvisioningError,
    UsageError,
    codes,
)
from provisioning.model import User
from provisioning.ports import UnitOfWork
from provisioning.principals import Actor
from provisioning.rules.access import authorize, known, member_of, permissions_of

__all__ = [
    "MAX_PAGE",
    "PAGE",
    "Page",
    "argument_invalid",
    "check_page",
    "cursor_invalid",
    "every",
    "known_account",
    "listing",
    "member",
    "page_of",
    "phones_of",
    "query",
    "read_page",
    "readable_user",
    "reading",
]

CODES: Final = codes(
    invalid=(
        "query.argument_invalid",
        "query.cursor_invalid",
        "query.page_invalid",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

MAX_PAGE: Final = 10_000
"""The largest `limit` a paged query takes."""

PAGE: Final = 50
"""The `limit` of a paged query that is given none."""

_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")


@attrs.frozen
class Page(Sequence[_T], Generic[_T]):
    """One page of a list: its items, how many the list holds in all, and where the next starts.

    Every list that can grow is read a page at a time. A page is a sequence
    of its items (`len`, iteration, indexing); `total` counts the whole
    list, and `next_cursor`, passed as `after` to the same query, reads the
    next page (None on the last one). `every` reads them all.
    """

    items: tuple[_T, ...]
    total: int
    offset: int
    limit: int
    next_cursor: str | None = None
    """Pass as `after` for the next page; None on the last page."""

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[_T]:
        return iter(self.items)

    @overload
    def __getitem__(self, index: int) -> _T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[_T]: ...

    def __getitem__(self, index: int | slice) -> _T | Sequence[_T]:
        return self.items[index]

    def _repr_html_(self) -> str:
        """The page as an HTML table, for notebooks: one row per item, one column per field."""
        if not self.items:
            return f"<p>none of {self.total:,}</p>"
        first = self.items[0]
        kind: Any = type(first)
        names = [f.name for f in attrs.fields(kind)] if attrs.has(kind) else []
        shown = [name for name in names if not name.startswith("_")][:8]

        def cells(item: object) -> str:
            values = [getattr(item, name) for name in shown] if shown else [item]
            return "".join(f"<td>{escape(_text(value))}</td>" for value in values)

        head = "".join(f"<th>{escape(name)}</th>" for name in shown or ["item"])
        rows = "".join(f"<tr>{cells(item)}</tr>" for item in self.items)
        last = self.offset + len(self.items)
        return (
            f"<p>{self.offset + 1:,} to {last:,} of {self.total:,}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        )


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    if isinstance(value, frozenset | tuple):
        return ", ".join(sorted(map(str, value)))
    return str(value)


def check_page(offset: int, limit: int) -> None:
    """`query.page_invalid` unless `offset` is 0 or more and `limit` from 1 to `MAX_PAGE`."""
    if not 0 <= offset < 2**53 or not 1 <= limit <= MAX_PAGE:
        raise UsageError(
            code="query.page_invalid",
            reason=f"offset must be 0 or more and limit from 1 to {MAX_PAGE}",
        )


def argument_invalid(reason: str) -> UsageError:
    """`query.argument_invalid`: an argument the query cannot take, and why."""
    return UsageError(code="query.argument_invalid", reason=reason)


def cursor_invalid() -> UsageError:
    """`query.cursor_invalid`: the `after` given is no cursor this query made."""
    return UsageError(code="query.cursor_invalid", reason="not a cursor of this query")


def _offset_cursor(offset: int) -> str:
    raw = json.dumps({"offset": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset_of(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        offset = json.loads(raw)["offset"]
    except (ValueError, TypeError, KeyError) as exc:
        raise cursor_invalid() from exc
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < 2**53:
        raise cursor_invalid()
    return offset


def page_of(items: Sequence[_T], offset: int, limit: int, after: str | None = None) -> Page[_T]:
    """One page of a whole, sorted list (`after`, a previous page's cursor, wins over `offset`)."""
    return read_page(
        offset, limit, after, lambda start, count: (items[start : start + count], len(items))
    )


def read_page(
    offset: int,
    limit: int,
    after: str | None,
    read: Callable[[int, int], tuple[Sequence[_T], int]],
) -> Page[_T]:
    """One page of a list wherever it is: `read(start, count)` gives its items and the total.

    The bounds and the cursor are checked before `read` runs; a store that
    pages itself reads just the page (`after` wins over `offset`).
    """
    check_page(offset, limit)
    start = offset if after is None else _offset_of(after)
    found, total = read(start, limit)
    shown = tuple(found)
    more = bool(shown) and start + len(shown) < total
    return Page(
        items=shown,
        total=total,
        offset=start,
        limit=limit,
        next_cursor=_offset_cursor(start + len(shown)) if more else None,
    )


def every(read: Callable[[str | None], Page[_T]]) -> list[_T]:
    """Every item of a paged list, a page at a time: `read(after)` reads the page after a cursor.

    Examples:
        >>> from provisioning import Actor, Context, CreateAccount, queries, run
        >>> ctx = Context.in_memory()
        >>> for name in ("Acme", "Globex", "Initech"):
        ...     _ = run(ctx, Actor.platform(), CreateAccount(name=name))
        >>> found = queries.every(
        ...     lambda after: queries.accounts(ctx, Actor.platform(), limit=2, after=after)
        ... )
        >>> [account.name for account in found]
        ['Acme', 'Globex', 'Initech']
    """
    found: list[_T] = []
    after: str | None = None
    while True:
        page = read(after)
        found += page.items
        if page.next_cursor is None:
            return found
        after = page.next_cursor


def query(function: _F) -> _F:
    """Check a query's arguments and type whatever fails unexpectedly inside it."""
    signature = inspect.signature(function)
    check = argument_checker(function)

    @functools.wraps(function)
    def query(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - the query's own result
        bound = signature.bind(*args, **kwargs)
        actor, ctx = bound.arguments.get("actor"), bound.arguments.get("ctx")
        if isinstance(actor, Actor) and actor.timed and ctx is not None:
            bound.arguments["actor"] = actor.checked_at(ctx.clock.now())  # they end by the clock
            args, kwargs = bound.args, bound.kwargs
        values = {k: v for k, v in bound.arguments.items() if k not in {"ctx", "actor"}}
        issues = check(values)
        if issues:
            raise argument_invalid("; ".join(str(i) for i in issues))
        try:
            return function(*args, **kwargs)
        except ProvisioningError:
            raise
        except Exception as exc:
            raise InternalError(where=function.__name__, cause=exc) from exc

    return query  # type: ignore[return-value]


def member(uow: UnitOfWork, actor: Actor, account_id: str) -> None:
    if not permissions_of(uow, actor, account_id):
        raise PermissionDenied(actor=str(actor), permission="(any)", account_id=account_id)


def known_account(uow: UnitOfWork, actor: Actor, account_id: str) -> None:
    """`NotFound` unless the actor belongs to the account: to outsiders, no such account."""
    if not member_of(uow, actor, account_id):
        raise NotFound(entity="account", key=account_id)


def readable_user(uow: UnitOfWork, actor: Actor, user_id: str) -> User:
    """The user, for whoever may read its account's users; to outsiders, no such user."""
    user = known(uow, actor, "user", user_id, uow.users.find(user_id))
    if user.account_id is not None:
        authorize(uow, actor, "users.read", user.account_id)
    return user


def phones_of(uow: UnitOfWork, actor: Actor, account_id: str) -> None:
    """Reading an account's phone inventories: for holders of `phones.manage` in it."""
    authorize(uow, actor, "phones.manage", account_id)
    uow.accounts.get(account_id)


def listing(uow: UnitOfWork, actor: Actor, account_id: str, permission: str) -> None:
    """Listing what an account holds: for holders of `permission`; to outsiders, no account."""
    known_account(uow, actor, account_id)
    authorize(uow, actor, permission, account_id)


def reading(uow: UnitOfWork, actor: Actor, account_id: str) -> None:
    """Reading what an account holds: members of it only; to anyone else it does not exist."""
    known_account(uow, actor, account_id)
    member(uow, actor, account_id)
    uow.accounts.get(account_id)
