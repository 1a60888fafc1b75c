from __future__ import annotations

import pickle

import pytest

from provisioning import (
    Conflict,
    InvalidValue,
    Issue,
    Location,
    NotFound,
    PermissionDenied,
    ProvisioningError,
    Severity,
    UsageError,
    ValidationFailed,
)
from provisioning.engine import Outcome
from provisioning.errors import NotificationFailed, StoreError

ISSUES = (
    Issue(
        code="email.invalid", message="'x': bad", field="email", location=Location("Users", 7, 3)
    ),
    Issue(code="cos.quota_invalid", message="no", field="quota_mb", command=2),
    Issue(code="security.none", message="hm", severity=Severity.WARNING),
)

ERRORS: list[ProvisioningError] = [
    InvalidValue(code="email.invalid", field="email", value="x", reason="no @"),
    ValidationFailed(issues=ISSUES),
    PermissionDenied(actor="user:u-1", permission="cos.manage", account_id="a-1"),
    NotFound(entity="account", key="a-9"),
    Conflict(code="version.stale", entity="user", key="u-1", expected_version=1, actual_version=2),
    Conflict(code="address.taken", entity="user", key="ann@acme.example"),
    UsageError(code="store.nested_unit_of_work", reason="twice"),
    StoreError(code="store.unavailable", path="/tmp/x.db", reason="database is locked"),
    NotificationFailed(
        outcome=Outcome(results=(), events=(), messages=(), warnings=()), reason="OSError"
    ),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_pickle_with_their_fields(error: ProvisioningError) -> None:
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_every_error_derives_from_the_root(error: ProvisioningError) -> None:
    assert isinstance(error, ProvisioningError)
    assert getattr(error, "code", None)


def test_an_issue_prints_code_place_and_message() -> None:
    assert [str(issue) for issue in ISSUES] == [
        "email.invalid @ Users!C7: 'x': bad",
        "cos.quota_invalid @ command 2 quota_mb: no",
        "warning: security.none: hm",
    ]


def test_validation_failed_lists_every_issue_and_counts_the_blocking_ones() -> None:
    error = ValidationFailed(issues=ISSUES)
    assert error.codes == ["email.invalid", "cos.quota_invalid", "security.none"]
    assert str(error).startswith("2 blocking issue(s):\n  email.invalid @ Users!C7")


@pytest.mark.parametrize(
    ("location", "text"),
    [
        (Location("Users"), "Users"),
        (Location("Users", row=7), "Users!7"),
        (Location("Users", row=7, column=1), "Users!A7"),
        (Location("Users", row=1, column=26), "Users!Z1"),
        (Location("Users", row=1, column=27), "Users!AA1"),
        (Location("Users", row=12, column=703), "Users!AAA12"),
    ],
)
def test_locations_read_like_spreadsheet_cells(location: Location, text: str) -> None:
    assert str(location) == text


def test_conflict_messages_say_what_collided() -> None:
    stale = Conflict(
        code="version.stale", entity="user", key="u-1", expected_version=1, actual_version=3
    )
    assert str(stale) == "version.stale: user u-1 is at version 3, not 1"
    taken = Conflict(code="address.taken", entity="user", key="ann@acme.example")
    assert str(taken) == "address.taken: user value 'ann@acme.example' is already in use"
