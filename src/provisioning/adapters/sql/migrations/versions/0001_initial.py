"""The first schema: one table per aggregate, the address namespace, the change counter.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table, then the store's change counter."""
    op.create_table(
        "accounts",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parent_id", sa.Text(), nullable=True),
        sa.Column(
            "personal_mailbox_on_create",
            sa.Boolean(create_constraint=True, name="personal_mailbox_on_create"),
            nullable=False,
        ),
        sa.Column("domain_policy_allowed_tlds", sa.JSON(), nullable=False),
        sa.Column("domain_policy_max_domains", sa.BigInteger(), nullable=True),
        sa.Column("password_policy_min_length", sa.BigInteger(), nullable=False),
        sa.Column("password_policy_max_length", sa.BigInteger(), nullable=False),
        sa.Column(
            "password_policy_forbid_username",
            sa.Boolean(create_constraint=True, name="password_policy_forbid_username"),
            nullable=False,
        ),
        sa.Column(
            "password_policy_forbid_common",
            sa.Boolean(create_constraint=True, name="password_policy_forbid_common"),
            nullable=False,
        ),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["accounts.id"],
            name=op.f("fk_accounts_parent_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("name_key", name=op.f("uq_accounts_name_key")),
    )
    op.create_index(op.f("ix_accounts_parent_id"), "accounts", ["parent_id"], unique=False)
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_events_seq")),
    )
    op.create_index(
        op.f("ix_audit_events_account_id_occurred_at"),
        "audit_events",
        ["account_id", "occurred_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_audit_events_account_id_seq"), "audit_events", ["account_id", "seq"], unique=False
    )
    op.create_index(
        op.f("ix_audit_events_entity_id_seq"), "audit_events", ["entity_id", "seq"], unique=False
    )
    op.create_table(
        "provisioning_meta",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_provisioning_meta")),
    )
    op.create_table(
        "classes_of_service",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("system", sa.Boolean(create_constraint=True, name="system"), nullable=False),
        sa.Column(
            "admin_panel", sa.Boolean(create_constraint=True, name="admin_panel"), nullable=False
        ),
        sa.Column("quota_mb", sa.BigInteger(), nullable=True),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("password_policy_min_length", sa.BigInteger(), nullable=True),
        sa.Column("password_policy_max_length", sa.BigInteger(), nullable=True),
        sa.Column(
            "password_policy_forbid_username",
            sa.Boolean(create_constraint=True, name="password_policy_forbid_username"),
            nullable=True,
        ),
        sa.Column(
            "password_policy_forbid_common",
            sa.Boolean(create_constraint=True, name="password_policy_forbid_common"),
            nullable=True,
        ),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_classes_of_service_account_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classes_of_service")),
        sa.UniqueConstraint("name_key", name=op.f("uq_classes_of_service_name_key")),
    )
    op.create_index(
        op.f("ix_classes_of_service_account_id"), "classes_of_service", ["account_id"], unique=False
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("inviter_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "accepted",
                "declined",
                "revoked",
                "expired",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("role_ids", sa.JSON(), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("mailboxes", sa.JSON(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("email_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_invitations_account_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index(op.f("ix_invitations_account_id"), "invitations", ["account_id"], unique=False)
    op.create_index(op.f("ix_invitations_email_key"), "invitations", ["email_key"], unique=False)
    op.create_table(
        "roles",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "scope",
            sa.Enum(
                "account",
                "mailbox",
                name="scope",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_roles_account_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name_key", name=op.f("uq_roles_name_key")),
    )
    op.create_index(op.f("ix_roles_account_id"), "roles", ["account_id"], unique=False)
    op.create_table(
        "domains",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verification_token", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "verified",
                "active",
                "inactive",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("primary_domain", sa.Text(), nullable=True),
        sa.Column(
            "require_2fa", sa.Boolean(create_constraint=True, name="require_2fa"), nullable=False
        ),
        sa.Column(
            "captcha_on_login",
            sa.Boolean(create_constraint=True, name="captcha_on_login"),
            nullable=False,
        ),
        sa.Column("default_cos_id", sa.Text(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("name_ascii", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_domains_account_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.ForeignKeyConstraint(
            ["default_cos_id"],
            ["classes_of_service.id"],
            name=op.f("fk_domains_default_cos_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domains")),
        sa.UniqueConstraint("name_ascii", name=op.f("uq_domains_name_ascii")),
    )
    op.create_index(op.f("ix_domains_account_id"), "domains", ["account_id"], unique=False)
    op.create_index(op.f("ix_domains_default_cos_id"), "domains", ["default_cos_id"], unique=False)
    op.create_table(
        "users",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=True),
        sa.Column("domain_id", sa.Text(), nullable=True),
        sa.Column("cos_id", sa.Text(), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "manual",
                "directory",
                name="source",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("directory_service", sa.Text(), nullable=True),
        sa.Column("profile_first_name", sa.Text(), nullable=False),
        sa.Column("profile_last_name", sa.Text(), nullable=False),
        sa.Column("profile_display_name", sa.Text(), nullable=False),
        sa.Column(
            "profile_display_name_manual",
            sa.Boolean(create_constraint=True, name="profile_display_name_manual"),
            nullable=False,
        ),
        sa.Column("profile_alternate_email", sa.Text(), nullable=True),
        sa.Column("profile_mobile", sa.Text(), nullable=True),
        sa.Column("profile_timezone", sa.Text(), nullable=True),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "disabled",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "corporate", sa.Boolean(create_constraint=True, name="corporate"), nullable=False
        ),
        sa.Column("admin", sa.Boolean(create_constraint=True, name="admin"), nullable=False),
        sa.Column(
            "super_admin", sa.Boolean(create_constraint=True, name="super_admin"), nullable=False
        ),
        sa.Column("primary_email", sa.Text(), nullable=True),
        sa.Column("credentials_password_hash", sa.Text(), nullable=True),
        sa.Column(
            "credentials_must_change",
            sa.Boolean(create_constraint=True, name="credentials_must_change"),
            nullable=False,
        ),
        sa.Column("credentials_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "mfa_required", sa.Boolean(create_constraint=True, name="mfa_required"), nullable=False
        ),
        sa.Column(
            "mfa_status",
            sa.Enum(
                "none",
                "pending",
                "active",
                name="mfa_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("mfa_secret", sa.Text(), nullable=True),
        sa.Column("mfa_last_step", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("username_domain", sa.Text(), nullable=False),
        sa.Column("username_key", sa.Text(), nullable=False),
        sa.Column("username_text", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("directory", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_users_account_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.ForeignKeyConstraint(
            ["cos_id"],
            ["classes_of_service.id"],
            name=op.f("fk_users_cos_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_users_domain_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(
        op.f("ix_users_account_id_username_key"),
        "users",
        ["account_id", "username_key"],
        unique=False,
    )
    op.create_index(op.f("ix_users_cos_id"), "users", ["cos_id"], unique=False)
    op.create_index(
        op.f("ix_users_domain_id_username_key"),
        "users",
        ["domain_id", "username_key"],
        unique=False,
    )
    op.create_index(op.f("ix_users_username_domain"), "users", ["username_domain"], unique=False)
    op.create_index("ix_users_id_folded", "users", [sa.text("lower(id)")], unique=False)
    op.create_table(
        "addresses",
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("username", "alias", name="kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("domain", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_addresses_user_id"),
            ondelete="CASCADE",
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_addresses")),
    )
    op.create_index(op.f("ix_addresses_domain_kind"), "addresses", ["domain", "kind"], unique=False)
    op.create_index(op.f("ix_addresses_user_id"), "addresses", ["user_id"], unique=False)
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "shared",
                "personal",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Text(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("address_key", sa.Text(), nullable=False),
        sa.Column("address_domain", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_mailboxes_account_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_mailboxes_owner_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailboxes")),
        sa.UniqueConstraint("address_key", name=op.f("uq_mailboxes_address_key")),
    )
    op.create_index(op.f("ix_mailboxes_account_id"), "mailboxes", ["account_id"], unique=False)
    op.create_index(
        op.f("ix_mailboxes_address_domain"), "mailboxes", ["address_domain"], unique=False
    )
    op.create_index(op.f("ix_mailboxes_owner_id"), "mailboxes", ["owner_id"], unique=False)
    op.create_table(
        "grants",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("mailbox_id", sa.Text(), nullable=True),
        sa.Column("role_ids", sa.JSON(), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("scope_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_grants_account_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailboxes.id"],
            name=op.f("fk_grants_mailbox_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_grants_user_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
        sa.UniqueConstraint("scope_key", name=op.f("uq_grants_scope_key")),
    )
    op.create_index(op.f("ix_grants_account_id"), "grants", ["account_id"], unique=False)
    op.create_index(op.f("ix_grants_mailbox_id"), "grants", ["mailbox_id"], unique=False)
    op.create_index(op.f("ix_grants_user_id"), "grants", ["user_id"], unique=False)
    op.bulk_insert(
        sa.table(
            "provisioning_meta", sa.column("key", sa.Text()), sa.column("value", sa.BigInteger())
        ),
        [{"key": "changes", "value": 0}],
    )


def downgrade() -> None:
    """Drop every table."""
    op.drop_index(op.f("ix_grants_user_id"), table_name="grants")
    op.drop_index(op.f("ix_grants_mailbox_id"), table_name="grants")
    op.drop_index(op.f("ix_grants_account_id"), table_name="grants")
    op.drop_table("grants")
    op.drop_index(op.f("ix_mailboxes_owner_id"), table_name="mailboxes")
    op.drop_index(op.f("ix_mailboxes_address_domain"), table_name="mailboxes")
    op.drop_index(op.f("ix_mailboxes_account_id"), table_name="mailboxes")
    op.drop_table("mailboxes")
    op.drop_index(op.f("ix_addresses_user_id"), table_name="addresses")
    op.drop_index(op.f("ix_addresses_domain_kind"), table_name="addresses")
    op.drop_table("addresses")
    op.drop_index("ix_users_id_folded", table_name="users")
    op.drop_index(op.f("ix_users_username_domain"), table_name="users")
    op.drop_index(op.f("ix_users_domain_id_username_key"), table_name="users")
    op.drop_index(op.f("ix_users_cos_id"), table_name="users")
    op.drop_index(op.f("ix_users_account_id_username_key"), table_name="users")
    op.drop_table("users")
    op.drop_index(op.f("ix_domains_default_cos_id"), table_name="domains")
    op.drop_index(op.f("ix_domains_account_id"), table_name="domains")
    op.drop_table("domains")
    op.drop_index(op.f("ix_roles_account_id"), table_name="roles")
    op.drop_table("roles")
    op.drop_index(op.f("ix_invitations_email_key"), table_name="invitations")
    op.drop_index(op.f("ix_invitations_account_id"), table_name="invitations")
    op.drop_table("invitations")
    op.drop_index(op.f("ix_classes_of_service_account_id"), table_name="classes_of_service")
    op.drop_table("classes_of_service")
    op.drop_table("provisioning_meta")
    op.drop_index(op.f("ix_audit_events_entity_id_seq"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_account_id_seq"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_account_id_occurred_at"), table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index(op.f("ix_accounts_parent_id"), table_name="accounts")
    op.drop_table("accounts")
