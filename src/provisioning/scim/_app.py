"""The SCIM service as a WSGI application, an ASGI one, and a call with no framework at all."""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, cast

import attrs
from scim2_models import Context as ScimContext
from scim2_models import ResourceType, SearchRequest, UnauthorizedException
from scim2_server.applications.asgi import ASGIApplication
from scim2_server.applications.wsgi import WSGIApplication
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.routing import Operation
from scim2_server.service import ScimService
from scim2_server.storage import SearchPage

from provisioning import Actor, Context, ProvisioningError, queries
from provisioning.scim._schema import provider
from provisioning.scim._storage import Batch, Caller, LibraryStorage, calling
from provisioning.scim._tolerance import tolerated

__all__ = ["Connection", "ScimAsgiApp", "ScimWsgiApp", "handle"]

_BEARER = "bearer "
_LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
_FAILED = HTTPStatus.BAD_REQUEST  # an operation answered with this status or above failed


@attrs.frozen
class Connection:
    """How identity providers connect: what a request may leave out, and what a password does.

    The account and the rights are the API client's that authenticates each
    request (`Authorization: Bearer <its token>`). `bare_names`, a domain,
    lets a `userName` without one (`pat`) stand for `pat@<bare_names>`, and
    shows that domain's users so. `passwords` is `"ignore"` (the default:
    a user sets its own through its set-password link) or `"set"` (a
    password in a request is the user's, checked against the account's
    policy). `max_results` bounds a page of a search, `max_operations` a
    Bulk request. `tolerant` (the default) reads requests as identity
    providers send them (see `provisioning.scim.provider`: an attribute not
    kept is left out, a `manager` may be a bare string, and writes of the
    read-only `emails` are left out); without it, RFC 7643 and 7644 are read
    strictly.
    """

    bare_names: str | None = None
    passwords: str = "ignore"
    max_results: int = 1000
    max_operations: int = 1000
    tolerant: bool = True


def _storage(ctx: Context, connection: Connection) -> tuple[LibraryStorage, Any]:
    scim = provider(
        max_results=connection.max_results,
        max_operations=connection.max_operations,
        tolerant=connection.tolerant,
    )
    storage = LibraryStorage(
        ctx, scim, bare_names=connection.bare_names, passwords=connection.passwords
    )
    return storage, scim


def _caller(ctx: Context, request: ScimRequest) -> Caller:
    """The API client a request's bearer token proves; `UnauthorizedException` otherwise."""
    header = request.header("Authorization") or ""
    if not header[: len(_BEARER)].casefold() == _BEARER:
        raise UnauthorizedException(detail="give the API client's token: Authorization: Bearer")
    try:
        client = queries.client_of_token(ctx, header[len(_BEARER) :].strip())
    except ProvisioningError:
        raise UnauthorizedException(detail="the token is not one of a live API client") from None
    return Caller(
        actor=Actor.client(client.id),
        account_id=client.account_id,
        directory=client.directory_service,
    )


def _needs_caller(service: ScimService, request: ScimRequest) -> bool:
    operation = service.match(request).operation
    return operation not in {
        Operation.service_provider_config,
        Operation.schemas,
        Operation.resource_types,
    }


class _Service(ScimService):
    """scim2-server's service, with a search's list written as it is.

    scim2-server builds the list's message type (`ListResponse` of the
    models) again for every search, which costs more than the search of
    one user by an indexed key; the list is the same JSON envelope,
    written here around the resources scim2-server dumps.
    """

    def search_response(
        self,
        base_url: str,
        resource_types: list[ResourceType],
        page: SearchPage,
        search_request: SearchRequest[Any],
    ) -> ScimResponse:
        """The list of a page of found resources (RFC 7644 §3.4.2)."""
        if search_request.cursor is not None or page.total is None:  # never announced here
            return super().search_response(base_url, resource_types, page, search_request)
        dumped = [
            self.publish(base_url, resource).model_dump(
                scim_ctx=ScimContext.RESOURCE_QUERY_RESPONSE, response_parameters=search_request
            )
            for resource in page.resources
        ]
        body: dict[str, Any] = {
            "schemas": [_LIST_RESPONSE],
            "totalResults": page.total,
            "startIndex": search_request.start_index or 1,
            "itemsPerPage": len(dumped),
            "Resources": dumped,
        }
        return ScimResponse(HTTPStatus.OK, body)


