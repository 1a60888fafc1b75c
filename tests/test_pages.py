"""Every list that can grow comes a `Page` at a time: one type, one way to walk it.

The move that would break it: a caller walking a list by its cursor who
gets an item twice or misses one, a cursor from another query or forged by
hand, a limit of zero or of a million, a list that was whole yesterday and
is silently cut at 50 today (the library's own callers read it all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import OPERATOR
from provisioning import (
    Actor,
    AddDomain,
    Context,
    CreateAccount,
    CreateClassOfService,
    CreateRole,
    UsageError,
    queries,
    run,
)
from provisioning.queries import Page

MANY = 7


@pytest.fixture
def crowded() -> Context:
    """An operator's store with several of each list: accounts, domains, classes, roles."""
    ctx = Context.in_memory()
    for n in range(MANY):
        run(ctx, OPERATOR, CreateAccount(name=f"Tenant {n}", account_id=f"t{n}"))
        _domain(ctx, n)
        run(ctx, OPERATOR, CreateClassOfService(account_id="t0", name=f"class {n}"))
        run(
            ctx, OPERATOR, CreateRole(account_id="t0", name=f"role {n}", permissions={"users.read"})
        )
    return ctx


def _domain(ctx: Context, n: int) -> None:
    run(
        ctx,
        OPERATOR,
        AddDomain(
            account_id="t0",
            name=f"d{n}.example",
            admin_email="it@holding.example",
            require_2fa=True,
        ),
    )


LISTS: dict[str, Callable[..., Page[Any]]] = {
    "accounts": lambda ctx, **paging: queries.accounts(ctx, OPERATOR, **paging),
    "domains": lambda ctx, **paging: queries.domains(ctx, OPERATOR, "t0", **paging),
    "classes_of_service": lambda ctx, **paging: queries.classes_of_service(
        ctx, OPERATOR, "t0", **paging
    ),
    "roles": lambda ctx, **paging: queries.roles(ctx, OPERATOR, "t0", **paging),
    "audit_log": lambda ctx, **paging: queries.audit_log(ctx, OPERATOR, "t0", **paging),
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_list_walked_by_its_cursor_gives_each_item_once_in_order(
    crowded: Context, name: str
) -> None:
    read = LISTS[name]
    whole = read(crowded, limit=queries.MAX_PAGE)
    assert whole.next_cursor is None
    assert whole.total == len(whole) >= MANY
    walked = []
    page = read(crowded, limit=3)
    while True:
        assert isinstance(page, Page)
        assert page.total == whole.total
        assert len(page) <= 3
        walked += list(page)
        if page.next_cursor is None:
            break
        page = read(crowded, limit=3, after=page.next_cursor)
    assert walked == list(whole.items)
    assert queries.every(lambda after: read(crowded, limit=2, after=after)) == walked


def test_a_page_is_a_sequence_of_its_items(crowded: Context) -> None:
    page = queries.domains(crowded, OPERATOR, "t0", limit=3)
    assert len(page) == 3
    assert page[0].name.ascii == "d0.example"
    assert [d.name.ascii for d in page[1:]] == ["d1.example", "d2.example"]
    assert page.offset == 0
    assert page.total == MANY


def test_a_list_is_paged_by_default_and_its_total_says_how_much_is_left(
    crowded: Context,
) -> None:
    for n in range(MANY, queries.PAGE + 3):
        _domain(crowded, n)
    first = queries.domains(crowded, OPERATOR, "t0")
    assert len(first) == queries.PAGE
    assert first.total == queries.PAGE + 3
    assert first.next_cursor is not None
    rest = queries.domains(crowded, OPERATOR, "t0", after=first.next_cursor)
    assert len(rest) == 3
    assert rest.next_cursor is None


@pytest.mark.parametrize(
    "cursor",
    ["nonsense", "", "eyJvZmZzZXQiOiAtMX0", "eyJvZmZzZXQiOiB0cnVlfQ", "WyJhIiwgImIiXQ"],
)
def test_a_cursor_no_query_made_is_refused(crowded: Context, cursor: str) -> None:
    """Garbage, a negative offset, `true`, and a users-list cursor: none is read as a place."""
    with pytest.raises(UsageError) as raised:
        queries.domains(crowded, OPERATOR, "t0", after=cursor)
    assert raised.value.code == "query.cursor_invalid"


@pytest.mark.parametrize("paging", [{"limit": 0}, {"limit": 10_001}, {"offset": -1}])
def test_a_page_out_of_bounds_is_refused(crowded: Context, paging: dict[str, Any]) -> None:
    with pytest.raises(UsageError) as raised:
        queries.roles(crowded, OPERATOR, "t0", **paging)
    assert raised.value.code == "query.page_invalid"


def test_a_page_says_nothing_of_what_another_tenant_holds(crowded: Context) -> None:
    """An outsider's page of the account's domains is refused, not empty with a total."""
    run(crowded, OPERATOR, CreateAccount(name="Stranger", account_id="stranger"))
    with pytest.raises(Exception) as raised:  # noqa: PT011 - whichever error, never a page
        queries.domains(crowded, Actor.user("nobody-of-t0"), "t0", limit=1)
    assert not isinstance(raised.value, AssertionError)
    assert "d0.example" not in str(raised.value)
