"""Handlers for classes of service."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

import attrs

from provisioning.commands import (
    UNCHANGED,
    CreateClassOfService,
    DeleteClassOfService,
    UpdateClassOfService,
)
from provisioning.errors import Issue, codes
from provisioning.model import ClassOfService, valid_name
from provisioning.rules._tx import Step, Tx, error, requested_id_issues
from provisioning.rules.classes_of_service import admin_after, admin_panel_default, panel_issues

__all__ = ["create_class_of_service", "delete_class_of_service", "update_class_of_service"]

CODES: Final = codes(
    invalid=(
        "cos.feature_invalid",
        "cos.name_invalid",
        "cos.quota_invalid",
        "cos.system_platform_only",
    ),
    conflict=("cos.name_taken",),
    state=(
        "cos.account_default",
        "cos.in_use",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

_FEATURE: Final = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,63}")


def _quota_issues(quota_mb: object) -> list[Issue]:
    if quota_mb is None:
        return []
    if isinstance(quota_mb, bool) or not isinstance(quota_mb, int) or quota_mb < 0:
        return [
            error(
                "cos.quota_invalid",
                f"quota must be a whole number of megabytes, 0 or more, or none; not {quota_mb!r}",
                field="quota_mb",
            )
        ]
    return []


def _feature_issues(features: Iterable[str]) -> list[Issue]:
    return [
        error(
            "cos.feature_invalid",
            f"feature {feature!r} is not a lower-case name of letters, digits and _.-",
            field="features",
        )
        for feature in sorted(features)
        if not _FEATURE.fullmatch(feature)
    ]


def _name_issues(tx: Tx, command: CreateClassOfService, name: str) -> list[Issue]:
    if not valid_name(name):
        return [
            error(
                "cos.name_invalid",
                f"{name!r} is not a valid class of service name",
                field="name",
            )
        ]
    repo = tx.uow.classes_of_service
    holder = repo.by_name(command.account_id, name)
    if holder is None and command.account_id is not None:
        # An account's class of service may not shadow a platform-wide one.
        holder = repo.by_name(None, name)
    if holder is not None:
        return [
            error(
                "cos.name_taken",
                tx.taken_message("class of service name", name, holder.id),
                field="name",
            )
        ]
    return []


def create_class_of_service(tx: Tx, command: CreateClassOfService) -> Step[ClassOfService]:
    """Define a class of service.

    Needs `cos.manage` in the account; a platform-wide one, the operator only.
    """
    tx.authorize("cos.manage", command.account_id)
    if command.account_id is not None:
        tx.uow.accounts.get(command.account_id)
    name = command.name.strip()
    issues = requested_id_issues(command.cos_id, tx.uow.classes_of_service.find, field="cos_id")
    issues += _name_issues(tx, command, name)
    if command.system and command.account_id is not None:
        issues.append(
            error(
                "cos.system_platform_only",
                "only a platform-wide class of service can be a system one",
                field="system",
            )
        )
    issues += _quota_issues(command.quota_mb)
    issues += _feature_issues(command.features)

    def run() -> ClassOfService:
        cos = ClassOfService(
            id=tx.new_id(command.cos_id),
            name=name,
            account_id=command.account_id,
            description=command.description,
            system=command.system,
            admin_panel=command.admin_panel,
            quota_mb=command.quota_mb,
            features=command.features,
            password_policy=command.password_policy,
        )
        tx.uow.classes_of_service.add(cos)
        tx.record("CreateClassOfService", "cos", cos.id, account_id=cos.account_id)
        return cos

    return Step.proceed(run, issues)


def _panel_issues(tx: Tx, cos: ClassOfService, *, admin_panel: bool) -> list[Issue]:
    """Opening or closing the admin panel of a class of service in use (un)makes administrators.

    That is for those who may assign such a class of service (`panel_issues`).
    An account's admin class of service always opens the panel.
    """
    if admin_panel == cos.admin_panel:
        return []
    if not admin_panel and _account_default(tx, cos) == "admin":
        return [
            error(
                "cos.account_default",
                f"{cos.name!r} is the account's admin class of service: it opens the admin panel",
                field="admin_panel",
            )
        ]
    if admin_panel and _account_default(tx, cos) == "default":
        return admin_panel_default(cos, field="admin_panel", opening=True)
    if cos.account_id is None or not (
        tx.uow.users.using_cos(cos.id) or tx.uow.domains.using_cos(cos.id)
    ):
        return []
    return panel_issues(tx, cos.account_id, f"users hold {cos.name!r}", field="admin_panel")


def _account_default(tx: Tx, cos: ClassOfService) -> str | None:
    """Which of its account's own two classes of service `cos` is: "default", "admin" or None."""
    if cos.account_id is None:
        return None
    account = tx.uow.accounts.find(cos.account_id)
    if account is None:
        return None
    if account.default_cos_id == cos.id:
        return "default"
    if account.admin_cos_id == cos.id:
        return "admin"
    return None


