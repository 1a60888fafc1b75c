"""What the SCIM service publishes: the attributes it keeps, and nothing it would drop.

The schemas are RFC 7643's, narrowed to the attributes a user, and a role as
a group, hold here: an identity provider that reads `/Schemas` sends what
is kept, and a value it reads back is the value it wrote. A user's emails
are its username and its aliases (read-only: an address is an account's,
on its active domains, and changes through `userName`).
"""

from __future__ import annotations

from typing import Any, Final

from scim2_models import (
    Attribute,
    Mutability,
    Required,
    ResourceType,
    Schema,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
)
from scim2_server.utils import load_default_schemas

__all__ = ["ENTERPRISE", "GROUP", "USER", "provider"]

USER: Final = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE: Final = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP: Final = "urn:ietf:params:scim:schemas:core:2.0:Group"

_KEPT: Final[dict[str, dict[str, tuple[str, ...] | None]]] = {
    USER: {
        "userName": None,
        "name": ("givenName", "familyName"),
        "displayName": None,
        "title": None,
        "preferredLanguage": None,
        "locale": None,
        "timezone": None,
        "active": None,
        "password": None,
        "emails": ("value", "type", "primary"),
    },
    ENTERPRISE: {
        "employeeNumber": None,
        "costCenter": None,
        "organization": None,
        "division": None,
        "department": None,
        "manager": ("value",),
    },
    GROUP: {"displayName": None, "members": ("value", "type", "$ref")},
}
"""Each schema's attributes kept here, with the sub-attributes of the complex ones."""

_READ_ONLY: Final = frozenset({(USER, "emails")})

_REQUIRED: Final = frozenset({(USER, "active")})
"""Every user is enabled or disabled: a request says which (it never removes it)."""

_SUGGESTED: Final[dict[tuple[str, str], list[str]]] = {
    (USER, "locale"): ["en-US", "en-GB", "de-DE", "de-CH", "fr-FR", "fr-CH", "it-IT", "es-ES"],
    (USER, "preferredLanguage"): ["en", "en-US", "de", "fr", "it", "es"],
    (USER, "timezone"): [
        "Europe/Zurich",
        "Europe/London",
        "Europe/Berlin",
        "America/New_York",
        "America/Los_Angeles",
        "Asia/Tokyo",
    ],
}
"""Values a client may pick from (`canonicalValues`: suggestions, never a closed set); a
value outside them is checked as any other (a language tag, an IANA zone)."""


def _narrowed(schema: Schema) -> Schema:
    kept = _KEPT[str(schema.id)]
    attributes: list[Attribute] = []
    for attribute in schema.attributes or []:
        if attribute.name not in kept:
            continue
        changes: dict[str, Any] = {}
        subs = kept[attribute.name]
        if subs is not None:
            changes["sub_attributes"] = [
                _read_only(sub, (str(schema.id), f"{attribute.name}.{sub.name}"))
                for sub in attribute.sub_attributes or []
                if sub.name in subs
            ]
        if (str(schema.id), attribute.name) in _REQUIRED:
            changes["required"] = Required.true
        suggested = _SUGGESTED.get((str(schema.id), attribute.name))
        if suggested is not None:
            changes["canonical_values"] = suggested
        if (str(schema.id), attribute.name) in _READ_ONLY:
            changes["mutability"] = Mutability.read_only
            changes["sub_attributes"] = [
                sub.model_copy(update={"mutability": Mutability.read_only})
                for sub in changes.get("sub_attributes", attribute.sub_attributes or [])
            ]
        attributes.append(attribute.model_copy(update=changes))
    return schema.model_copy(update={"attributes": attributes})


def _read_only(attribute: Attribute, where: tuple[str, str]) -> Attribute:
    if where not in _READ_ONLY:
        return attribute
    return attribute.model_copy(update={"mutability": Mutability.read_only})


def provider(
    *, max_results: int = 1000, max_operations: int = 1000, tolerant: bool = True
) -> ScimProvider:
    """The service: Users (with the enterprise extension) and Groups, and what they keep.

    It announces PATCH, filters (pages of up to `max_results`), sorting,
    ETags, and Bulk requests of up to `max_operations`. `tolerant` reads
    requests as identity providers send them: an attribute this service does
    not keep is left out (Entra's `name.formatted`, `roles`), a PATCH
    `remove` may name the value to remove, and a PATCH of
    `emails[type eq "work"].value` on a user with no such email adds one.
    """
    schemas = {uri: _narrowed(schema) for uri, schema in load_default_schemas().items()}
    resource_types = [
        ResourceType.model_validate(
            {
                "id": "User",
                "name": "User",
                "endpoint": "/Users",
                "description": "A user of the account",
                "schema": USER,
                "schemaExtensions": [{"schema": ENTERPRISE, "required": False}],
            }
        ),
        ResourceType.model_validate(
            {
                "id": "Group",
                "name": "Group",
                "endpoint": "/Groups",
                "description": "A custom role of the account; its members hold it",
                "schema": GROUP,
            }
        ),
    ]
    config = ServiceProviderConfig.model_validate(
        {
            "patch": {"supported": True},
            "bulk": {
                "supported": True,
                "maxOperations": max_operations,
                "maxPayloadSize": 4 * 1024 * 1024,
            },
            "filter": {"supported": True, "maxResults": max_results},
            "changePassword": {"supported": False},
            "sort": {"supported": True},
            "etag": {"supported": True},
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "API client token",
                    "description": "Authorization: Bearer <the API client's token>",
                    "primary": True,
                }
            ],
        }
    )
    policy = (
        ScimPolicy(
            unknown=ScimPolicy.Unknown.ignore,
            remove_value_as_filter=ScimPolicy.RemoveValue.apply,
            unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
        )
        if tolerant
        else ScimPolicy()
    )
    return ScimProvider.from_discovery(
        schemas.values(), resource_types, config=config, policy=policy
    )