class _OnePlanHandler(ScimHandler):
    """scim2-server's handler, but a Bulk request is one plan, applied once."""

    storage: LibraryStorage

    def bulk(self, request: ScimRequest) -> ScimResponse:
        """Run a Bulk request: collect every operation's commands, plan them together.

        Each operation is routed, resolved (its `bulkId` references name the
        ids its creations were given) and checked by scim2-server as a
        request of its own; its commands are collected, not run. Then one
        plan leaves out the operations that fail (each whole), or stops at
        `failOnErrors`, and the rest is applied in one transaction.
        """
        with self.service.provider:
            self.service.route(request, Operation.bulk)
            steps = self.service.read_bulk(request.body, request.header("Content-Type"))
            batch = Batch()
            with self.storage.collecting(batch):
                for step in steps:
                    batch.start(step.index)
                    result, resource = self.run_bulk_step(request, steps, step)
                    steps.record(step, result, resource)
            failed = {i for i, result in steps.results.items() if result["status"] >= _FAILED}
            failures, cut = (
                self.storage.settle(batch, fail_on_errors=steps.fail_on_errors, failed=failed)
                if batch.commands
                else ({}, set())
            )
            for index, error in failures.items():
                outcome = self.service.bulk_outcome(request.base_url, steps.operations[index])
                steps.results[index] = self.service.bulk_failure(outcome, error)
            for index in cut:
                steps.results.pop(index, None)
            return self.service.bulk_response(steps)


class ScimWsgiApp(WSGIApplication):
    """The SCIM service over a `Context`, as a WSGI application (the standard library's).

    Mount it where the identity provider calls (`https://host/scim/v2`).
    Every request but the discovery endpoints needs an API client's token.

    Examples:
        >>> from provisioning import Context
        >>> app = ScimWsgiApp(Context.in_memory(), Connection(bare_names="acme.example"))
        >>> callable(app)
        True
    """

    def __init__(self, ctx: Context, connection: Connection = Connection()) -> None:
        storage, scim = _storage(ctx, connection)
        super().__init__(storage, scim, _Service(scim))
        self.handler = _OnePlanHandler(self.service, storage)
        self.ctx = ctx
        self.connection = connection

    def check_auth(self, request: ScimRequest) -> None:
        """Every request is checked in `dispatch_request`, as the client it is."""

    def dispatch_request(self, request: ScimRequest) -> ScimResponse:
        """Serve a request as the API client its token proves."""
        if not _needs_caller(self.service, request):
            return self.handler.handle(request)
        caller = _caller(self.ctx, request)
        request.subject = caller
        if self.connection.tolerant and request.body:
            request.body = tolerated(request.body)
        with calling(caller):
            return self.handler.handle(request)


class ScimAsgiApp(ASGIApplication):
    """The SCIM service as an ASGI application: each request is served in a worker thread.

    The library is synchronous; the storage it wraps runs the request as
    the WSGI application does.
    """

    def __init__(self, ctx: Context, connection: Connection = Connection()) -> None:
        self.wsgi = ScimWsgiApp(ctx, connection)
        # Its asynchronous handler is never reached: each request goes to the WSGI
        # application's, in a thread (see dispatch_request).
        super().__init__(cast("Any", self.wsgi.storage), self.wsgi.provider, self.wsgi.service)

    async def dispatch_request(self, request: ScimRequest) -> ScimResponse:
        """Serve a request in a thread, as the WSGI application serves it."""
        import asyncio  # noqa: PLC0415 - only an ASGI server needs it

        return await asyncio.to_thread(self.wsgi.dispatch_request, request)


_APPS: dict[tuple[int, Connection], ScimWsgiApp] = {}
_APPS_LOCK = threading.Lock()


def _app(ctx: Context, connection: Connection) -> ScimWsgiApp:
    """The service of `ctx` and `connection`, made once and let go with `ctx`."""
    key = (id(ctx), connection)
    with _APPS_LOCK:
        app = _APPS.get(key)
        if app is None or app.ctx is not ctx:
            app = _APPS[key] = ScimWsgiApp(ctx, connection)
            weakref.finalize(ctx, _APPS.pop, key, None)
        return app


def handle(  # noqa: PLR0917 - one argument per part of a request
    ctx: Context,
    connection: Connection,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes,
    *,
    base_url: str = "https://localhost/scim/v2",
) -> tuple[int, dict[str, str], bytes]:
    """Serve one request with no web framework: its status, headers and body (JSON bytes).

    `path` is relative to the SCIM root (`/Users/2819c223`, `/v2/Users`),
    `base_url` the root as the client sees it (for `Location` and `$ref`).
    The service of a context and a connection is made on its first request.
    """
    app = _app(ctx, connection)
    request = ScimRequest(
        method=method,
        base_url=base_url,
        path=app.split_path(path if path.startswith("/") else f"/{path}"),
        query=dict(query),
        headers=headers,
        body=body,
    )
    response = app.serve(request)
    data = b"" if response.body is None else json.dumps(response.body).encode()
    return HTTPStatus(response.status).value, dict(response.headers), data