def _sync_admins(tx: Tx, cos: ClassOfService) -> None:
    """After a class of service's panel changed: its holders are administrators, or not."""
    for user in tx.uow.users.using_cos(cos.id):
        admin = admin_after(user, cos)
        if admin != user.admin:
            tx.uow.users.update(attrs.evolve(user, admin=admin, updated_at=tx.now))
            tx.record(
                "UpdateClassOfService",
                "user",
                user.id,
                account_id=user.account_id,
                detail=f"{'became' if admin else 'is no longer'} an administrator ({cos.name})",
            )


def update_class_of_service(tx: Tx, command: UpdateClassOfService) -> Step[ClassOfService]:
    """Change a class of service's description, panel access, quota or features."""
    cos = tx.known("cos", command.cos_id, tx.uow.classes_of_service.find(command.cos_id))
    tx.authorize("cos.manage", cos.account_id)
    changes: dict[str, Any] = {}
    issues: list[Issue] = []
    if command.description is not UNCHANGED:
        changes["description"] = command.description
    if command.admin_panel is not UNCHANGED:
        issues += _panel_issues(tx, cos, admin_panel=command.admin_panel)
        changes["admin_panel"] = command.admin_panel
    if command.quota_mb is not UNCHANGED:
        issues += _quota_issues(command.quota_mb)
        changes["quota_mb"] = command.quota_mb
    if command.features is not UNCHANGED:
        features = frozenset(command.features)
        issues += _feature_issues(features)
        changes["features"] = features
    if command.password_policy is not UNCHANGED:
        changes["password_policy"] = command.password_policy

    def run() -> ClassOfService:
        updated = tx.uow.classes_of_service.update(
            attrs.evolve(cos, version=command.version, **changes)
        )
        tx.record(
            "UpdateClassOfService",
            "cos",
            cos.id,
            account_id=cos.account_id,
            detail=", ".join(sorted(changes)),
        )
        if updated.admin_panel != cos.admin_panel:
            _sync_admins(tx, updated)
        return updated

    return Step.proceed(run, issues)


def delete_class_of_service(tx: Tx, command: DeleteClassOfService) -> Step[None]:
    """Delete a class of service no user, no domain default and no account default refers to."""
    cos = tx.known("cos", command.cos_id, tx.uow.classes_of_service.find(command.cos_id))
    tx.authorize("cos.manage", cos.account_id)
    issues: list[Issue] = []
    role = _account_default(tx, cos)
    if role is not None:
        issues.append(
            error(
                "cos.account_default",
                f"{cos.name!r} is the account's {role} class of service: it goes with the account"
                if role == "admin"
                else f"{cos.name!r} is the account's default class of service: make another"
                " one the default first",
                field="cos_id",
            )
        )
    users = tx.uow.users.using_cos(cos.id)
    domains = tx.uow.domains.using_cos(cos.id)
    if users or domains:
        issues.append(
            error(
                "cos.in_use",
                f"class of service {cos.name!r} is used by {len(users)} user(s)"
                f" and is the default of {len(domains)} domain(s)",
                field="cos_id",
            )
        )

    def run() -> None:
        tx.uow.classes_of_service.remove(cos.id, version=command.version)
        tx.record("DeleteClassOfService", "cos", cos.id, account_id=cos.account_id)

    return Step.proceed(run, issues)
