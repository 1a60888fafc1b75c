"""Users and groups (roles) as SCIM resources, read and written through the library.

Each write is one `plan` and `apply` of the library's commands, as the API
client that authenticated the request: its rights, its account, its rank.
A refused command becomes the SCIM error its category says (`to_scim`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, cast

import attrs
from scim2_models import (
    ForbiddenException,
    InvalidFilterException,
    InvalidValueException,
    MutabilityException,
    NotFoundException,
    NotImplementedException,
    PreconditionFailedException,
    Resource,
    ResourceType,
    ResponseParameters,
    SCIMException,
    ScimProvider,
    SearchRequest,
    UnauthorizedException,
    UniquenessException,
)
from scim2_server.storage import ScimStorage, SearchPage

from provisioning import (
    Actor,
    AddRoleMember,
    Category,
    Context,
    CreateRole,
    CreateUser,
    DeleteRole,
    DeleteUser,
    ProvisioningError,
    RemoveRoleMember,
    RenameUser,
    UpdateRole,
    UpdateUser,
    ValidationFailed,
    apply,
    plan,
    queries,
)
from provisioning.commands import Command
from provisioning.errors import Issue
from provisioning.model import Role, User, UserStatus
from provisioning.scim._schema import ENTERPRISE, GROUP, USER

__all__ = ["Batch", "Caller", "LibraryStorage", "to_scim"]

_CALLER: contextvars.ContextVar[Caller] = contextvars.ContextVar("provisioning_scim_caller")

_ENTERPRISE_NAMES: Final = {
    "employee_number": "employeeNumber",
    "cost_center": "costCenter",
    "organization": "organization",
    "division": "division",
    "department": "department",
}
_CORE_NAMES: Final = {
    "title": "title",
    "preferred_language": "preferredLanguage",
    "locale": "locale",
}


@attrs.frozen
class Caller:
    """Who a request acts as: an API client, in its account, for its directory (if any)."""

    actor: Actor
    account_id: str
    directory: str | None


@contextmanager
def calling(caller: Caller) -> Iterator[None]:
    """Serve what runs inside as `caller` (the storage has no request of its own)."""
    token = _CALLER.set(caller)
    try:
        yield
    finally:
        _CALLER.reset(token)


def _caller() -> Caller:
    try:
        return _CALLER.get()
    except LookupError:
        raise UnauthorizedException(detail="no API client authenticated the request") from None


class _ServerError(SCIMException):
    """Something failed that the request could not have avoided (a bug): 500."""

    status = 500
    _default_detail = "the service failed; the request changed nothing"


class _Unavailable(SCIMException):
    """The store could not answer now (locked, unreachable): 503, try again."""

    status = 503
    _default_detail = "the service is unavailable now; try again"


_BY_CATEGORY: Final[Mapping[Category, type[SCIMException]]] = {
    Category.INVALID: InvalidValueException,
    Category.CONFLICT: UniquenessException,
    Category.STALE: PreconditionFailedException,
    Category.NOT_FOUND: NotFoundException,
    Category.DENIED: ForbiddenException,
    Category.UNAUTHENTICATED: UnauthorizedException,
    Category.IMMUTABLE: MutabilityException,
    Category.UNAVAILABLE: _Unavailable,
    Category.INTERNAL: _ServerError,
    Category.USAGE: _ServerError,
}
"""The SCIM error of each category (any other, such as `state`, is `400 invalidValue`)."""


def to_scim(error: ProvisioningError) -> SCIMException:
    """The SCIM error a refusal is: by its first blocking issue's category (`invalid` ...)."""
    if isinstance(error, ValidationFailed):
        blocking = [issue for issue in error.issues if issue.blocking] or list(error.issues)
        first = blocking[0]
        detail = "; ".join(f"{i.code}: {i.message}" for i in blocking[:5])
        return _BY_CATEGORY.get(first.category, InvalidValueException)(detail=detail)
    return _BY_CATEGORY.get(error.category, InvalidValueException)(detail=str(error))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _version(entity: User | Role) -> str:
    return f'W/"{entity.version}"'


