"""What every handler works with: the batch transaction `Tx` and the `Step` it returns.

A handler is one function per command: `handler(tx, command) -> Step`. It
checks permission (raising `PermissionDenied`), reads what it needs, and
returns either the issues that stop the command or a `Step` whose `run`
closure performs the change. Reading happens before `run`; only `run` writes.
The workflow calls `run` inside a savepoint, so a failing step leaves nothing
behind.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import re
import secrets
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Final, Generic, TypeVar, cast

import attrs

from provisioning.errors import (
    InternalError,
    InvalidValue,
    Issue,
    NotFound,
    PermissionDenied,
    ProvisioningError,
    TargetOutranks,
    codes,
)
from provisioning.model import (
    PERMISSIONS,
    SECRET,
    AuditEvent,
    Counted,
    Credentials,
    DomainName,
    User,
)
from provisioning.ports import (
    DnsResolver,
    IdSource,
    Message,
    PasswordHasher,
    TokenSource,
)
from provisioning.principals import Actor
from provisioning.rules._issues import error, warning
from provisioning.rules.access import (
    NO_ACCOUNT,
    Owned,
    active_client,
    held_by,
    known,
    member_of,
    permissions_of,
)
from provisioning.storage import TABLES, Overlay

__all__ = [
    "SETUP_LINK_VALIDITY",
    "Effects",
    "SetupLink",
    "Step",
    "Tx",
    "error",
    "hash_token",
    "parse_into",
    "requested_id_issues",
    "valid_id",
    "warning",
]

CODES: Final = codes(
    invalid=("id.invalid",),
    conflict=("id.taken",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

_R = TypeVar("_R")

_Owned = TypeVar("_Owned", bound=Owned)
_V = TypeVar("_V")
_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")


def valid_id(text: str) -> bool:
    """Whether `text` is an id a command may ask for: 1 to 64 letters, digits and `_.:-`."""
    return bool(_ID.fullmatch(text))


def hash_token(token: str) -> str:
    """The stored form of a one-time token (tokens are long and random, so SHA-256 suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


SETUP_LINK_VALIDITY: Final = timedelta(hours=72)
"""How long the set-password link of a user created without a password works."""


def requested_id_issues(
    requested: str | None, find: Callable[[str], object | None], *, field: str
) -> list[Issue]:
    """Issues with the id a create command asks for (None: the `IdSource` picks one).

    `find` is the repository look-up that says whether the id is in use.
    """
    if requested is None:
        return []
    if not valid_id(requested):
        return [
            error(
                "id.invalid",
                f"{requested!r} is not a usable id: 1 to 64 letters, digits and _.:-",
                field=field,
            )
        ]
    if find(requested) is not None:
        return [error("id.taken", f"id {requested!r} is already in use", field=field)]
    return []


def parse_into(
    parse: Callable[..., _V], text: str | None, field: str, issues: list[Issue]
) -> _V | None:
    """`parse(text, field=field)`, or None with its issue added to `issues` (None stays None)."""
    if text is None:
        return None
    try:
        return parse(text, field=field)
    except InvalidValue as invalid:
        issues.append(invalid.issue())
        return None


@attrs.frozen
class Step(Generic[_R]):
    """A validated command: its issues, and (when none blocks) the change to make."""

    issues: tuple[Issue, ...] = ()
    run: Callable[[], _R] | None = None
    record: Callable[[], None] | None = None

    @classmethod
    def refuse(cls, issues: Iterable[Issue]) -> Step[Any]:
        """A step that changes nothing because of `issues`."""
        return Step(issues=tuple(issues))

    @classmethod
    def refuse_recording(cls, issues: Iterable[Issue], record: Callable[[], None]) -> Step[Any]:
        """A refusal that still leaves a trace: `record` counts and audits it.

        A failed sign-in is one: the batch is refused, yet the failure must
        count towards a lockout. `apply` and `run` call `record` in a write
        transaction of its own, on the store as it is then, and commit what
        it wrote even though the batch is refused. `plan` never calls it.
        """
        return Step(issues=tuple(issues), record=record)

    @classmethod
    def proceed(cls, run: Callable[[], _R], issues: Iterable[Issue] = ()) -> Step[_R]:
        """A step that will `run`, and reports `issues` (warnings) alongside."""
        issues = tuple(issues)
        if any(issue.blocking for issue in issues):
            return Step(issues=issues)
        return Step(issues=issues, run=run)


@attrs.frozen
class SetupLink:
    """A set-password link: the credentials that keep its hash, and its message's fields."""

    credentials: Credentials
    data: dict[str, str]
    secrets: dict[str, str] = attrs.field(repr=False, metadata={SECRET: True})


@attrs.define
class Effects:
    """What a batch computes once across `plan` and `apply`: ids, tokens, DNS answers, hashes.

    Each value is kept under the command's position and what was asked, so
    when `apply` has to validate a batch again every command gets the very
    same ids, tokens and answers, and nothing expensive is done twice.
    Password hashes are not computed while planning: `pending` maps a
    placeholder to the password it stands for, and `prepare` replaces them
    with real hashes, in parallel, before the write transaction opens.
    """

    _memo: dict[tuple[Any, ...], Any] = attrs.field(factory=dict, repr=False)
    counted: dict[int, Counted] = attrs.field(factory=dict)
    """Each guessing command's guess, by position, counted before the batch is checked."""
    pending: dict[str, str] = attrs.field(factory=dict, repr=False)
    resolved: dict[str, str] = attrs.field(factory=dict, repr=False)

    def once(self, key: tuple[Any, ...], compute: Callable[[], _V]) -> _V:
        """`compute()` the first time `key` is asked for; the same value (or error) after."""
        found = self._memo.get(key, _MISSING)
        if found is _MISSING:
            try:
                found = compute()
            except ProvisioningError as exc:
                found = _Raised(exc)
            self._memo[key] = found
        if isinstance(found, _Raised):
            raise found.error
        return cast("_V", found)

    def renumbered(self, kept: Sequence[int]) -> Effects:
        """These effects for the batch of the commands at positions `kept`, in that order.

        What was kept of each command (its guess, DNS answers, hashes) moves
        to its new position; what was kept of the others is let go.
        """
        moved = {old: new for new, old in enumerate(kept)}
        return Effects(
            memo={
                (moved[key[0]], *key[1:]): value
                for key, value in self._memo.items()
                if key[0] in moved
            },
            counted={moved[i]: c for i, c in self.counted.items() if i in moved},
            pending=dict(self.pending),
            resolved=dict(self.resolved),
        )

    def forget_all_but_hashes(self) -> None:
        """Let go of every id, token and answer kept, keeping the passwords' hashes.

        A batch checked a part at a time calls it after each part: the
        hashes are what `apply` computes once, ahead of its transaction.
        """
        self._memo = {key: value for key, value in self._memo.items() if key[1:2] == ("hash",)}

    def deferred(self) -> list[tuple[tuple[Any, ...], str, str]]:
        """Each hash asked for and not computed yet: its key, placeholder and password.

        For another process's `Effects` to `adopt`: the placeholders are
        unique across processes, so changes made here resolve there.
        """
        return [
            (key, value, self.pending[value])
            for key, value in self._memo.items()
            if key[1:2] == ("hash",) and isinstance(value, str) and value in self.pending
        ]

    def adopt(self, key: tuple[Any, ...], marker: str, password: str) -> None:
        """Take over a hash another process deferred, under its own placeholder."""
        self._memo.setdefault(key, marker)
        self.pending[marker] = password

    def defer_hash(self, key: tuple[Any, ...], password: str) -> str:
        """A placeholder for the hash of `password`, computed by `prepare`."""

        def placeholder() -> str:
            marker = f"{_PENDING}{os.getpid()}:{len(self.pending)}"
            self.pending[marker] = password
            return marker

        return self.once(key, placeholder)

    def prepare(self, hasher: PasswordHasher, *, workers: int | None = None) -> None:
        """Hash every pending password, on every core (argon2 releases the GIL)."""
        todo = [marker for marker in self.pending if marker not in self.resolved]
        if not todo:
            return
        if len(todo) == 1:
            hashes = [hasher.hash(self.pending[todo[0]])]
        else:
            count = workers or os.cpu_count() or 1
            with ThreadPoolExecutor(max_workers=min(count, len(todo))) as pool:
                hashes = list(pool.map(hasher.hash, (self.pending[m] for m in todo)))
        self.resolved.update(zip(todo, hashes, strict=True))
        for key, value in self._memo.items():
            if isinstance(value, str) and value in self.resolved:
                self._memo[key] = self.resolved[value]

    def resolve(self, value: _V) -> _V:
        """`value` (an entity, a result ...) with every placeholder replaced by its hash."""
        if not self.resolved:
            return value
        return cast("_V", _resolved(value, self.resolved))


_PENDING: Final = "\x00pending-hash:"
_DECOYS: dict[int, tuple[weakref.ref[PasswordHasher], str]] = {}
_DECOYS_LOCK: Final = threading.Lock()


def _decoy(hasher: PasswordHasher, effects: Effects) -> str:
    """A hash of nothing anyone knows, made once per hasher, to verify unknown users against.

    Kept for as long as the hasher lives (or, for one that cannot be
    referred to weakly, for the batch), so that refusing an unknown user
    costs one verification, as refusing a known one does.
    """
    try:
        ref = weakref.ref(hasher)
    except TypeError:
        return effects.once(("decoy",), lambda: hasher.hash(secrets.token_urlsafe(16)))
    with _DECOYS_LOCK:
        found = _DECOYS.get(id(hasher))
        if found is None or found[0]() is not hasher:
            found = (ref, hasher.hash(secrets.token_urlsafe(16)))
            _DECOYS[id(hasher)] = found
            weakref.finalize(hasher, _DECOYS.pop, id(hasher), None)
        return found[1]


_MISSING: Final[Any] = object()


@attrs.frozen
class _Raised:
    error: ProvisioningError


def _resolved(value: Any, hashes: Mapping[str, str]) -> Any:  # noqa: ANN401 - any attrs value
    if isinstance(value, str):
        return hashes.get(value, value)
    if not attrs.has(type(value)):
        return value
    changes = {}
    for field in attrs.fields(type(value)):
        if not field.init:
            continue
        current = getattr(value, field.name)
        if isinstance(current, str) and not current.startswith(_PENDING):
            continue
        new = _resolved(current, hashes)
        if new is not current:
            changes[field.name.lstrip("_")] = new
    return attrs.evolve(value, **changes) if changes else value


@attrs.define
class Tx:
    """One batch's view of the world while it is planned or applied.

    `uow` is the batch's `Overlay`: reads reach the store once, writes stay
    in the batch until `apply` writes them all. `now` is read from the clock
    once per batch, so every change of a batch carries the same time.
    `created` remembers which command of the batch created an entity, so a
    clash with it can say so. Ids, tokens, DNS answers, password checks and
    hashes go through `effects`, so each is computed once per command.
    With `checking_only`, the batch is checked and its changes dropped (a
    dry run in parts): its audit events and messages, which no command of
    a batch reads, are only counted (`unrecorded`), never made, and its new
    ids and tokens come from a counter (`checking#1` ..., which no command
    can ask for).
    """

    uow: Overlay
    actor: Actor
    ids: IdSource
    now: datetime
    tokens: TokenSource
    dns: DnsResolver
    hasher: PasswordHasher
    effects: Effects = attrs.Factory(Effects)
    handlers: Mapping[type, Callable[[Tx, Any], Step[Any]]] = attrs.Factory(dict)
    """The handler of each command type, for a command that includes another (see `handle`)."""
    defer_hashing: bool = False
    checking_only: bool = False
    unrecorded: int = 0
    command: int = 0
    deadline: datetime | None = None
    """The earliest moment a time limit the batch relied on runs out (see `until`)."""
    created: dict[str, int] = attrs.Factory(dict)
    events: list[AuditEvent] = attrs.Factory(list)
    messages: list[Message] = attrs.Factory(list)
    forgotten: list[str] = attrs.Factory(list)
    """The guess counters the batch forgets once it is written (see `forget_guesses`)."""
    _ordinals: dict[str, int] = attrs.Factory(dict)
    _checking_ids: Iterator[int] = attrs.Factory(itertools.count)
    _permissions: dict[tuple[str | None, str | None], tuple[tuple[int, int], frozenset[str]]] = (
        attrs.Factory(dict)
    )

    @functools.cached_property
    def _actor_text(self) -> str:
        """Who the batch's events name: one string for all of them."""
        session_id = self.actor.session_id
        session = None if session_id is None else self.uow.sessions.find(session_id)
        if session is None:
            return str(self.actor)
        return (
            f"agent {session.agent} of parent {session.parent_id} acting in customer"
            f" {session.customer_id} ({self.actor})"
        )

    def at(self, command: int) -> None:
        """Work on behalf of the command at position `command` from now on."""
        self.command = command
        self._ordinals.clear()

    def until(self, moment: datetime) -> None:
        """Say that a check of the batch holds only until `moment` (a link's or code's expiry).

        A plan is written as it is only before its earliest such moment;
        after it, `apply` checks the batch again at the time it writes it.
        """
        if self.deadline is None or moment < self.deadline:
            self.deadline = moment

    def _next(self, kind: str) -> tuple[Any, ...]:
        ordinal = self._ordinals.get(kind, 0)
        self._ordinals[kind] = ordinal + 1
        return (self.command, kind, ordinal)

    def new_id(self, requested: str | None = None) -> str:
        """The id a create command asked for, or a fresh one; remembered as the command's."""
        if requested is not None:
            entity_id = requested
        else:
            if self.checking_only:  # dropped with the batch: any id no command can ask for will do
                entity_id = f"checking#{next(self._checking_ids)}"
            else:
                entity_id = self.effects.once(self._next("id"), self.ids.new_id)
            self.uow.fresh_id(entity_id)
        self.created[entity_id] = self.command
        return entity_id

    def token(self) -> str:
        """A fresh unpredictable token (the same one if the batch is validated again)."""
        if self.checking_only:  # dropped with the batch, never sent: unique is enough
            return f"checking#{next(self._checking_ids)}"
        return self.effects.once(self._next("token"), self.tokens.token)

    def txt_records(self, name: DomainName) -> list[str]:
        """The TXT records of `name`, looked up once per command."""
        return list(
            self.effects.once((self.command, "dns", name.ascii), lambda: self.dns.txt_records(name))
        )

    def hash_password(self, password: str) -> str:
        """The hash of a new password; while planning, a placeholder `apply` fills in."""
        key = (self.command, "hash", password)
        if self.defer_hashing:
            return self.effects.defer_hash(key, password)
        return self.effects.once(key, lambda: self.hasher.hash(password))

    def verify_password(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches, checked once per command.

        Without a hash (an unknown user), the same work is spent against a
        decoy hash, so the answer takes as long as a real one.
        """
        checked = password_hash if password_hash is not None else _decoy(self.hasher, self.effects)
        matches = self.effects.once(
            (self.command, "verify", checked, password),
            lambda: self.hasher.verify(checked, password),
        )
        return matches and password_hash is not None

    def permissions(self, account_id: str | None, mailbox_id: str | None = None) -> frozenset[str]:
        """What the actor holds in the account (or mailbox); read again only after a change."""
        actor_row = self.uow.rows(TABLES.users).stamp(self.actor.user_id or "")
        generation = (
            self.uow.generation(
                TABLES.grants,
                TABLES.roles,
                TABLES.classes_of_service,
                TABLES.relationships,
                TABLES.sessions,
                TABLES.clients,
            ),
            actor_row,
        )
        cached = self._permissions.get((account_id, mailbox_id))
        if cached is not None and cached[0] == generation:
            return cached[1]
        held = permissions_of(self.uow, self.actor, account_id, mailbox_id)
        self._permissions[account_id, mailbox_id] = (generation, held)
        return held

    def authorize(
        self, permission: str, account_id: str | None, mailbox_id: str | None = None
    ) -> None:
        """Return if the actor holds `permission` in that scope; raise `PermissionDenied` if not."""
        if permission not in PERMISSIONS:
            msg = f"unknown permission {permission!r}"
            raise ValueError(msg)
        if permission not in self.permissions(account_id, mailbox_id):
            raise PermissionDenied(
                actor=str(self.actor), permission=permission, account_id=account_id
            )

    def member_of(self, account_id: str | None) -> bool:
        """Whether the acting user belongs to the account or holds a grant there.

        The operator belongs everywhere; a support actor, to the customer its
        open session is in (see `member_of` in `_access`).
        """
        return member_of(self.uow, self.actor, account_id)

    def user(self, user_id: str) -> User:
        """The user `user_id`, if the actor may know it exists; else `NotFound`.

        Users are known to the operator, to themselves and to the members of
        their own account. To anyone else a user of another account is as
        absent as an id nobody holds, so no answer tells the two apart (see
        `known` for the time it takes).
        """
        user = self.uow.users.find(user_id)
        if user is not None and self.actor.user_id == user.id:
            return user
        # A user of no account is the operator's business alone (`member_of(None)`).
        if not self.member_of(NO_ACCOUNT if user is None else user.account_id) or user is None:
            raise NotFound(entity="user", key=user_id)
        return user

    def known(self, entity: str, entity_id: str, found: _Owned | None) -> _Owned:
        """`found`, if the actor may know that it exists; else `NotFound` (see `known`)."""
        return known(self.uow, self.actor, entity, entity_id, found)

    def outranks(self, target: User, account_id: str | None = None) -> bool:
        """Whether the actor holds every permission `target` holds in the account.

        `account_id` defaults to the target's own account. The operator and
        the target itself always may; nobody else acts on a super admin.
        """
        if self.actor.is_platform or self.actor.user_id == target.id:
            return True
        account_id = target.account_id if account_id is None else account_id
        if target.super_admin and account_id == target.account_id:
            return False
        if account_id is None:
            return True  # a user of no account: only the operator is authorized for it at all
        return held_by(self.uow, target.id, account_id, user=target) <= self.permissions(account_id)

    def require_rank(self, permission: str, target: User, account_id: str | None = None) -> None:
        """Raise `TargetOutranks` unless the actor `outranks` the target."""
        if not self.outranks(target, account_id):
            raise TargetOutranks(
                actor=self._actor_text,
                permission=permission,
                account_id=target.account_id if account_id is None else account_id,
            )

    def handle(self, command: Any) -> Step[Any]:  # noqa: ANN401 - any command
        """Check `command` as a part of the command at hand, by the handler the road uses for it.

        A handler that includes another command's change (setting up a phone
        user creates the user) asks for it by its command, never by importing
        that command's handler: both then check and change the same way.
        """
        return self.handlers[type(command)](self, command)

    @property
    def directory(self) -> str | None:
        """The directory service the actor speaks for: an active API client's, if it has one.

        Such a client's new users are that directory's, and it alone changes
        them one by one (see `provisioning.rules.credentials.directory_managed`).
        """
        if self.actor.client_id is None:
            return None
        client = active_client(self.uow, self.actor)
        return None if client is None else client.directory_service

    def is_self(self, user: User) -> bool:
        """Whether the actor is the user itself."""
        return self.actor.user_id == user.id

    def authorize_for(self, user: User, permission: str) -> None:
        """Authorize acting on another user: `permission` in its account, and rank over it.

        For users of no account only the operator is authorized. The actor must
        also hold everything the user holds there (`permission.target_outranks`).
        """
        self.authorize(permission, user.account_id)
        self.require_rank(permission, user)

    def record(
        self, action: str, entity: str, entity_id: str, *, account_id: str | None, detail: str = ""
    ) -> None:
        """Write one audit event for a change made by the current command."""
        if self.checking_only:
            self.unrecorded += 1
            return
        event_id = self.effects.once(self._next("event"), self.ids.new_id)
        self.uow.fresh_id(event_id)
        event = AuditEvent(
            id=event_id,
            occurred_at=self.now,
            actor=self._actor_text,
            action=action,
            entity=entity,
            entity_id=entity_id,
            account_id=account_id,
            detail=detail,
        )
        self.uow.audit.append(event)
        self.events.append(event)

    def setup_link(self, user_id: str) -> SetupLink:
        """A one-time set-password link for the user `user_id`: what to store, what to mail.

        Only the token's hash is stored (`credentials`). The welcome message's
        `data` gets the user's id and the link's expiry, its `secrets` the
        token itself. The link works once, for `SETUP_LINK_VALIDITY`.
        """
        token = self.token()
        expires, expiry = self._link_expiry
        return SetupLink(
            credentials=Credentials(setup_token_hash=hash_token(token), setup_expires_at=expires),
            data={"user_id": user_id, "link_expires_at": expiry},
            secrets={"token": token},
        )

    @functools.cached_property
    def _link_expiry(self) -> tuple[datetime, str]:
        """When the batch's set-password links expire, and that in words: one for them all."""
        expires = self.now + SETUP_LINK_VALIDITY
        return expires, expires.isoformat(timespec="minutes")

    def counted(self) -> Counted:
        """The current command's guess, as the workflow counted it before any check.

        A command type with a guess rule (`Context.guesses`) is counted
        before the batch is checked; its handler asks here what the count
        allows, and checks the secret only for `Guessed.CHECK`.
        """
        found = self.effects.counted.get(self.command)
        if found is None:
            raise InternalError(where="sign-in", kind="a guess not counted before its check")
        return found

    def forget_guesses(self, *keys: str) -> None:
        """Forget the failures counted against `keys` once the batch is written (a right guess)."""
        if not self.checking_only:
            self.forgotten.extend(keys)

    def notify(self, message: Message) -> None:
        """Queue a message for delivery after commit."""
        if not self.checking_only:
            self.messages.append(message)

    def taken_message(self, what: str, value: str, holder_id: str) -> str:
        """Words for a clash of `value`, naming the batch command that took it if one did."""
        earlier = self.created.get(holder_id)
        if earlier is not None and earlier != self.command:
            return f"{what} {value!r} is already taken by command {earlier} of this batch"
        return f"{what} {value!r} is already taken"
