"""Commands on a parent's support access to a customer."""

from __future__ import annotations

import attrs

from provisioning.commands._base import Command, _names
from provisioning.model import (
    SupportRelationship,
    SupportSession,
)

__all__ = [
    "ApproveSupportAccess",
    "CloseSupportSession",
    "EndSupportAccess",
    "OpenSupportSession",
    "RequestSupportAccess",
]


@attrs.frozen(kw_only=True)
class RequestSupportAccess(Command[SupportRelationship]):
    """Ask a customer account for support access: the roles the parent's agents may use there.

    The relationship lasts `duration_days` (1 to 730) from its approval by the
    customer's owner (`ApproveSupportAccess`), or from the request when the
    customer gave its standing consent; a pending request is told to each
    owner of the customer (message `support.requested`). Either side may end
    it at any time.
    No role that gives the customer away (`system:owner`, or one holding a
    `support.*` permission) may be asked for.
    """

    parent_id: str
    customer_id: str
    role_ids: frozenset[str] = attrs.field(converter=_names)
    duration_days: int = 30


@attrs.frozen(kw_only=True)
class ApproveSupportAccess(Command[SupportRelationship]):
    """The customer's owner approves a pending request: it is active for its duration from now."""

    relationship_id: str


@attrs.frozen(kw_only=True)
class EndSupportAccess(Command[SupportRelationship]):
    """End a support relationship, from either side; its open sessions end with it."""

    relationship_id: str


@attrs.frozen(kw_only=True)
class OpenSupportSession(Command[SupportSession]):
    """An agent of the parent opens a session in the customer, for `minutes` (1 to 480).

    The agent holds `support.act` in the parent (the `system:support` role);
    the relationship is active. The session ends by the clock, when it is
    closed, or when the relationship ends or expires. Act in it as
    `Actor.support(session.id)`.
    """

    relationship_id: str
    minutes: int = 60
    reason: str = ""


@attrs.frozen(kw_only=True)
class CloseSupportSession(Command[SupportSession]):
    """Close a support session: its agent, the parent's or the customer's managers may."""

    session_id: str
