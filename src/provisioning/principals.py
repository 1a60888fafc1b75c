"""Who acts: the platform operator, or a user acting through the grants they hold."""

from __future__ import annotations

import enum
from typing import Self

import attrs

__all__ = ["Actor", "ActorKind"]


class ActorKind(enum.StrEnum):
    """The kinds of principal."""

    PLATFORM = "platform"
    USER = "user"
    ANONYMOUS = "anonymous"


@attrs.frozen
class Actor:
    """The principal a command runs as; recorded in every audit event.

    The platform operator may do anything (it is the party that runs the
    platform, and its actions are audited like anyone's). A user may do what
    the grants they hold in an account allow there, and nothing elsewhere. An
    anonymous actor may only sign in (and, later, register).

    Examples:
        >>> str(Actor.platform()), str(Actor.user("u-1"))
        ('platform:operator', 'user:u-1')
    """

    kind: ActorKind
    id: str

    @classmethod
    def platform(cls, name: str = "operator") -> Self:
        """The platform operator, named for the audit log."""
        return cls(ActorKind.PLATFORM, name)

    @classmethod
    def user(cls, user_id: str) -> Self:
        """A user of the platform, by id."""
        return cls(ActorKind.USER, user_id)

    @classmethod
    def anonymous(cls, label: str = "sign-in") -> Self:
        """Someone not yet known: signing in or registering. Holds no permission."""
        return cls(ActorKind.ANONYMOUS, label)

    @property
    def user_id(self) -> str | None:
        """The id of the user acting, or None for the operator and anonymous actors."""
        return self.id if self.kind is ActorKind.USER else None

    @property
    def is_platform(self) -> bool:
        """Whether this is the platform operator."""
        return self.kind is ActorKind.PLATFORM

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"