def _meta(kind: str, entity: User | Role, created: object, changed: object) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "created": created,
        "lastModified": changed,
        "version": _version(entity),
    }


def _dump(resource: Resource[Any]) -> dict[str, Any]:
    dumped: dict[str, Any] = resource.model_dump(by_alias=True, exclude_none=True, mode="json")
    return dumped


class LibraryStorage(ScimStorage):
    """A `scim2_server` storage over a `Context`: users are users, groups are custom roles.

    `bare_names` maps a `userName` without a domain to one at that domain,
    and shows the users of that domain by their local part. `passwords`
    says what a password in a request does: `"ignore"` (the user sets its
    own through its set-password link), or `"set"` (it is the user's
    password, checked against the account's policy).
    """

    def __init__(
        self,
        ctx: Context,
        scim: ScimProvider,
        *,
        bare_names: str | None = None,
        passwords: str = "ignore",
    ) -> None:
        if passwords not in {"ignore", "set"}:
            msg = f"passwords is 'ignore' or 'set', not {passwords!r}"
            raise ValueError(msg)
        self.ctx = ctx
        self.scim = scim
        self.bare_names = bare_names
        self.passwords = passwords

    # -- users and groups as resources ------------------------------------------------------

    def _shown_name(self, user: User) -> str:
        if self.bare_names is not None and user.username.domain.unicode == self.bare_names:
            return user.username.local
        return str(user.username)

    def _username(self, given: str) -> str:
        if "@" not in given and self.bare_names is not None:
            return f"{given}@{self.bare_names}"
        return given

    def user_resource(self, user: User) -> Resource[Any]:
        """The SCIM user of a user."""
        profile = user.profile
        enterprise: dict[str, Any] = {
            scim: getattr(profile, name)
            for name, scim in _ENTERPRISE_NAMES.items()
            if getattr(profile, name)
        }
        if profile.manager:
            enterprise["manager"] = {"value": profile.manager}
        payload: dict[str, Any] = {
            "schemas": [USER, *([ENTERPRISE] if enterprise else [])],
            "id": user.id,
            "externalId": user.external_id,
            "userName": self._shown_name(user),
            "name": {
                key: value
                for key, value in (
                    ("givenName", profile.first_name),
                    ("familyName", profile.last_name),
                )
                if value
            }
            or None,
            "displayName": profile.display_name if profile.display_name_manual else None,
            "timezone": profile.timezone,
            "active": user.status is UserStatus.ACTIVE,
            "emails": [
                {"value": str(user.username), "type": "work", "primary": True},
                *({"value": str(alias), "type": "other"} for alias in user.aliases),
            ],
            **{scim: getattr(profile, name) or None for name, scim in _CORE_NAMES.items()},
            "meta": _meta("User", user, user.created_at, user.updated_at),
        }
        if enterprise:
            payload[ENTERPRISE] = enterprise
        return self._model("User").model_validate(
            {k: v for k, v in payload.items() if v is not None}
        )

    def group_resource(self, role: Role, members: Sequence[User]) -> Resource[Any]:
        """The SCIM group of a custom role and its members."""
        payload: dict[str, Any] = {
            "schemas": [GROUP],
            "id": role.id,
            "externalId": role.external_id,
            "displayName": role.name,
            "members": [
                {"value": user.id, "$ref": f"Users/{user.id}", "type": "User"} for user in members
            ],
            "meta": _meta("Group", role, role.created_at, role.updated_at or role.created_at),
        }
        if role.created_at is None:
            del payload["meta"]["created"], payload["meta"]["lastModified"]
        if role.external_id is None:
            del payload["externalId"]
        return self._model("Group").model_validate(payload)

    def _model(self, kind: str) -> type[Resource[Any]]:
        return cast("type[Resource[Any]]", self.scim.model_for(kind))

    # -- running commands ---------------------------------------------------------------------

    def run(self, commands: Sequence[Command[Any]]) -> tuple[Any, ...]:
        """Plan and apply `commands` as the caller, in one transaction; their results."""
        caller = _caller()
        try:
            planned = plan(self.ctx, caller.actor, commands)
            return apply(self.ctx, planned).results
        except ProvisioningError as refused:
            raise to_scim(refused) from refused

    def _user(self, user_id: str) -> User:
        caller = _caller()
        try:
            user = queries.get_user(self.ctx, caller.actor, user_id)
        except ProvisioningError as refused:
            raise to_scim(refused) from refused
        if user.account_id != caller.account_id:
            raise NotFoundException(detail=f"no user {user_id!r}")
        return user

    def _role(self, role_id: str) -> tuple[Role, list[User]]:
        caller = _caller()
        try:
            role = queries.get_role(self.ctx, caller.actor, role_id)
        except ProvisioningError as refused:
            raise to_scim(refused) from refused
        if role.account_id != caller.account_id:
            raise NotFoundException(detail=f"no group {role_id!r}")
        return role, self._members(role)

    def _members(self, role: Role) -> list[User]:
        caller = _caller()
        try:
            return queries.every(
                lambda after: queries.role_members(
                    self.ctx, caller.actor, role.id, limit=queries.MAX_PAGE, after=after
                )
            )
        except ProvisioningError as refused:
            raise to_scim(refused) from refused

    # -- the storage ------------------------------------------------------------------------------

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        """The user or group `resource_id` (in a Bulk request, as the request left it)."""
        del response_parameters
        batch = _BATCH.get(None)
        if batch is not None and resource_id in batch.pending:
            return batch.pending[resource_id].model_copy(deep=True)
        if resource_type.name == "Group":
            return self.group_resource(*self._role(resource_id))
        return self.user_resource(self._user(resource_id))

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,  # noqa: ANN401 - the server's cursor, never announced here
    ) -> SearchPage:
        """One page of the users or groups matching the request's filter."""
        del position
        if len(resource_types) != 1:
            raise NotImplementedException(detail="search one resource type at a time")
        found = (
            self._groups(search_request)
            if resource_types[0].name == "Group"
            else self._users(search_request)
        )
        if search_request.sort_by is not None:
            descending = search_request.sort_order == SearchRequest.SortOrder.descending
            found.sort(
                key=lambda r: _sort_key(search_request.sort_value(r), str(r.id)),
                reverse=descending,
            )
        start = search_request.start_index_0 or 0
        stop = None if search_request.count is None else start + search_request.count
        return SearchPage(len(found), found[start:stop])

    def _users(self, search_request: SearchRequest[Any]) -> list[Resource[Any]]:
        caller = _caller()
        scim_filter = search_request.filter
        keyed = _keyed(scim_filter)
        try:
            if keyed is not None and keyed[0] == "id":
                candidates = [self._user(keyed[1])] if keyed[1] else []
            else:
                where: dict[str, Any] = {}
                if keyed is not None:
                    attribute, value = keyed
                    key = {"username": "username", "externalid": "external_id"}.get(
                        attribute, "address"
                    )
                    where[key] = self._username(value) if key == "username" else value
                    if key == "external_id":
                        where["directory"] = caller.directory
                candidates = queries.every(
                    lambda after: queries.find_users(
                        self.ctx,
                        caller.actor,
                        caller.account_id,
                        limit=queries.MAX_PAGE,
                        after=after,
                        **where,
                    )
                )
        except NotFoundException:
            candidates = []
        except ProvisioningError as refused:
            raise to_scim(refused) from refused
        resources = [self.user_resource(user) for user in candidates]
        if keyed is not None and keyed[0] in _EXACT:
            return resources  # the look-up is the whole filter
        return _matching(scim_filter, resources)

    def _groups(self, search_request: SearchRequest[Any]) -> list[Resource[Any]]:
        caller = _caller()
        try:
            roles = queries.every(
                lambda after: queries.roles(
                    self.ctx, caller.actor, caller.account_id, limit=queries.MAX_PAGE, after=after
                )
            )
        except ProvisioningError as refused:
            raise to_scim(refused) from refused
        custom = [role for role in roles if role.account_id == caller.account_id]
        resources = [self.group_resource(role, self._members(role)) for role in custom]
        return _matching(search_request.filter, resources)

    # -- writes: run at once, or collected into a Bulk request's one plan ---------------------

    def _write(
        self, commands: Sequence[Command[Any]], resource_id: str, predicted: Resource[Any] | None
    ) -> Resource[Any] | None:
        """Run `commands`: the user they leave, as a resource (None for a group, or deleted).

        In a Bulk request they are collected instead, and the result is
        `predicted`: the resource as the request leaves it, which the
        request's later operations read (`get`).
        """
        batch = _BATCH.get(None)
        if batch is not None:
            batch.add(commands, resource_id, predicted)
            return predicted
        results = self.run(commands)
        last = results[-1] if results else None
        return self.user_resource(last) if isinstance(last, User) else None

    def _state(self, resource_type: ResourceType, resource_id: str) -> _State:
        """The version and the names a write starts from: as stored, or as the request left it."""
        batch = _BATCH.get(None)
        if batch is not None and resource_id in batch.pending:
            return batch.state(resource_id)
        if resource_type.name == "Group":
            role, members = self._role(resource_id)
            return _State(role.version, role.name, role.external_id, {u.id for u in members})
        user = self._user(resource_id)
        fields = _fields_of(self.user_resource(user))
        return _State(user.version, str(user.username), user.external_id, set(), fields)

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        """A new user, or a new group (a custom role holding no permission) with its members."""
        caller = _caller()
        given = _dump(resource)
        new_id = self.ctx.ids.new_id()  # chosen first: a Bulk request's bulkIds name it
        if resource_type.name == "Group":
            commands: list[Command[Any]] = [
                CreateRole(
                    account_id=caller.account_id,
                    name=_text(given.get("displayName")) or "",
                    external_id=_text(given.get("externalId")),
                    role_id=new_id,
                )
            ]
            commands += [
                AddRoleMember(role_id=new_id, user_id=str(member.get("value")))
                for member in given.get("members") or []
            ]
        else:
            password = _text(given.get("password")) if self.passwords == "set" else None
            commands = [
                CreateUser(
                    account_id=caller.account_id,
                    username=self._username(_text(given.get("userName")) or ""),
                    password=password,
                    password_repeat=password,
                    user_id=new_id,
                    **_fields_of(resource),
                )
            ]
        predicted = _predicted(resource, new_id, str(resource_type.name), version=len(commands))
        written = self._write(commands, new_id, predicted)
        return written if written is not None else self.get(resource_type, new_id)

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        """The user or group as `resource` says it is now (PUT and PATCH alike)."""
        resource_id = str(resource.id)
        state = self._state(resource_type, resource_id)
        _check_version(state.version, expected_version)
        given = _dump(resource)
        commands: list[Command[Any]] = []
        version = state.version
        if resource_type.name == "Group":
            name = _text(given.get("displayName")) or state.name
            external_id = _text(given.get("externalId"))
            if (name, external_id) != (state.name, state.external_id):
                commands.append(
                    UpdateRole(
                        role_id=resource_id, version=version, name=name, external_id=external_id
                    )
                )
            wanted = {str(member.get("value")) for member in given.get("members") or []}
            commands += [
                AddRoleMember(role_id=resource_id, user_id=u)
                for u in sorted(wanted - state.members)
            ]
            commands += [
                RemoveRoleMember(role_id=resource_id, user_id=u)
                for u in sorted(state.members - wanted)
            ]
        else:
            username = self._username(_text(given.get("userName")) or state.name)
            if username.casefold() != state.name.casefold():
                commands.append(RenameUser(user_id=resource_id, version=version, username=username))
                version += 1  # the update follows the rename, in the same plan
            changed = {  # read back through the same mapping as the stored user was
                name: value
                for name, value in _fields_of(resource).items()
                if state.fields.get(name) != value
            }
            if changed:  # only what differs: the audit log says what the request changed
                commands.append(UpdateUser(user_id=resource_id, version=version, **changed))
        predicted = _predicted(
            resource, resource_id, str(resource_type.name), version=state.version + len(commands)
        )
        written = self._write(commands, resource_id, predicted) if commands else predicted
        return written if written is not None else self.get(resource_type, resource_id)

    def delete(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        expected_version: str | None = None,
    ) -> None:
        """Delete the user, or the group (the role, taken from its members first)."""
        state = self._state(resource_type, resource_id)
        _check_version(state.version, expected_version)
        command: Command[Any] = (
            DeleteRole(role_id=resource_id, detach=True)
            if resource_type.name == "Group"
            else DeleteUser(user_id=resource_id, version=state.version)
        )
        self._write([command], resource_id, None)

    @contextmanager
    def collecting(self, batch: Batch) -> Iterator[None]:
        """Collect the writes made inside into `batch`, for one plan (a Bulk request)."""
        token = _BATCH.set(batch)
        try:
            yield
        finally:
            _BATCH.reset(token)

    def settle(
        self, batch: Batch, *, fail_on_errors: int | None, failed: set[int]
    ) -> tuple[dict[int, SCIMException], set[int]]:
        """Plan every operation's commands at once, leave out what fails, apply the rest once.

        An operation whose command fails is left out whole (its other
        commands with it), and the rest planned again, until what is left
        holds. With `fail_on_errors`, the operations after the one that
        makes that many errors (counting `failed`, those refused before any
        command) are not run. The failures by operation, and those not run.
        """
        caller = _caller()
        failures: dict[int, SCIMException] = {}
        cut: set[int] = set()
        while True:
            kept = [
                i for i, step in enumerate(batch.steps) if step not in failures and step not in cut
            ]
            planned = plan(
                self.ctx, caller.actor, [batch.commands[i] for i in kept], drop_failing=True
            )
            refused: dict[int, list[Issue]] = {}
            for issue in planned.dropped:
                step = batch.steps[kept[issue.command or 0]]
                refused.setdefault(step, []).append(issue)
            failures |= {step: to_scim(ValidationFailed(issues=i)) for step, i in refused.items()}
            stop = _stopping_point(batch.order, set(failures) | failed, fail_on_errors)
            newly_cut = set(batch.order[stop + 1 :]) if stop is not None else set()
            if not refused and newly_cut <= cut:
                break
            cut |= newly_cut
        try:
            apply(self.ctx, planned)
        except ProvisioningError as refused_all:
            raise to_scim(refused_all) from refused_all
        return failures, cut


