"""The verbs people type: each one's success, its refusal (exit 1), its bad input (exit 2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from provisioning import Context
from provisioning.adapters.system import SystemDns
from provisioning.cli import main
from provisioning.model import DomainName


def invoke(*args: str | Path, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, [str(arg) for arg in args], input=stdin)


class Tenant:
    """A store with Acme (its super admin acts by default), a plain user Ann, and a helper."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.options = ["--store", str(folder / "t.db")]
        made = self.run(
            "init",
            *("--account", "Acme", "--domain", "acme.example"),
            *("--admin-email", "it@home.example", "--trust-domain"),
        )
        assert made.exit_code == 0, made.output
        self.ok("user", "add", "ann@acme.example", "--alternate-email", "ann@home.example")
        self.apply([{"kind": "CreateRole", "name": "helpdesk", "permissions": ["users.read"]}])

    def run(self, *args: str, stdin: str | None = None) -> Result:
        return invoke(*self.options, *args, stdin=stdin)

    def ok(self, *args: str) -> dict[str, Any]:
        """Run a verb that must succeed; its JSON document."""
        done = self.run("--format", "json", *args)
        assert done.exit_code == 0, done.output
        document: dict[str, Any] = json.loads(done.stdout)
        return document

    def refused(self, *args: str, code: str) -> None:
        """Run a verb that the library must refuse: exit 1, the issue's code, one line."""
        done = self.run(*args)
        assert done.exit_code == 1, done.output
        assert code in done.output
        assert "Traceback" not in done.output
        assert done.stderr.startswith("provisioning: ")
        assert done.stderr.count("\n") == 1, done.stderr

    def unusable(self, *args: str, says: str) -> None:
        """Run a verb with bad input: exit 2, one line on stderr, nothing on stdout."""
        done = self.run(*args)
        assert done.exit_code == 2, done.output
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith("provisioning: ")
        assert says in done.stderr
        assert "Traceback" not in done.output

    def user(self, address: str) -> dict[str, Any]:
        return self.ok("user", "show", address)

    def domain(self, name: str) -> dict[str, Any]:
        domains = self.ok("domains")["domains"]
        return next(d for d in domains if d["name"] == name)

    def apply(self, commands: list[dict[str, Any]], *extra: str) -> dict[str, Any]:
        path = self.folder / "setup.json"
        path.write_text(json.dumps(commands))
        return self.ok(*extra, "apply", str(path))


@pytest.fixture
def tenant(tmp_path: Path) -> Tenant:
    return Tenant(tmp_path)


ANN = ("--as", "ann@acme.example")  # a user of Acme without an administrator's rights


# -- domain -------------------------------------------------------------------------------------


def test_domain_add(tenant: Tenant) -> None:
    added = tenant.ok("domain", "add", "sales.example")["result"]
    assert (added["name"], added["status"]) == ("sales.example", "pending")
    shown = tenant.run("domain", "add", "other.example")
    assert "publish this TXT record at other.example: provisioning-verification=" in shown.stdout
    tenant.refused(*ANN, "domain", "add", "x.example", code="permission.denied")
    tenant.refused("domain", "add", "sales.example", code="domain.taken")
    tenant.unusable("domain", "add", says="Missing argument 'NAME'")


