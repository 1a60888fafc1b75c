"""Who acts: the operator, a user through its grants, an API client, or a support agent."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Self

import attrs

__all__ = ["Actor", "ActorKind"]


class ActorKind(enum.StrEnum):
    """The kinds of principal."""

    PLATFORM = "platform"
    USER = "user"
    CLIENT = "client"
    SUPPORT = "support"
    ANONYMOUS = "anonymous"


@attrs.frozen
class Actor:
    """The principal a command runs as; recorded in every audit event.

    The platform operator may do anything (it is the party that runs the
    platform, and its actions are audited like anyone's). A user may do what
    the grants they hold in an account allow there, and nothing elsewhere. A
    support actor is an agent of a parent account acting in a customer
    through one support session: it may do what the session's relationship
    allows in that customer while both are open, and nothing anywhere else.
    An API client is a machine of one account (an identity provider's
    connection, a script): it may do what its roles allow in that account
    while it is neither revoked nor expired, and nothing elsewhere; it is
    authenticated by its token (`provisioning.queries.authenticate_client`).
    An anonymous actor may only sign in (and, later, register).

    Examples:
        >>> str(Actor.platform()), str(Actor.user("u-1")), str(Actor.support("s-1"))
        ('platform:operator', 'user:u-1', 'support:s-1')
        >>> str(Actor.client("c-1"))
        'client:c-1'
    """

    kind: ActorKind
    id: str
    at: datetime | None = attrs.field(default=None, eq=False, repr=False)
    """For a support actor or an API client, the instant it is checked at (see `checked_at`)."""

    @classmethod
    def platform(cls, name: str = "operator") -> Self:
        """The platform operator, named for the audit log."""
        return cls(ActorKind.PLATFORM, name)

    @classmethod
    def user(cls, user_id: str) -> Self:
        """A user of the platform, by id."""
        return cls(ActorKind.USER, user_id)

    @classmethod
    def client(cls, client_id: str) -> Self:
        """An API client of an account, by id (see `provisioning.model.ApiClient`)."""
        return cls(ActorKind.CLIENT, client_id)

    @classmethod
    def support(cls, session_id: str) -> Self:
        """An agent acting in a customer account through the support session `session_id`."""
        return cls(ActorKind.SUPPORT, session_id)

    @classmethod
    def anonymous(cls, label: str = "sign-in") -> Self:
        """Someone not yet known: signing in or registering. Holds no permission."""
        return cls(ActorKind.ANONYMOUS, label)

    @property
    def user_id(self) -> str | None:
        """The id of the user acting, or None for the operator and anonymous actors."""
        return self.id if self.kind is ActorKind.USER else None

    @property
    def client_id(self) -> str | None:
        """The id of the API client acting, or None for the other kinds."""
        return self.id if self.kind is ActorKind.CLIENT else None

    @property
    def session_id(self) -> str | None:
        """The support session a support actor acts through, or None for the others."""
        return self.id if self.kind is ActorKind.SUPPORT else None

    def checked_at(self, now: datetime) -> Self:
        """The actor as checked at `now`: a support session and an API client expire.

        The workflow and the queries stamp every actor with their clock's
        reading before checking it; a support actor or an API client that
        was never stamped holds nothing. Other actors are returned as they are.
        """
        return attrs.evolve(self, at=now) if self.timed else self

    @property
    def timed(self) -> bool:
        """Whether what the actor holds depends on the clock (a support session, an API client)."""
        return self.kind in (ActorKind.SUPPORT, ActorKind.CLIENT)

    @property
    def is_platform(self) -> bool:
        """Whether this is the platform operator."""
        return self.kind is ActorKind.PLATFORM

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"
