"""Handlers for API clients: create, change, rotate their secret, revoke."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

import attrs

from provisioning.commands import (
    UNCHANGED,
    CreateApiClient,
    RevokeApiClient,
    RotateApiClientSecret,
    UpdateApiClient,
)
from provisioning.errors import Issue, codes
from provisioning.model import ApiClient, valid_name
from provisioning.results import ApiClientIssued
from provisioning.rules._tx import Step, Tx, error, hash_token, requested_id_issues
from provisioning.rules.agents import credentials_refused
from provisioning.rules.clients import load_client, token_of
from provisioning.rules.grants import grant_issues

__all__ = [
    "MAX_VALID_DAYS",
    "create_api_client",
    "revoke_api_client",
    "rotate_api_client_secret",
    "update_api_client",
]

CODES: Final = codes(
    invalid=(
        "client.directory_invalid",
        "client.name_invalid",
        "client.validity_invalid",
    ),
    conflict=("client.name_taken",),
    state=("client.revoked",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

MAX_VALID_DAYS: Final = 3650
"""The longest a client may be made to last (`valid_days`); without it, until revoked."""

_DIRECTORY_LIMIT: Final = 128


def _name_issues(tx: Tx, account_id: str, name: str, own_id: str | None) -> list[Issue]:
    if not valid_name(name):
        return [error("client.name_invalid", f"{name!r} is not a valid client name", field="name")]
    holder = tx.uow.clients.by_name(account_id, name)
    if holder is not None and holder.id != own_id:
        return [
            error("client.name_taken", f"a client called {name!r} exists already", field="name")
        ]
    return []


def _directory(text: str | None, issues: list[Issue]) -> str | None:
    if text is None:
        return None
    name = text.strip()
    if not name or len(name) > _DIRECTORY_LIMIT or not name.isprintable():
        issues.append(
            error(
                "client.directory_invalid",
                f"name the directory service in 1 to {_DIRECTORY_LIMIT} printable characters",
                field="directory_service",
            )
        )
    return name


def _expiry(tx: Tx, valid_days: int | None, issues: list[Issue]) -> datetime | None:
    if valid_days is None:
        return None
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        issues.append(
            error(
                "client.validity_invalid",
                f"a client lasts 1 to {MAX_VALID_DAYS:,} days (leave it out: until revoked)",
                field="valid_days",
            )
        )
        return None
    return tx.now + timedelta(days=valid_days)


def _never_by_agent(tx: Tx, field: str) -> list[Issue]:
    """A support agent never mints a way in that outlives its session."""
    return credentials_refused(tx, "mints or changes an API client", field=field)


def _live(client: ApiClient) -> list[Issue]:
    if client.revoked_at is None:
        return []
    return [error("client.revoked", f"{client.name!r} is revoked for good", field="client_id")]


def create_api_client(tx: Tx, command: CreateApiClient) -> Step[ApiClientIssued]:
    """Create a client holding no more than its creator does; its token, this once."""
    tx.authorize("clients.manage", command.account_id)
    tx.uow.accounts.get(command.account_id)
    name = command.name.strip()
    issues = _never_by_agent(tx, "account_id")
    issues += requested_id_issues(command.client_id, tx.uow.clients.find, field="client_id")
    issues += _name_issues(tx, command.account_id, name, None)
    issues += grant_issues(tx, command.account_id, None, command.role_ids, command.permissions)
    directory = _directory(command.directory_service, issues)
    expires_at = _expiry(tx, command.valid_days, issues)

    def run() -> ApiClientIssued:
        secret = tx.token()
        client = ApiClient(
            id=tx.new_id(command.client_id),
            account_id=command.account_id,
            name=name,
            created_at=tx.now,
            created_by=str(tx.actor),
            secret_hash=hash_token(secret),
            role_ids=command.role_ids,
            permissions=command.permissions,
            directory_service=directory,
            description=command.description,
            expires_at=expires_at,
        )
        tx.uow.clients.add(client)
        tx.record("CreateApiClient", "client", client.id, account_id=client.account_id, detail=name)
        return ApiClientIssued(client=client, token=token_of(client.id, secret))

    return Step.proceed(run, issues)


def update_api_client(tx: Tx, command: UpdateApiClient) -> Step[ApiClient]:
    """Rename a client, change what it holds or when it ends; never a revoked one."""
    client = load_client(tx, command.client_id)
    issues = _never_by_agent(tx, "client_id") + _live(client)
    changes: dict[str, Any] = {}
    if command.name is not UNCHANGED:
        changes["name"] = command.name.strip()
        issues += _name_issues(tx, client.account_id, changes["name"], client.id)
    if command.role_ids is not UNCHANGED or command.permissions is not UNCHANGED:
        role_ids = client.role_ids if command.role_ids is UNCHANGED else command.role_ids
        permissions = (
            client.permissions if command.permissions is UNCHANGED else command.permissions
        )
        issues += grant_issues(tx, client.account_id, None, role_ids, permissions)
        changes.update(role_ids=role_ids, permissions=permissions)
    if command.description is not UNCHANGED:
        changes["description"] = command.description
    if command.valid_days is not UNCHANGED:
        changes["expires_at"] = _expiry(tx, command.valid_days, issues)

    def run() -> ApiClient:
        stored = tx.uow.clients.update(attrs.evolve(client, version=command.version, **changes))
        detail = ", ".join(sorted(changes))
        tx.record(
            "UpdateApiClient", "client", client.id, account_id=client.account_id, detail=detail
        )
        return stored

    return Step.proceed(run, issues)


def rotate_api_client_secret(tx: Tx, command: RotateApiClientSecret) -> Step[ApiClientIssued]:
    """A new token for a live client, this once; the old one stops working."""
    client = load_client(tx, command.client_id)
    issues = _never_by_agent(tx, "client_id") + _live(client)

    def run() -> ApiClientIssued:
        secret = tx.token()
        rotated = attrs.evolve(
            client,
            secret_hash=hash_token(secret),
            rotated_at=tx.now,
            version=client.version if command.version is None else command.version,
        )
        stored = tx.uow.clients.update(rotated)
        tx.record("RotateApiClientSecret", "client", client.id, account_id=client.account_id)
        return ApiClientIssued(client=stored, token=token_of(client.id, secret))

    return Step.proceed(run, issues)


def revoke_api_client(tx: Tx, command: RevokeApiClient) -> Step[ApiClient]:
    """Revoke a client for good; it stays listed, so the audit log still names it."""
    client = load_client(tx, command.client_id)
    issues = _live(client)

    def run() -> ApiClient:
        revoked = attrs.evolve(
            client,
            revoked_at=tx.now,
            version=client.version if command.version is None else command.version,
        )
        stored = tx.uow.clients.update(revoked)
        tx.record("RevokeApiClient", "client", client.id, account_id=client.account_id)
        return stored

    return Step.proceed(run, issues)