@attrs.define
class _State:
    """What a write starts from: the version, the name, and a user's fields or a group's members."""

    version: int
    name: str
    external_id: str | None
    members: set[str]
    fields: dict[str, Any] = attrs.Factory(dict)


@attrs.define
class Batch:
    """A Bulk request's writes: its commands, the operation each is of, what they leave."""

    commands: list[Command[Any]] = attrs.Factory(list)
    steps: list[int] = attrs.Factory(list)
    order: list[int] = attrs.Factory(list)
    """The operations, by position in the request, in the order they ran."""
    pending: dict[str, Resource[Any]] = attrs.Factory(dict)

    def start(self, step: int) -> None:
        """The operation at position `step` of the request runs now."""
        self.order.append(step)

    def add(
        self, commands: Sequence[Command[Any]], resource_id: str, left: Resource[Any] | None
    ) -> None:
        """Collect an operation's commands, and the resource as they leave it (None: gone)."""
        step = self.order[-1]
        self.commands += commands
        self.steps += [step] * len(commands)
        if left is None:
            self.pending.pop(resource_id, None)
        else:
            self.pending[resource_id] = left

    def state(self, resource_id: str) -> _State:
        """The state a resource this request wrote is left in."""
        given = _dump(self.pending[resource_id])
        meta = given.get("meta") or {}
        version = int(str(meta.get("version", 'W/"1"')).strip('W/"') or 1)
        members = {str(m.get("value")) for m in given.get("members") or []}
        name = _text(given.get("userName")) or _text(given.get("displayName")) or ""
        fields = _fields_of(self.pending[resource_id])
        return _State(version, name, _text(given.get("externalId")), members, fields)