def test_domain_verify_looks_the_record_up_in_dns(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tenant.ok("domain", "add", "sales.example")["result"]["verification_token"]
    published: dict[str, list[str]] = {}

    def txt_records(_self: SystemDns, name: DomainName) -> list[str]:
        return published.get(name.ascii, [])

    monkeypatch.setattr(SystemDns, "txt_records", txt_records)
    missing = tenant.run("domain", "verify", "sales.example")
    assert missing.exit_code == 1
    assert f"TXT record at sales.example: {token}" in missing.stderr  # what to publish
    assert "domain.verification_failed" in missing.output
    tenant.refused(*ANN, "domain", "verify", "sales.example", code="permission.denied")
    published["sales.example"] = [token]
    verified = tenant.ok("domain", "verify", "Sales.Example")["result"]
    assert verified["status"] == "verified"
    tenant.unusable("domain", "verify", "sales.example", "--trust", says="--as-operator")
    tenant.refused("domain", "verify", "nowhere.example", code="domain.not_found")


def test_domain_verify_trusted_by_the_operator_alone(tenant: Tenant) -> None:
    tenant.ok("domain", "add", "sales.example")
    tenant.unusable("domain", "verify", "sales.example", "--trust", says="platform operator")
    assert tenant.domain("sales.example")["status"] == "pending"
    trusted = tenant.ok("--as-operator", "domain", "verify", "sales.example", "--trust")
    assert trusted["result"]["status"] == "verified"
    events = tenant.ok("audit")["events"]
    assert (events[-1]["action"], events[-1]["actor"]) == ("VerifyDomain", "platform:operator")


def test_domain_activate_deactivate_and_delete(tenant: Tenant) -> None:
    tenant.ok("domain", "add", "sales.example")
    tenant.refused("domain", "activate", "sales.example", code="domain.")  # not verified yet
    tenant.ok("--as-operator", "domain", "verify", "sales.example", "--trust")
    tenant.refused(*ANN, "domain", "activate", "sales.example", code="permission.denied")
    assert tenant.ok("domain", "activate", "sales.example")["result"]["status"] == "active"
    tenant.unusable("domain", "activate", says="Missing argument")

    tenant.unusable("domain", "deactivate", "sales.example", says="give --yes")
    assert tenant.domain("sales.example")["status"] == "active"
    tenant.refused(*ANN, "domain", "deactivate", "sales.example", "--yes", code="permission")
    done = tenant.ok("domain", "deactivate", "sales.example", "--yes")
    assert done["result"]["status"] == "inactive"

    tenant.unusable("domain", "delete", "sales.example", says="give --yes")
    tenant.refused(*ANN, "domain", "delete", "sales.example", "--yes", code="permission")
    assert tenant.ok("domain", "delete", "sales.example", "--yes")["done"] == "DeleteDomain"
    assert [d["name"] for d in tenant.ok("domains")["domains"]] == ["acme.example"]
    tenant.refused("domain", "delete", "sales.example", "--yes", code="domain.not_found")


# -- user ---------------------------------------------------------------------------------------


def test_user_add_and_show(tenant: Tenant) -> None:
    made = tenant.ok(
        "user",
        "add",
        "bob@acme.example",
        *("--first-name", "Bob", "--last-name", "Baker", "--alternate-email", "b@home.example"),
        *("--alias", "bobby@acme.example", "--disabled", "--mfa-required"),
    )["result"]
    assert (made["username"], made["status"]) == ("bob@acme.example", "disabled")
    shown = tenant.user("BOBBY@acme.example")  # by an alias, in any case
    assert shown["id"] == made["id"]
    assert shown["aliases"] == ["bobby@acme.example"]
    assert shown["mfa"]["required"] is True
    text = tenant.run("user", "show", "bob@acme.example")
    assert "Baker" in text.stdout
    tenant.refused("user", "add", "bob@acme.example", code="address.taken")
    tenant.refused("user", "add", "not-an-address", code="username.invalid")
    tenant.refused(*ANN, "user", "add", "carl@acme.example", code="permission.denied")
    tenant.refused("user", "show", "ghost@acme.example", code="user.not_found")
    tenant.unusable("user", "add", "x@acme.example", "--cos", says="requires an argument")
    tenant.unusable("user", "show", says="Missing argument 'ADDRESS'")


def test_user_show_to_someone_of_another_account_is_not_found(tenant: Tenant) -> None:
    tenant.apply(
        [
            {"kind": "CreateAccount", "name": "Other", "account_id": "other"},
            {
                "kind": "AddDomain",
                "account_id": "other",
                "name": "other.example",
                "admin_email": "boss@home.example",
            },
        ],
        "--as-operator",
    )
    outsider = ("--account", "Other")
    acme = ("--account", "Acme")
    tenant.refused(*outsider, "user", "show", "ann@acme.example", code="user.not_found")
    tenant.refused(*outsider, "user", "disable", "ann@acme.example", "--yes", code="not_found")
    assert tenant.ok(*acme, "user", "show", "ann@acme.example")["status"] == "active"
    operator = ("--as-operator",)  # no account to choose: the user is named by its address
    assert tenant.ok(*operator, "user", "show", "ann@acme.example")["status"] == "active"
    tenant.ok(*operator, "user", "disable", "ann@acme.example", "--yes")
    assert tenant.ok(*acme, "user", "show", "ann@acme.example")["status"] == "disabled"
    tenant.unusable(*operator, "domain", "add", "x.example", says="several accounts")


def test_user_update_changes_only_the_fields_given(tenant: Tenant) -> None:
    tenant.ok("user", "update", "ann@acme.example", "--first-name", "Ann", "--last-name", "Lee")
    updated = tenant.ok("user", "update", "ann@acme.example", "--mobile", "+44 20 7946 0000")
    user = updated["result"]
    profile = user["profile"]
    assert (profile["first_name"], profile["last_name"]) == ("Ann", "Lee")
    assert profile["mobile"] == "+442079460000"
    tenant.refused(*ANN, "user", "update", "it@home.example", code="not_found")
    tenant.refused("user", "update", "ann@acme.example", "--timezone", "Mars/Base", code="timezone")
    tenant.unusable("user", "update", says="Missing argument")


def test_user_rename(tenant: Tenant) -> None:
    tenant.ok("user", "add", "bob@acme.example", "--alternate-email", "b@home.example")
    renamed = tenant.ok(
        "user", "rename", "ann@acme.example", "ann.lee@acme.example", "--keep-alias"
    )
    assert renamed["result"]["username"] == "ann.lee@acme.example"
    assert tenant.user("ann@acme.example")["username"] == "ann.lee@acme.example"  # the alias
    tenant.refused("user", "rename", "ann.lee@acme.example", "bob@acme.example", code="taken")
    tenant.refused(*ANN, "user", "rename", "bob@acme.example", "b@acme.example", code="not_found")
    tenant.ok("grant", "ann@acme.example", "--role", "helpdesk")
    tenant.refused(*ANN, "user", "rename", "bob@acme.example", "b@acme.example", code="denied")
    tenant.unusable("user", "rename", "ann.lee@acme.example", says="Missing argument 'NEW_ADDRESS'")


def test_user_disable_and_enable(tenant: Tenant) -> None:
    tenant.unusable("user", "disable", "ann@acme.example", says="Confirm on a terminal")
    assert tenant.user("ann@acme.example")["status"] == "active"
    tenant.refused(*ANN, "user", "disable", "it@home.example", "--yes", code="not_found")
    tenant.refused(*ANN, "user", "disable", "postmaster@acme.example", "--yes", code="not_found")
    tenant.ok("grant", "ann@acme.example", "--role", "helpdesk")  # may read, not manage
    tenant.refused(*ANN, "user", "disable", "postmaster@acme.example", "--yes", code="denied")
    disabled = tenant.ok("user", "disable", "ann@acme.example", "--yes")["result"]
    assert disabled["status"] == "disabled"
    assert tenant.ok("user", "enable", "ann@acme.example")["result"]["status"] == "active"
    tenant.refused(*ANN, "user", "enable", "postmaster@acme.example", code="denied")
    tenant.unusable("user", "enable", says="Missing argument")


def test_user_delete_asks_for_the_address_again(tenant: Tenant) -> None:
    tenant.unusable("user", "delete", "ann@acme.example", says="give --yes")
    tenant.refused(*ANN, "user", "delete", "postmaster@acme.example", "--yes", code="not_found")
    tenant.ok("grant", "ann@acme.example", "--role", "helpdesk")
    tenant.refused(*ANN, "user", "delete", "postmaster@acme.example", "--yes", code="denied")
    assert tenant.ok("user", "delete", "ann@acme.example", "--yes")["done"] == "DeleteUser"
    tenant.refused("user", "show", "ann@acme.example", code="user.not_found")
    tenant.refused("user", "delete", "ann@acme.example", "--yes", code="user.not_found")


def test_user_reset_password_shows_the_new_one_once_and_only_where_asked(tenant: Tenant) -> None:
    tenant.unusable("user", "reset-password", "ann@acme.example", "--yes", says="on a terminal")
    tenant.unusable("--format", "json", "user", "reset-password", "ann@acme.example", says="json")
    tenant.ok("grant", "ann@acme.example", "--role", "helpdesk")
    tenant.refused(
        *ANN,
        *("user", "reset-password", "postmaster@acme.example", "--yes", "--show-password"),
        code="denied",
    )
    done = tenant.run("user", "reset-password", "ann@acme.example", "--yes", "--show-password")
    assert done.exit_code == 0, done.output
    password = done.stdout.splitlines()[-1]
    assert len(password) >= 12
    assert "shown this once" in done.stdout
    audit = tenant.run("--format", "json", "audit")
    assert password not in audit.output
    assert json.loads(audit.stdout)["events"][-1]["action"] == "ResetPassword"
    tenant.unusable("user", "reset-password", says="Missing argument")


def test_an_api_client_from_its_token_shown_once_to_its_revocation(tenant: Tenant) -> None:
    add = ("client", "add", "Okta", "--role", "administrator", "--directory", "okta")
    tenant.unusable(*add, says="on a terminal")
    assert tenant.ok("client", "list")["clients"] == []  # nothing was made that nobody saw
    tenant.unusable("--format", "json", *add, says="json")
    tenant.refused(*ANN, *add, "--show-token", code="permission.denied")
    done = tenant.run(*add, "--show-token")
    assert done.exit_code == 0, done.output
    token = done.stdout.splitlines()[-1]
    assert token.startswith("pvc_")
    (listed,) = tenant.ok("client", "list")["clients"]
    assert (listed["name"], listed["directory_service"]) == ("Okta", "okta")
    assert token.rpartition("~")[2] not in json.dumps(listed)
    assert "secret_hash" not in listed
    made = tenant.ok("--as", token, "user", "add", "pat@acme.example")
    assert made["result"]["source"] == "directory"
    tenant.refused("user", "update", "pat@acme.example", "--first-name", "X", code="directory")
    tenant.ok("--as", token, "user", "update", "pat@acme.example", "--first-name", "Pat")
    events = tenant.ok("audit")["events"]
    assert any(e["action"] == "CreateUser" and e["actor"].startswith("client:") for e in events)
    assert token not in tenant.run("--format", "json", "audit").output
    assert "│ Okta (" in tenant.run("audit", "--limit", "3").stdout  # its name, not its id
    rotated = tenant.run("client", "rotate", "okta", "--yes", "--show-token")
    assert rotated.exit_code == 0, rotated.output
    fresh = rotated.stdout.splitlines()[-1]
    tenant.unusable("--as", token, "users", says="no live API client")
    tenant.ok("--as", fresh, "users")
    tenant.unusable("client", "revoke", "Okta", says="give --yes")
    tenant.ok("--as", fresh, "users")  # a script that forgot --yes revoked nothing
    tenant.ok("client", "revoke", "Okta", "--yes")
    tenant.unusable("--as", fresh, "users", says="no live API client")
    assert tenant.ok("client", "list")["clients"][0]["revoked_at"] is not None
    tenant.refused("client", "revoke", "Okta", "--yes", code="client.revoked")
    tenant.refused("client", "revoke", "Nobody", "--yes", code="client.not_found")


def test_user_reset_mfa(tenant: Tenant) -> None:
    tenant.unusable("user", "reset-mfa", "ann@acme.example", says="give --yes")
    tenant.refused("user", "reset-mfa", "ann@acme.example", "--yes", code="mfa.not_active")
    tenant.ok("grant", "ann@acme.example", "--role", "helpdesk")
    tenant.refused(*ANN, "user", "reset-mfa", "postmaster@acme.example", "--yes", code="denied")
    tenant.unusable("user", "reset-mfa", says="Missing argument")


# -- invite, grant, phone -------------------------------------------------------------------------


def test_invite(tenant: Tenant) -> None:
    made = tenant.ok("invite", "lee@partner.example", "--role", "helpdesk", "--days", "3")["result"]
    helpdesk = made["invitation"]["role_ids"]
    assert made["invitation"]["email"] == "lee@partner.example"
    assert "token" not in made
    assert len(helpdesk) == 1
    assert helpdesk != ["helpdesk"]  # the role's name became its id
    tenant.refused("invite", "lee@partner.example", "--role", "helpdesk", code="duplicate")
    tenant.refused(*ANN, "invite", "x@partner.example", code="permission.denied")
    tenant.refused("invite", "y@partner.example", "--days", "400", code="validity_invalid")
    tenant.unusable("invite", "z@partner.example", "--days", "many", says="is not a valid integer")


def test_grant(tenant: Tenant) -> None:
    tenant.refused(*ANN, "users", code="permission.denied")
    tenant.ok("grant", "ann@acme.example", "--role", "helpdesk")
    grants = tenant.ok("--as", "ann@acme.example", "users")  # a helpdesk may list users now
    assert grants["total"] == 2
    tenant.refused(*ANN, "grant", "ann@acme.example", "--role", "administrator", code="denied")
    tenant.refused("grant", "ann@acme.example", "--role", "no-such-role", code="role.not_found")
    tenant.unusable("grant", says="Missing argument 'ADDRESS'")


def test_phone_setup(tenant: Tenant) -> None:
    acme = tenant.ok("--format", "json", "user", "show", "postmaster@acme.example")["account_id"]
    tenant.apply(
        [
            {"kind": "UpdateAccount", "account_id": acme, "version": 1, "phone_region": "GB"},
            {"kind": "AddPhoneNumbers", "numbers": ["+44 20 7946 0001"]},
            {"kind": "SetStationPackage", "name": "basic", "owned": 2},
        ],
        "--as-operator",
    )
    seat = tenant.ok(
        "phone",
        "setup",
        "lee@acme.example",
        *("--first-name", "Lee", "--last-name", "Ray", "--email", "lee@home.example"),
        *("--station", "basic", "--number", "+44 20 7946 0001"),
    )
    assert seat["done"] == "SetUpPhoneUser"
    assert tenant.user("lee@acme.example")["username"] == "lee@acme.example"
    tenant.refused(
        "phone",
        "setup",
        "kim@acme.example",
        *("--first-name", "Kim", "--last-name", "Ray", "--email", "kim@home.example"),
        *("--station", "premium", "--extension", "2001"),
        code="station",
    )
    tenant.refused(
        *ANN,
        *("phone", "setup", "max@acme.example", "--first-name", "M", "--last-name", "R"),
        *("--email", "m@home.example", "--station", "basic", "--extension", "2002"),
        code="denied",
    )
    tenant.unusable("phone", "setup", "x@acme.example", says="Missing option '--first-name'")


# -- support ------------------------------------------------------------------------------------


def test_support_from_request_to_a_session_and_its_end(tenant: Tenant) -> None:
    tenant.apply(
        [
            {"kind": "CreateAccount", "name": "Parent", "account_id": "parent"},
            {
                "kind": "AddDomain",
                "account_id": "parent",
                "name": "parent.example",
                "admin_email": "boss@home.example",
            },
            {"kind": "CreateAccount", "name": "Cust", "account_id": "cust", "parent_id": "parent"},
            {
                "kind": "AddDomain",
                "account_id": "cust",
                "name": "cust.example",
                "admin_email": "cboss@home.example",
            },
        ],
        "--as-operator",
    )
    parent, customer = ("--account", "Parent"), ("--account", "Cust")
    outsider = ("--account", "Acme")
    tenant.refused(*parent, "support", "request", "Cust", "--role", "owner", code="support.")
    tenant.refused(*customer, "support", "request", "Cust", "--role", "manager", code="support.")
    tenant.unusable(*parent, "support", "request", "Cust", says="Missing option '--role'")
    asked = tenant.ok(*parent, "support", "request", "Cust", "--role", "administrator")["result"]
    relationship = asked["id"]
    assert asked["status"] == "pending"
    listed = tenant.ok(*customer, "support", "list")["relationships"]
    assert [r["id"] for r in listed] == [relationship]

    tenant.refused(*parent, "support", "approve", relationship, code="denied")  # not the customer
    approved = tenant.ok(*customer, "support", "approve", relationship)["result"]
    assert approved["status"] == "active"
    tenant.unusable(*customer, "support", "approve", says="Missing argument")

    tenant.refused(*customer, "support", "open", relationship, code="not_found")  # no agent
    opened = tenant.ok(*parent, "support", "open", relationship, "--reason", "ticket 42")["result"]
    session = opened["id"]
    as_agent = ("--as", f"support:{session}")
    users = tenant.ok(*customer, *as_agent, "users")
    assert users["total"] == 1  # the customer's super admin, seen through the session
    tenant.unusable(*parent, "support", "open", relationship, "--minutes", "x", says="integer")

    tenant.refused(*outsider, "support", "close", session, code="not_found")
    assert tenant.ok(*customer, "support", "close", session)["result"]["id"] == session  # either
    tenant.refused(*parent, "support", "close", session, code="support.session_closed")
    tenant.refused(*customer, *as_agent, "users", code="denied")
    tenant.unusable(*parent, "support", "close", says="Missing argument")

    tenant.unusable(*customer, "support", "end", relationship, says="give --yes")
    tenant.refused(*customer, "support", "end", "no-such-relationship", "--yes", code="not_found")
    ended = tenant.ok(*customer, "support", "end", relationship, "--yes")["result"]
    assert ended["status"] == "ended"


# -- who acts, and where -------------------------------------------------------------------------


def test_as_names_any_user_with_the_rights_it_holds_however_granted(tenant: Tenant) -> None:
    tenant.refused(*ANN, "users", code="permission.denied")
    tenant.ok("grant", "ann@acme.example", "--role", "administrator")
    listed = tenant.ok(*ANN, "users")  # an administrator through a grant, not the super admin
    assert listed["total"] == 2
    made = tenant.ok(*ANN, "user", "add", "kim@acme.example", "--alternate-email", "k@home.ex")
    ann_id = tenant.user("ann@acme.example")["id"]
    events = tenant.ok("audit")["events"]
    assert (events[-1]["action"], events[-1]["actor"]) == ("CreateUser", f"user:{ann_id}")
    assert made["result"]["username"] == "kim@acme.example"
    tenant.unusable("--as", "ghost@acme.example", "users", says="no user 'ghost@acme.example'")
    tenant.unusable("--as", "ann@acme.example", "--as-operator", "users", says="not both")


def test_the_environment_names_the_store_the_account_and_who_acts(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant.ok("grant", "ann@acme.example", "--role", "helpdesk")
    url_file = tenant.folder / "store-url"
    url_file.write_text(tenant.options[1] + "\n")  # a path is no URL: used as a SQLite file
    monkeypatch.setenv("PROVISIONING_STORE", tenant.options[1])
    monkeypatch.setenv("PROVISIONING_ACCOUNT", "acme")
    monkeypatch.setenv("PROVISIONING_AS", "ann@acme.example")
    done = invoke("--format", "json", "users")
    assert done.exit_code == 0, done.output
    refused = invoke("user", "disable", "postmaster@acme.example", "--yes")
    assert refused.exit_code == 1  # acting as Ann, a viewer
    assert (
        invoke("--as", "postmaster@acme.example", "user", "show", "ann@acme.example").exit_code == 0
    )
    monkeypatch.setenv("PROVISIONING_ACCOUNT", "nothing-like-it")
    assert "no account 'nothing-like-it'" in invoke("users").stderr
    assert invoke("--account", "Acme", "users").exit_code == 0  # the option wins


def test_a_store_url_kept_in_a_file_is_read_from_it(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    real = Context.open

    def spy(where: str, **kwargs: Any) -> Any:
        opened.append(where)
        return real(where, **kwargs)

    monkeypatch.setattr(Context, "open", spy)
    url_file = tenant.folder / "store-url"
    url_file.write_text("postgresql://ann:sekret@127.0.0.1:1/nowhere\n")
    url_file.chmod(0o644)
    done = invoke("--store", url_file, "users")
    assert done.exit_code == 2
    assert opened == ["postgresql://ann:sekret@127.0.0.1:1/nowhere"]
    assert "others may read it" in done.stderr
    assert "sekret" not in done.output
    url_file.chmod(0o600)
    quiet = invoke("--store", url_file, "users")
    assert "others may read it" not in quiet.stderr


# -- output ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listing", "key"),
    [
        (("users",), "users"),
        (("domains",), "domains"),
        (("roles",), "roles"),
        (("audit",), "events"),
        (("support", "list"), "relationships"),
    ],
)
def test_format_goes_before_or_after_the_subcommand_and_lists_take_ndjson_and_csv(
    tenant: Tenant, listing: tuple[str, ...], key: str
) -> None:
    before = tenant.run("--format", "json", *listing)
    after = tenant.run(*listing, "--format", "json")
    assert json.loads(before.stdout)[key] == json.loads(after.stdout)[key]
    items = json.loads(after.stdout)[key]
    lines = tenant.run(*listing, "--format", "ndjson").stdout.splitlines()
    assert [json.loads(line) for line in lines] == items
    rows = tenant.run("--format", "csv", *listing).stdout.splitlines()
    assert len(rows) == (len(items) + 1 if items else 0)  # a header, then a row per item
    for item, row in zip(items, rows[1:], strict=True):
        assert str(item.get("id", item.get("seq"))) in row
    overridden = tenant.run("--format", "csv", *listing, "--format", "text")
    assert overridden.exit_code == 0
    assert rows[:1] != overridden.stdout.splitlines()[:1]  # a table, not CSV


def test_a_format_a_command_does_not_print_is_refused_in_one_line(tenant: Tenant) -> None:
    tenant.unusable("--format", "csv", "user", "show", "ann@acme.example", says="not csv")
    tenant.unusable("--format", "xlsx", "users", says="not xlsx")
    tenant.unusable("users", "--format", "yaml", says="'yaml' is not one of")


def test_report_to_standard_output_and_import_from_standard_input(tenant: Tenant) -> None:
    report = tenant.run("report", "-")
    assert report.exit_code == 0, report.output
    assert report.stdout.lstrip("\ufeff").startswith("Email") or "ann@acme.example" in report.stdout
    assert "wrote 2 user(s) to standard output" in report.stderr
    assert not (tenant.folder / "-").exists()
    as_xlsx = CliRunner().invoke(main, [*tenant.options, "report", "-", "--format", "xlsx"])
    assert as_xlsx.exit_code == 0
    assert as_xlsx.stdout_bytes.startswith(b"PK\x03\x04")
    upload = "Email,First name,Last name,Alternate email\nzoe@acme.example,Zoe,Ng,z@home.example\n"
    done = tenant.run("import", "-", stdin=upload)
    assert done.exit_code == 0, done.output
    assert "1 created" in done.stdout
    assert tenant.user("zoe@acme.example")["profile"]["first_name"] == "Zoe"


CONFIRMING: list[tuple[str, ...]] = [
    ("domain", "deactivate", "acme.example"),
    ("domain", "delete", "acme.example"),
    ("user", "disable", "ann@acme.example"),
    ("user", "delete", "ann@acme.example"),
    ("user", "reset-mfa", "ann@acme.example"),
    ("support", "end", "some-relationship"),
]


@pytest.mark.parametrize("verb", CONFIRMING, ids=lambda verb: " ".join(verb[:2]))
def test_a_destructive_verb_in_a_script_without_yes_changes_nothing(
    tenant: Tenant, verb: tuple[str, ...]
) -> None:
    before: Callable[[], object] = lambda: (tenant.ok("domains"), tenant.ok("users"))  # noqa: E731
    was = before()
    tenant.unusable(*verb, says="give --yes")
    assert before() == was


def test_with_format_json_a_failure_is_a_json_document_too(tenant: Tenant) -> None:
    failures = [
        (("--as", "ghost@acme.example", "users"), 2, "unusable"),
        (("--account", "Nowhere", "domains"), 2, "unusable"),
        (("user", "disable", "ann@acme.example"), 2, "unusable"),  # no --yes, no terminal
        (("user", "show", "ghost@acme.example"), 1, "user.not_found"),
        (("--as", "ann@acme.example", "domain", "add", "x.example"), 1, "permission.denied"),
        (("domain", "add", "acme.example"), 1, "validation.failed"),
        (("domain", "verify", "x.example", "--trust"), 2, "unusable"),
    ]
    for args, code, error in failures:
        done = tenant.run("--format", "json", *args)
        assert done.exit_code == code, (args, done.output)
        document = json.loads(done.stdout)
        assert document["error"] == error, args
        assert document["message"] == done.stderr.removeprefix("provisioning: ").rstrip("\n")
    missing = invoke("--store", tenant.folder / "none.db", "--format", "json", "users")
    assert json.loads(missing.stdout)["error"] == "unusable"
    assert not (tenant.folder / "none.db").exists()
