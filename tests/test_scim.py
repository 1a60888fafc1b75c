"""The SCIM service as identity providers call it, on every store.

scim2-tester's every check against the WSGI application, in the process;
then the requests Microsoft Entra ID and Okta send (from their public SCIM
guides), each step checked in the store; then who may call at all.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import Status, check_server

from conftest import OPERATOR, active_domain
from provisioning import (
    Context,
    CreateAccount,
    CreateApiClient,
    NotFound,
    RevokeApiClient,
    queries,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.model import User, UserStatus
from provisioning.scim import Connection, ScimWsgiApp, handle

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _token(ctx: Context, account: str = "acme", **fields: Any) -> str:
    values: dict[str, Any] = {
        "account_id": account,
        "name": "Provisioning",
        "role_ids": {"system:owner"},
        "directory_service": "idp",
    }
    token: str = run(ctx, OPERATOR, CreateApiClient(**{**values, **fields})).token
    return token


class Idp:
    """An identity provider calling the service with its token, as `handle` serves it."""

    def __init__(self, ctx: Context, token: str, connection: Connection = Connection()) -> None:  # noqa: B008
        self.ctx = ctx
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
        self.connection = connection

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        status, answered, data = handle(
            self.ctx,
            self.connection,
            method,
            path,
            query or {},
            {**self.headers, **(headers or {})},
            b"" if body is None else json.dumps(body).encode(),
        )
        return status, answered, json.loads(data) if data else None

    def ok(self, method: str, path: str, body: object = None, **options: Any) -> Any:
        status, _, data = self.call(method, path, body, **options)
        assert status < 300, (status, data)
        return data

    def patch(self, path: str, *operations: dict[str, Any]) -> Any:
        return self.ok("PATCH", path, {"schemas": [PATCH], "Operations": list(operations)})


def _stored(ctx: Context, user_id: str) -> User:
    return queries.get_user(ctx, OPERATOR, user_id)


# -- scim2-tester ---------------------------------------------------------------------------------


def test_every_check_of_scim2_tester_passes(acme: Context) -> None:
    app = ScimWsgiApp(acme, Connection(bare_names="acme.example"))
    client = WSGISCIMClient(
        app, base_url="http://localhost/v2", headers={"Authorization": f"Bearer {_token(acme)}"}
    )
    results = check_server(client)
    failed = [
        (result.title, str(result.status), result.reason)
        for result in results
        if result.status not in {Status.SUCCESS, Status.SKIPPED}
    ]
    assert failed == []
    assert sum(result.status is Status.SUCCESS for result in results) >= 90


# -- Microsoft Entra ID ---------------------------------------------------------------------------


def test_entra_provisions_a_user_through_its_life(acme: Context) -> None:
    idp = Idp(acme, _token(acme))
    found = idp.ok("GET", "/Users", query={"filter": 'userName eq "Test_User_1@acme.example"'})
    assert found["totalResults"] == 0
    created = idp.ok(
        "POST",
        "/Users",
        {
            "schemas": [CORE, ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_1@acme.example",
            "active": True,
            "emails": [{"primary": True, "type": "work", "value": "Test_User_1@acme.example"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Ann Lee", "familyName": "Lee", "givenName": "Ann"},
            "roles": [],
            ENTERPRISE: {"department": "Sales", "employeeNumber": "E-7"},
        },
    )
    user = _stored(acme, created["id"])
    assert (str(user.username), user.external_id) == (
        "Test_User_1@acme.example",
        "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    )
    assert (user.profile.first_name, user.profile.last_name) == ("Ann", "Lee")
    assert (user.profile.department, user.profile.employee_number) == ("Sales", "E-7")
    assert (user.source, user.directory_service) == ("directory", "idp")
    for wanted in (
        'userName eq "test_user_1@ACME.example"',
        'externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"',
    ):
        listed = idp.ok("GET", "/Users", query={"filter": wanted})
        assert [r["id"] for r in listed["Resources"]] == [user.id]
    path = f"/Users/{user.id}"
    idp.patch(path, {"op": "Replace", "path": "active", "value": "False"})
    assert _stored(acme, user.id).status is UserStatus.DISABLED
    (latest,) = queries.audit_log(acme, OPERATOR, "acme", limit=1, newest_first=True)
    assert (latest.action, latest.detail) == ("UpdateUser", "enabled")  # what changed, alone
    idp.patch(path, {"op": "Replace", "path": "active", "value": "True"})
    assert _stored(acme, user.id).status is UserStatus.ACTIVE
    idp.patch(path, {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "mgr-42"})
    assert _stored(acme, user.id).profile.manager == "mgr-42"
    idp.patch(
        path, {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "x@acme.example"}
    )
    assert str(_stored(acme, user.id).username) == "Test_User_1@acme.example"  # left out
    idp.patch(path, {"op": "Replace", "value": {"name.familyName": "Lee-Smith", "title": "Lead"}})
    assert (_stored(acme, user.id).profile.last_name, _stored(acme, user.id).profile.title) == (
        "Lee-Smith",
        "Lead",
    )
    idp.patch(path, {"op": "Replace", "path": "userName", "value": "ann.lee@acme.example"})
    assert str(_stored(acme, user.id).username) == "ann.lee@acme.example"
    assert idp.call("DELETE", path)[0] == 204
    assert idp.call("GET", path)[0] == 404


def test_entra_manages_a_group_and_its_members(acme: Context) -> None:
    idp = Idp(acme, _token(acme))
    ann = idp.ok(
        "POST", "/Users", {"schemas": [CORE], "userName": "ann@acme.example", "active": True}
    )
    bob = idp.ok(
        "POST", "/Users", {"schemas": [CORE], "userName": "bob@acme.example", "active": True}
    )
    group = idp.ok(
        "POST",
        "/Groups",
        {
            "schemas": [GROUP],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "Sales",
            "members": [],
        },
    )
    role = queries.get_role(acme, OPERATOR, group["id"])
    assert (role.name, role.external_id, role.permissions) == (
        "Sales",
        "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        frozenset(),  # a group gives no right until the account gives its role some
    )
    path = f"/Groups/{group['id']}"

    def members() -> list[str]:
        return sorted(u.id for u in queries.role_members(acme, OPERATOR, group["id"]))

    idp.patch(
        path,
        {"op": "Add", "path": "members", "value": [{"value": ann["id"]}, {"value": bob["id"]}]},
    )
    assert members() == sorted([ann["id"], bob["id"]])
    idp.patch(path, {"op": "Remove", "path": "members", "value": [{"value": ann["id"]}]})
    assert members() == [bob["id"]]
    idp.patch(path, {"op": "Remove", "path": f'members[value eq "{bob["id"]}"]'})
    assert members() == []
    idp.patch(path, {"op": "Replace", "path": "displayName", "value": "Sales EMEA"})
    assert queries.get_role(acme, OPERATOR, group["id"]).name == "Sales EMEA"
    listed = idp.ok("GET", "/Groups", query={"filter": 'displayName eq "Sales EMEA"'})
    assert [g["id"] for g in listed["Resources"]] == [group["id"]]
    assert idp.call("DELETE", path)[0] == 204


# -- Okta -----------------------------------------------------------------------------------------


def test_okta_creates_replaces_deactivates_and_reactivates(acme: Context) -> None:
    idp = Idp(acme, _token(acme))
    query = {"filter": 'userName eq "pat@acme.example"', "startIndex": "1", "count": "100"}
    assert idp.ok("GET", "/Users", query=query)["Resources"] == []
    body: dict[str, Any] = {
        "schemas": [CORE],
        "userName": "pat@acme.example",
        "name": {"givenName": "Pat", "familyName": "Ray"},
        "emails": [{"primary": True, "value": "pat@acme.example", "type": "work"}],
        "displayName": "Pat Ray",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }
    created = idp.ok("POST", "/Users", body)
    path = f"/Users/{created['id']}"
    status, headers, read = idp.call("GET", path)
    assert (status, read["userName"], read["locale"]) == (200, "pat@acme.example", "en-US")
    assert _stored(acme, created["id"]).credentials.password_hash is None  # "ignore"
    replaced = {**body, "id": created["id"], "name": {"givenName": "Patricia", "familyName": "Ray"}}
    idp.ok("PUT", path, replaced)
    assert _stored(acme, created["id"]).profile.first_name == "Patricia"
    idp.ok("PUT", path, {**replaced, "active": False})
    assert _stored(acme, created["id"]).status is UserStatus.DISABLED  # disabled, never deleted
    idp.ok("PUT", path, {**replaced, "active": True})
    assert _stored(acme, created["id"]).status is UserStatus.ACTIVE
    stale = idp.call("PUT", path, replaced, headers={"If-Match": headers["ETag"]})
    assert stale[0] == 412  # the user changed since that ETag


def test_okta_pushes_a_group(acme: Context) -> None:
    idp = Idp(acme, _token(acme))
    pat = idp.ok(
        "POST", "/Users", {"schemas": [CORE], "userName": "pat@acme.example", "active": True}
    )
    group = idp.ok(
        "POST", "/Groups", {"schemas": [GROUP], "displayName": "Engineering", "members": []}
    )
    path = f"/Groups/{group['id']}"
    idp.patch(
        path,
        {
            "op": "add",
            "path": "members",
            "value": [{"value": pat["id"], "display": "pat@acme.example"}],
        },
    )
    assert [u.id for u in queries.role_members(acme, OPERATOR, group["id"])] == [pat["id"]]
    idp.patch(path, {"op": "replace", "value": {"id": group["id"], "displayName": "Eng"}})
    assert queries.get_role(acme, OPERATOR, group["id"]).name == "Eng"
    idp.patch(path, {"op": "remove", "path": f'members[value eq "{pat["id"]}"]'})
    assert list(queries.role_members(acme, OPERATOR, group["id"])) == []
    assert idp.call("DELETE", path)[0] == 204
    assert idp.call("GET", path)[0] == 404


# -- who may call ---------------------------------------------------------------------------------


def test_a_request_without_a_live_token_is_refused(acme: Context) -> None:
    token = _token(acme)
    for headers in ({}, {"Authorization": "Bearer pvc_nobody~x"}, {"Authorization": "Basic eA=="}):
        status, _, data = handle(acme, Connection(), "GET", "/Users", {}, headers, b"")
        assert (status, data and json.loads(data)["status"]) == (401, "401")
    assert handle(acme, Connection(), "GET", "/ServiceProviderConfig", {}, {}, b"")[0] == 200
    assert handle(acme, Connection(), "GET", "/Schemas", {}, {}, b"")[0] == 200
    (client,) = queries.api_clients(acme, OPERATOR, "acme")
    run(acme, OPERATOR, RevokeApiClient(client_id=client.id))
    assert Idp(acme, token).call("GET", "/Users")[0] == 401


def test_a_client_acts_with_its_rights_in_its_own_account_only(
    acme: Context, dns: MemoryDns
) -> None:
    run(acme, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    active_domain(acme, dns, "globex", "globex.example", admin_email="it@gx.example")
    owner = Idp(acme, _token(acme))
    ann = owner.ok(
        "POST", "/Users", {"schemas": [CORE], "userName": "ann@acme.example", "active": True}
    )
    stranger = Idp(acme, _token(acme, "globex", name="Globex IdP"))
    assert stranger.call("GET", f"/Users/{ann['id']}")[0] == 404
    theirs = stranger.ok("GET", "/Users")["Resources"]
    assert [u["userName"] for u in theirs] == ["postmaster@globex.example"]
    assert stranger.call("DELETE", f"/Users/{ann['id']}")[0] == 404
    helper = Idp(acme, _token(acme, name="Helper", role_ids={"system:administrator"}))
    refused = helper.call("POST", "/Groups", {"schemas": [GROUP], "displayName": "Mine"})
    assert refused[0] == 403  # an administrator makes no roles
    taken = owner.call(
        "POST", "/Users", {"schemas": [CORE], "userName": "ANN@acme.example", "active": True}
    )
    assert (taken[0], taken[2]["scimType"]) == (409, "uniqueness")
    bad = owner.call(
        "POST", "/Users", {"schemas": [CORE], "userName": "x@nowhere.example", "active": True}
    )
    assert bad[0] == 400


# -- Bulk: one plan -------------------------------------------------------------------------------


def _bulk(*operations: dict[str, Any], fail_on_errors: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": list(operations),
    }
    if fail_on_errors is not None:
        body["failOnErrors"] = fail_on_errors
    return body


def _post(bulk_id: str, user_name: str) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "/Users",
        "bulkId": bulk_id,
        "data": {"schemas": [CORE], "userName": user_name, "active": True},
    }


def test_a_bulk_request_is_one_plan_that_leaves_out_what_fails(acme: Context) -> None:
    idp = Idp(acme, _token(acme))
    before = queries.audit_log(acme, OPERATOR, "acme").total
    answer = idp.ok(
        "POST",
        "/Bulk",
        _bulk(
            _post("ann", "ann@acme.example"),
            _post("bad", "x@nowhere.example"),  # no domain of the account
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "sales",
                "data": {
                    "schemas": [GROUP],
                    "displayName": "Sales",
                    "members": [{"value": "bulkId:ann"}],
                },
            },
            {
                "method": "PATCH",
                "path": "/Users/bulkId:ann",
                "data": {
                    "schemas": [PATCH],
                    "Operations": [{"op": "replace", "path": "title", "value": "Lead"}],
                },
            },
            _post("twice", "ANN@acme.example"),  # the first one's address
        ),
    )
    statuses = [(o.get("bulkId"), int(o["status"])) for o in answer["Operations"]]
    assert statuses == [("ann", 201), ("bad", 400), ("sales", 201), (None, 200), ("twice", 409)]
    ann = queries.find_user(acme, OPERATOR, username="ann@acme.example")
    assert ann.profile.title == "Lead"
    (sales,) = [r for r in queries.roles(acme, OPERATOR, "acme") if r.name == "Sales"]
    assert [u.id for u in queries.role_members(acme, OPERATOR, sales.id)] == [ann.id]
    with pytest.raises(NotFound):
        queries.find_user(acme, OPERATOR, username="x@nowhere.example")
    events = queries.audit_log(acme, OPERATOR, "acme").total - before
    assert events >= 3  # written once, together: the user, the role, its member, the change


def test_a_bulk_request_stops_at_fail_on_errors(acme: Context) -> None:
    idp = Idp(acme, _token(acme))
    answer = idp.ok(
        "POST",
        "/Bulk",
        _bulk(
            _post("a", "a@acme.example"),
            _post("b", "b@nowhere.example"),  # the first error: the request stops here
            _post("c", "c@acme.example"),
            fail_on_errors=1,
        ),
    )
    assert [(o.get("bulkId"), int(o["status"])) for o in answer["Operations"]] == [
        ("a", 201),
        ("b", 400),
    ]
    names = {str(u.username) for u in queries.find_users(acme, OPERATOR, "acme")}
    assert "a@acme.example" in names
    assert "c@acme.example" not in names


def test_a_bulk_request_refers_to_what_another_one_created_by_id(acme: Context) -> None:
    idp = Idp(acme, _token(acme))
    first = idp.ok("POST", "/Bulk", _bulk(_post("a", "a@acme.example")))
    location = first["Operations"][0]["location"]
    user_id = location.rpartition("/")[2]
    second = idp.ok(
        "POST",
        "/Bulk",
        _bulk(
            {"method": "DELETE", "path": f"/Users/{user_id}"},
            {"method": "DELETE", "path": "/Users/nobody"},
        ),
    )
    assert [int(o["status"]) for o in second["Operations"]] == [204, 404]
    assert idp.call("GET", f"/Users/{user_id}")[0] == 404


def test_the_asgi_application_serves_as_the_wsgi_one_does(acme: Context) -> None:
    import asyncio  # noqa: PLC0415 - this test's own

    from provisioning.scim import ScimAsgiApp  # noqa: PLC0415

    app = ScimAsgiApp(acme, Connection())
    token = _token(acme)
    body = json.dumps({"schemas": [CORE], "userName": "ann@acme.example", "active": True})
    sent: list[dict[str, Any]] = []

    async def call(method: str, path: str, payload: str = "") -> None:
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "scheme": "http",
            "server": ("localhost", 80),
            "headers": [
                (b"authorization", f"Bearer {token}".encode()),
                (b"content-type", b"application/scim+json"),
                (b"host", b"localhost"),
            ],
        }
        messages = [{"type": "http.request", "body": payload.encode(), "more_body": False}]

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)

    asyncio.run(call("POST", "/v2/Users", body))
    (start,) = [m for m in sent if m["type"] == "http.response.start"]
    assert start["status"] == 201
    ann = queries.find_user(acme, OPERATOR, username="ann@acme.example")
    assert ann.directory_service == "idp"


@pytest.mark.parametrize(
    ("code", "status", "scim_type"),
    [
        ("address.taken", 409, "uniqueness"),
        ("user.language_invalid", 400, "invalidValue"),
        ("version.stale", 412, None),
        ("permission.denied", 403, None),
        ("user.directory_managed", 400, "mutability"),
        ("store.unavailable", 503, None),
        ("internal.error", 500, None),
    ],
)
def test_a_refusal_is_answered_by_its_category(
    code: str, status: int, scim_type: str | None
) -> None:
    from provisioning import Issue, ValidationFailed  # noqa: PLC0415
    from provisioning.scim import to_scim  # noqa: PLC0415

    error = to_scim(ValidationFailed(issues=[Issue(code=code, message="no")]))
    assert (error.status, error.scim_type or None) == (status, scim_type)
    assert "no" in error.detail