_BATCH: contextvars.ContextVar[Batch | None] = contextvars.ContextVar(
    "provisioning_scim_batch", default=None
)


def _predicted(
    resource: Resource[Any], resource_id: str, kind: str, *, version: int
) -> Resource[Any]:
    """The resource as a write leaves it, before it is written: for a Bulk request's next steps."""
    meta = {"resourceType": kind, "version": f'W/"{version}"'}
    payload = {**_dump(resource), "id": resource_id, "meta": meta}
    payload.pop("password", None)
    return type(resource).model_validate(payload)


def _stopping_point(order: list[int], failed: set[int], fail_on_errors: int | None) -> int | None:
    """Where a Bulk request stops: the position, in `order`, of its `fail_on_errors`-th failure."""
    if fail_on_errors is None:
        return None
    seen = 0
    for position, step in enumerate(order):
        seen += step in failed
        if seen >= fail_on_errors:
            return position
    return None


def _fields_of(resource: Resource[Any]) -> dict[str, Any]:
    """What a SCIM user says of a user, as `CreateUser`'s and `UpdateUser`'s fields."""
    given = _dump(resource)
    name = given.get("name") or {}
    enterprise = given.get(ENTERPRISE) or {}
    manager = enterprise.get("manager") or {}
    fields: dict[str, Any] = {
        "first_name": _text(name.get("givenName")) or "",
        "last_name": _text(name.get("familyName")) or "",
        "display_name": _text(given.get("displayName")),
        "timezone": _text(given.get("timezone")),
        "external_id": _text(given.get("externalId")),
        "manager": _text(manager.get("value")) or "",
        **{name: _text(given.get(scim)) or "" for name, scim in _CORE_NAMES.items()},
        **{name: _text(enterprise.get(scim)) or "" for name, scim in _ENTERPRISE_NAMES.items()},
    }
    active = given.get("active")
    fields["enabled"] = active is not False
    return fields


