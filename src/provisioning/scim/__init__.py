"""SCIM 2.0 (RFC 7643, 7644) for identity providers: `provisioning[scim]`.

An application mounts `ScimWsgiApp` (or `ScimAsgiApp`) where an identity
provider (Microsoft Entra ID, Okta ...) calls, and gives the provider an API
client's token (`CreateApiClient`). Users are the account's users, Groups
its custom roles; every write is one `plan` and `apply` of the library's
commands, as that client, with its rights. `handle` serves one request
without a web framework. See docs/scim.md.
"""

from provisioning.scim._app import Connection, ScimAsgiApp, ScimWsgiApp, handle
from provisioning.scim._schema import provider
from provisioning.scim._storage import LibraryStorage, to_scim

__all__ = [
    "Connection",
    "LibraryStorage",
    "ScimAsgiApp",
    "ScimWsgiApp",
    "handle",
    "provider",
    "to_scim",
]
