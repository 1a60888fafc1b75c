"""Requests as identity providers send them, read as this service keeps users.

Two habits of Microsoft Entra ID and Okta, mended before a request is read:

- the enterprise `manager` given as a bare string (the manager's id), not
  as `{"value": ...}`;
- writes of `emails`: a user's emails here are its username and aliases,
  which change through `userName`, so a request's emails are left out
  rather than refused (`emails` is read-only in the published schema).
"""

from __future__ import annotations

import json
from typing import Any, Final

__all__ = ["tolerated"]

_MANAGER: Final = "manager"
_EMAILS: Final = "emails"


def _leaf(path: str) -> str:
    """The attribute a path ends at, without its schema and filters: `manager`, `emails`."""
    tail = path.rpartition(":")[2] if path.startswith("urn:") else path
    return tail.split("[", 1)[0].split(".", 1)[0].casefold()


def _resource(data: Any) -> Any:  # noqa: ANN401 - a JSON value
    """A resource's JSON, its emails left out and a bare manager wrapped."""
    if not isinstance(data, dict):
        return data
    kept = {key: value for key, value in data.items() if _leaf(key) != _EMAILS}
    for key, value in kept.items():
        if _leaf(key) == _MANAGER and isinstance(value, str):
            kept[key] = {"value": value}
        elif key.startswith("urn:") and isinstance(value, dict):
            kept[key] = _resource(value)
    return kept


def _operation(operation: Any) -> Any | None:  # noqa: ANN401 - a JSON value
    """A PATCH operation as kept: None when it only writes emails."""
    if not isinstance(operation, dict):
        return operation
    path = operation.get("path")
    value = operation.get("value")
    if isinstance(path, str):
        if _leaf(path) == _EMAILS:
            return None
        if _leaf(path) == _MANAGER and isinstance(value, str):
            return {**operation, "value": {"value": value}}
        return operation
    if isinstance(value, dict):
        value = _resource(value)
        return {**operation, "value": value} if value else None
    return operation


def tolerated(body: bytes) -> bytes:
    """The body of a request with those habits mended (any other body as it is)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict):
        return body
    operations = data.get("Operations")
    if isinstance(operations, list) and any("PatchOp" in str(s) for s in data.get("schemas", [])):
        data["Operations"] = [kept for op in operations if (kept := _operation(op)) is not None]
        if not data["Operations"]:  # nothing left to change: an empty replace changes nothing
            data["Operations"] = [{"op": "add", "value": {}}]
    elif isinstance(operations, list):  # a Bulk request: each operation's data
        for operation in operations:
            if isinstance(operation, dict) and "data" in operation:
                operation["data"] = json.loads(tolerated(json.dumps(operation["data"]).encode()))
    else:
        data = _resource(data)
    return json.dumps(data).encode()