def _check_version(version: int, expected: str | None) -> None:
    if expected is not None and expected != f'W/"{version}"':
        raise PreconditionFailedException(detail=f'the resource is at W/"{version}"')


def _sort_key(value: object, resource_id: str) -> tuple[bool, str, str]:
    return value is None, "" if value is None else str(value).casefold(), resource_id


_KEYS: Final = {"id", "username", "externalid", "emails.value", "emails"}
_EXACT: Final = {"id", "username", "externalid"}
"""The keys whose look-up answers the filter as it is (`userName` is case-insensitive, as the
username is; `externalId` and `id` case-exact, as their look-ups are)."""


def _keyed(scim_filter: Any) -> tuple[str, str] | None:  # noqa: ANN401 - a ScimFilter
    """The indexed key a filter compares with `eq` (`userName`, `externalId`, ...), if one."""
    if scim_filter is None:
        return None
    from scim2_models.path import CompareOperator, Comparison  # noqa: PLC0415 - at search

    node = scim_filter.ast
    if not isinstance(node, Comparison) or node.op != CompareOperator.eq:
        return None
    if not isinstance(node.value, str):
        return None
    attribute = str(node.attr_path).rpartition(":")[2].casefold()
    if attribute.endswith(".value") and attribute.startswith("emails"):
        attribute = "emails.value"
    return (attribute, node.value) if attribute in _KEYS else None


def _matching(scim_filter: Any, resources: list[Resource[Any]]) -> list[Resource[Any]]:  # noqa: ANN401
    if scim_filter is None:
        return resources
    try:
        return [resource for resource in resources if scim_filter.match(resource)]
    except (TypeError, ValueError) as exc:
        raise InvalidFilterException(detail=str(exc)) from exc
